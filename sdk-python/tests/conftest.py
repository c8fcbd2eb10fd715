"""Fixtures for the SDK tests; the helpers live in sdk_support."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sdk_support import Wire


@pytest.fixture
def wire() -> Iterator[Wire]:
    yield Wire()


@pytest.fixture
def opened() -> Iterator[Wire]:
    w = Wire()
    w.hello()
    yield w
