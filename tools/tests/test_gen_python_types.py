"""tools/gen_python_types.py: the committed wire modules (1.0's models, 1.1's TypedDicts and
constants) are what the schemas generate, ``--check`` fails on a stale one, and a schema the
constants cannot be read from fails generation loudly."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TOOLS))

import gen_python_types  # noqa: E402

pytestmark = [pytest.mark.subprocess]  # runs datamodel-codegen and ruff: not in make test-fast


def _check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TOOLS / "gen_python_types.py"), "--check", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_every_committed_module_is_fresh() -> None:
    done = _check()
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr


@pytest.mark.parametrize(
    ("version", "before", "after", "token"),
    [
        ("1.0", 'Literal["ui.patch"]', 'Literal["ui.patched"]', "ui.patched"),
        ("1.1", '"interrupted",\n)', '"interrupted",\n    "paused",\n)', "paused"),
        ("1.1", '"job_log_lines")', '"job_log_lines", "job_tail")', "job_tail"),
    ],
)
def test_the_check_fails_on_a_stale_module(
    tmp_path: Path, version: str, before: str, after: str, token: str
) -> None:
    committed = gen_python_types.TARGETS[version].read_text(encoding="utf-8")
    assert before in committed
    copy = tmp_path / "wire.py"
    copy.write_text(committed.replace(before, after, 1), encoding="utf-8")
    done = _check("--version", version, "--out", str(copy))
    assert done.returncode == 1
    stale = [
        line for line in done.stdout.splitlines() if line.startswith("-") and "---" not in line
    ]
    assert "is stale" in done.stderr and stale  # with the diff of what differs
    assert any(token in line for line in stale), stale
    copy.write_text(committed, encoding="utf-8")  # the control: the same file, unchanged, passes
    assert _check("--version", version, "--out", str(copy)).returncode == 0


def test_terminal_states_the_enum_lacks_fail_generation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    schemas = tmp_path / "schemas"
    shutil.copytree(gen_python_types.SCHEMAS, schemas)
    path = schemas / "1.1" / "defs" / "job-state.schema.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    schema["x-phloem"]["terminal"].append("paused")
    path.write_text(json.dumps(schema), encoding="utf-8")
    monkeypatch.setattr(gen_python_types, "SCHEMAS", schemas)
    with pytest.raises(SystemExit, match="terminal"):
        gen_python_types.jobs_constants()
