"""The fast tier's guard (the repository's root conftest.py): an unmarked test that starts a
process, opens a socket or sleeps is refused, with the marker to add; a marked one is not."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import time
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _tiers() -> ModuleType:
    # Loaded under its own name: `conftest` in sys.modules is whichever tests folder's came last.
    spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TIERS = _tiers()


def test_a_process_is_refused_with_the_marker_to_add() -> None:
    with TIERS._guarded() as seen, pytest.raises(TIERS.TierViolation, match="subprocess"):
        subprocess.run(["true"], check=False)
    assert seen == [
        "started a process: a fast-tier test does no I/O; mark it @pytest.mark.subprocess"
    ]


def test_fork_and_system_are_refused() -> None:
    for call in (lambda: os.fork(), lambda: os.system("true")):  # looked up inside the guard
        with TIERS._guarded() as seen, pytest.raises(TIERS.TierViolation):
            call()
        assert len(seen) == 1


def test_a_connection_is_refused_but_a_socketpair_is_not() -> None:
    left, right = socket.socketpair()  # what an asyncio event loop makes for itself
    with TIERS._guarded() as seen:
        left.sendall(b"x")
        assert right.recv(1) == b"x"
        with socket.socket() as s, pytest.raises(TIERS.TierViolation, match="socket"):
            s.connect(("127.0.0.1", 9))
    left.close()
    right.close()
    assert seen == ["socket.connect: a fast-tier test does no I/O; mark it @pytest.mark.socket"]


def test_a_real_sleep_is_refused_a_yield_is_not() -> None:
    with TIERS._guarded() as seen:
        time.sleep(0)
        with pytest.raises(TIERS.TierViolation, match="fake"):
            time.sleep(0.5)
    assert len(seen) == 1


def test_everything_is_restored_after() -> None:
    before = (subprocess.Popen._execute_child, socket.socket.connect, time.sleep, os.fork)  # type: ignore[attr-defined]
    with TIERS._guarded():
        pass
    after = (subprocess.Popen._execute_child, socket.socket.connect, time.sleep, os.fork)  # type: ignore[attr-defined]
    assert before == after


@pytest.mark.subprocess
def test_a_marked_test_may_start_a_process() -> None:
    assert subprocess.run(["true"], check=False).returncode == 0
