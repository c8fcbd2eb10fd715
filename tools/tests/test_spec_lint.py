"""tools/spec_lint.py passes on the real spec and catches each kind of defect in a broken copy."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.subprocess  # starts adapters, servers or tools: not in make test-fast

ROOT = Path(__file__).resolve().parents[2]
LINT = ROOT / "tools" / "spec_lint.py"


def run_lint(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(LINT), "--root", str(root)],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "spec", tmp_path / "spec")
    shutil.copytree(ROOT / "schemas", tmp_path / "schemas")
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text not found in {path}: {old!r}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_real_spec_passes() -> None:
    result = run_lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "spec-lint: ok" in result.stdout


def test_unmodified_copy_passes(copy: Path) -> None:
    result = run_lint(copy)
    assert result.returncode == 0, result.stdout + result.stderr


def test_missing_definition_fails(copy: Path) -> None:
    edit(copy / "spec/1.0/messages/hello.md", "**PHL-HS-001**", "PHL-HS-001")
    result = run_lint(copy)
    assert result.returncode == 1
    assert (
        "PHL-HS-001 is never defined (expected **PHL-HS-001** on spec/1.0/messages/hello.md)"
        in result.stdout
    )


def test_second_definition_fails(copy: Path) -> None:
    edit(copy / "spec/1.0/handshake.md", "(PHL-HS-001, PHL-HS-011)", "(**PHL-HS-001**, PHL-HS-011)")
    result = run_lint(copy)
    assert result.returncode == 1
    assert "PHL-HS-001 is defined 2 times" in result.stdout
    assert (
        "PHL-HS-001 is defined here but requirements.yaml puts it on spec/1.0/messages/hello.md"
        in result.stdout
    )


def test_unknown_id_cited_in_spec_fails(copy: Path) -> None:
    edit(copy / "spec/1.0/tree.md", "(PHL-EVT-006)", "(PHL-EVT-999)")
    result = run_lint(copy)
    assert result.returncode == 1
    assert "spec/1.0/tree.md:" in result.stdout
    assert "PHL-EVT-999 is not in spec/requirements.yaml" in result.stdout


def test_unknown_id_cited_in_schema_fails(copy: Path) -> None:
    edit(copy / "schemas/1.0/messages/ping.schema.json", "PHL-PING-001", "PHL-PING-404")
    result = run_lint(copy)
    assert result.returncode == 1
    assert "schemas/1.0/messages/ping.schema.json:" in result.stdout
    assert "PHL-PING-404 is not in spec/requirements.yaml" in result.stdout


def test_lowercase_keyword_in_normative_page_fails(copy: Path) -> None:
    edit(copy / "spec/1.0/tree.md", "A server omits empty", "A server should omit empty")
    result = run_lint(copy)
    assert result.returncode == 1
    assert 'lower-case "should" in a normative page' in result.stdout


def test_lowercase_keyword_in_primer_passes(copy: Path) -> None:
    with (copy / "spec/primer.md").open("a", encoding="utf-8") as primer:
        primer.write("\nA renderer should feel fast, and you must try it.\n")
    result = run_lint(copy)
    assert result.returncode == 0, result.stdout


def test_uppercase_keyword_without_id_fails(copy: Path) -> None:
    edit(copy / "spec/1.0/tree.md", "A server omits empty", "A server MUST omit empty")
    result = run_lint(copy)
    assert result.returncode == 1
    assert (
        '"MUST" in a sentence without a requirement id: A server MUST omit empty' in result.stdout
    )


def test_definition_without_its_level_keyword_fails(copy: Path) -> None:
    edit(
        copy / "spec/1.0/tree.md",
        "node stands for the same piece of user interface.",
        "node stands for it.",
    )
    edit(
        copy / "spec/1.0/tree.md",
        "A server SHOULD keep a node's id",
        "A server MUST keep a node's id",
    )
    result = run_lint(copy)
    assert result.returncode == 1
    assert "PHL-TREE-006 is a SHOULD requirement but its sentence lacks SHOULD" in result.stdout


def test_broken_link_fails(copy: Path) -> None:
    edit(copy / "spec/1.0/tree.md", "(messages/ui.snapshot.md)", "(messages/ui.snapshots.md)")
    edit(
        copy / "spec/1.0/tree.md",
        "(components/index.md#props)",
        "(components/index.md#no-such-heading)",
    )
    result = run_lint(copy)
    assert result.returncode == 1
    assert "broken link: messages/ui.snapshots.md" in result.stdout
    assert (
        "broken link: components/index.md#no-such-heading (no heading #no-such-heading)"
        in result.stdout
    )


def test_malformed_requirement_entry_fails(copy: Path) -> None:
    edit(
        copy / "spec/requirements.yaml",
        "  level: MAY\n  profile: core\n",
        "  level: COULD\n  profile: core\n",
    )
    edit(copy / "spec/requirements.yaml", "- id: PHL-VER-003\n", "- id: PHL-VER-3\n")
    result = run_lint(copy)
    assert result.returncode == 1
    assert "level 'COULD' is not one of MUST, SHOULD, MAY" in result.stdout
    assert "PHL-VER-3: id is not of the form PHL-<AREA>-<NNN>" in result.stdout
