from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
CONFORMANCE = TESTS.parent
REPO = CONFORMANCE.parent


def python_command(script: Path, *args: str) -> str:
    return shlex.join([sys.executable, str(script), *args])


@pytest.fixture(scope="session")
def fake_sdk() -> Path:
    return TESTS / "fake_sdk.py"


@pytest.fixture(scope="session")
def fake_renderer() -> Path:
    return TESTS / "fake_renderer.py"
