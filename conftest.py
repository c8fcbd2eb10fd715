"""Test tiers: a test is fast unless a marker says what it needs; a fast test that does I/O fails.

`make test-fast` runs the tests marked with none of ``IO_MARKERS`` (``pytest -m "not (...)"``):
unit tests that start no program, open no socket and sleep no real time, for the edit-test
loop. `make test` runs every test. A test (or a module, with ``pytestmark``) says what it
needs with one of the markers below; an unmarked test that starts a process, opens a network
connection or sleeps is failed here, in every run, with the marker to add. So the fast tier
cannot silently grow slow, and a misclassified test is found the first time it runs.

Setup and call are guarded, not teardown: a module's server fixture, set up by a marked test,
may be torn down after an unmarked one.

What counts: starting a process (``subprocess``, ``asyncio`` subprocesses, ``os.fork``,
``os.system``, ``multiprocessing``), ``connect``/``bind``/``sendto`` on a socket (an asyncio
event loop's internal socketpair is neither), ``time.sleep`` longer than ``SLEEP_ALLOWANCE``.
"""

from __future__ import annotations

import _posixsubprocess  # type: ignore[import-not-found]
import os
import socket
import subprocess
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

# browser and redis imply processes and sockets; the other two say which of them a test needs.
IO_MARKERS = ("browser", "redis", "subprocess", "socket")
# A sleep this short is a yield inside library code (a retry's back-off), not a test waiting
# for time to pass; anything longer in a fast test belongs on a fake clock.
SLEEP_ALLOWANCE = 0.01


class TierViolation(Exception):
    """A fast-tier test did I/O; raised where it happened and reported when the test ends."""


def _io_marked(item: pytest.Item) -> bool:
    return any(item.get_closest_marker(name) for name in IO_MARKERS)


@contextmanager
def _guarded() -> Iterator[list[str]]:
    """Within: process, socket and sleep entry points record and refuse what a fast test does."""
    seen: list[str] = []
    originals: list[tuple[Any, str, Any]] = []

    def refuse(what: str, marker: str) -> Callable[..., Any]:
        def refused(*args: Any, **kwargs: Any) -> Any:
            message = f"{what}: a fast-tier test does no I/O; mark it @pytest.mark.{marker}"
            seen.append(message)
            raise TierViolation(message)

        return refused

    def patch(owner: Any, name: str, replacement: Any) -> None:
        originals.append((owner, name, getattr(owner, name)))
        setattr(owner, name, replacement)

    process = "subprocess"
    patch(subprocess.Popen, "_execute_child", refuse("started a process", process))
    patch(_posixsubprocess, "fork_exec", refuse("started a process", process))
    for name in ("fork", "forkpty", "system", "posix_spawn", "posix_spawnp"):
        patch(os, name, refuse(f"os.{name}", process))
    for name in ("connect", "connect_ex", "bind", "sendto"):
        patch(socket.socket, name, refuse(f"socket.{name}", "socket"))
    real_sleep = time.sleep

    def sleep(seconds: float) -> None:
        if seconds > SLEEP_ALLOWANCE:
            message = (
                f"time.sleep({seconds:g}): a fast-tier test waits for no real time; drive a fake"
                " clock (or mark it with what it needs)"
            )
            seen.append(message)
            raise TierViolation(message)
        real_sleep(seconds)

    patch(time, "sleep", sleep)
    try:
        yield seen
    finally:
        for owner, name, original in reversed(originals):
            setattr(owner, name, original)


def _phase(item: pytest.Item) -> Generator[None, None, None]:
    if _io_marked(item):
        yield
        return
    with _guarded() as seen:
        try:
            yield
        finally:
            # Also when the code under test caught the TierViolation and went on.
            if seen:
                pytest.fail(f"{item.nodeid}: {seen[0]}", pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    return (yield from _phase(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    return (yield from _phase(item))


# Property tests: how fast examples are generated and run varies with the machine, whether
# they hold does not, so no deadline and no too_slow check (a loaded 2-core machine tripped
# the 200 ms default). The fast tier runs fewer examples (make test-fast passes
# --hypothesis-profile=fast); make test keeps Hypothesis's default hundred.
settings.register_profile("phloem", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("fast", parent=settings.get_profile("phloem"), max_examples=20)
settings.load_profile("phloem")
