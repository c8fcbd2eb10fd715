"""A released protocol version cannot change: tools/frozen.py catches an edit, an added file
and a removed one in a copy of the repository's spec and schemas."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import frozen

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "spec", tmp_path / "spec")
    shutil.copytree(ROOT / "schemas", tmp_path / "schemas")
    return tmp_path


def test_the_released_versions_are_unchanged() -> None:
    assert (ROOT / "spec" / "1.0" / frozen.MANIFEST).is_file()
    assert frozen.check(ROOT) == []


def test_an_edited_page_fails(copy: Path) -> None:
    page = copy / "spec" / "1.0" / "transport.md"
    page.write_text(page.read_text() + "\nA new rule.\n")
    assert frozen.check(copy) == ["spec/1.0/transport.md: changed in frozen protocol 1.0"]


def test_an_added_schema_and_a_removed_page_fail(copy: Path) -> None:
    (copy / "schemas" / "1.0" / "components" / "New.schema.json").write_text("{}")
    (copy / "spec" / "1.0" / "transport.md").unlink()
    assert frozen.check(copy) == [
        "schemas/1.0/components/New.schema.json: added to frozen protocol 1.0",
        "spec/1.0/transport.md: removed from frozen protocol 1.0",
    ]


def test_a_draft_version_is_free_to_change(copy: Path) -> None:
    page = copy / "spec" / "1.1" / "jobs.md"
    page.write_text(page.read_text() + "\nA draft rule.\n")
    assert frozen.check(copy) == []
