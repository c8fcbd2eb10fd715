"""Helpers for the packaging tests: a server started as a subprocess, Chromium, time budgets.

Budgets scale with PHLOEM_TEST_TIME_SCALE (default 1): a slow or busy machine sets it above 1
rather than the tests sleeping for fixed times."""

from __future__ import annotations

import os
import re
import subprocess
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
READY = re.compile(r"Phloem: serving (?P<title>.+) at (?P<url>http://\S+)")


def scaled(seconds: float) -> float:
    return seconds * float(os.environ.get("PHLOEM_TEST_TIME_SCALE", "1"))


@dataclass
class Served:
    url: str
    proc: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)  # stdout and stderr lines so far


@contextmanager
def serve(
    cmd: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    ready: re.Pattern[str] = READY,
    timeout: float = 30,
) -> Iterator[Served]:
    """Run `cmd` (a server), yield once a line of its output matches `ready` (its ``url`` group
    is the address), stop it afterwards. Fails with the server's output if it never gets ready."""
    proc = subprocess.Popen(
        list(cmd),
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    found: list[str] = []
    seen = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            match = ready.search(line)
            if match and not found:
                found.append(match["url"])
                seen.set()
        seen.set()  # the server exited

    threading.Thread(target=read, daemon=True).start()
    try:
        seen.wait(scaled(timeout))
        if not found:
            proc.kill()
            raise AssertionError(
                f"{' '.join(cmd)} did not get ready within {scaled(timeout)} s "
                f"(exit {proc.poll()}):\n{''.join(lines)}"
            )
        yield Served(found[0], proc, lines)
    finally:
        proc.terminate()
        try:
            proc.wait(scaled(10))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


@contextmanager
def chromium() -> Iterator[object]:
    """A headless Debian Chromium through Playwright; expect() waits scale too."""
    from playwright.sync_api import expect, sync_playwright

    if not Path(CHROMIUM).is_file():
        raise AssertionError(f"{CHROMIUM} is missing (apt-get install chromium)")
    expect.set_options(timeout=scaled(10) * 1000)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def npm(*args: str, cwd: Path) -> None:
    done = subprocess.run(["npm", *args], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, f"npm {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
