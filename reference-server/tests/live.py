"""`phloem run` as a subprocess on a free loopback port, for tests that need a real server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

READY = re.compile(r"Phloem: serving (?P<title>.+) at (?P<url>http://\S+)")


@dataclass(frozen=True)
class Running:
    url: str  # http://127.0.0.1:PORT
    pid: int
    title: str

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1) + "/phloem/ws"


@contextmanager
def phloem_run(
    app: Path, data_dir: Path, server: str | None = None, timeout: float = 30
) -> Iterator[Running]:
    """Yields the running server once it listens."""
    cmd = [sys.executable, "-m", "phloem_server.cli", "run", str(app), "--port", "0"]
    if server:
        cmd += ["--server", server]
    env = {**os.environ, "PHLOEM_DATA_DIR": str(data_dir)}
    env.pop("DJANGO_SETTINGS_MODULE", None)  # the embedded settings, not the tests'
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stderr: list[str] = []
    threading.Thread(target=lambda: stderr.extend(proc.stderr), daemon=True).start()
    try:
        title, url = _wait_ready(proc, timeout, stderr)
        yield Running(url, proc.pid, title)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()


def _wait_ready(proc: subprocess.Popen[str], timeout: float, stderr: list[str]) -> tuple[str, str]:
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    lines: list[str] = []
    # readline blocks; the server prints its ready line promptly or exits, so a reader
    # thread with a deadline is enough.
    found: list[tuple[str, str]] = []

    def read() -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            lines.append(line)
            match = READY.search(line)
            if match:
                found.append((match["title"], match["url"]))
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(max(0.0, deadline - time.monotonic()))
    if not found:
        proc.kill()
        raise RuntimeError(
            f"`phloem run` did not report listening within {timeout} s "
            f"(exit {proc.poll()}).\nstdout:\n{''.join(lines)}\nstderr:\n{''.join(stderr)}"
        )
    return found[0]
