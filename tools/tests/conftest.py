"""Fixtures shared by the packaging tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging_support import REPO, npm


@pytest.fixture(scope="session")
def tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`npm pack` of @phloem/react (its prepack builds lib/), once per test session."""
    out = tmp_path_factory.mktemp("npm")
    npm("pack", "--silent", "--pack-destination", str(out), cwd=REPO / "renderer-react")
    (found,) = out.glob("*.tgz")
    return found
