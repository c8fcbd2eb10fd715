"""Where app code runs: off the event loop, in one lane per session (issue 7 §1).

The runtime hands app code to the shell as ``phloem.runtime.Run`` effects. Each session has a
lane: its calls run one at a time, in the order they were handed out (PHL-EVT-009), on a thread
of a shared pool, while the event loop goes on serving every other connection, its heartbeats
and its silence timers. A lane exists only while it has calls in flight.

Threads, not processes: handlers share the session's state and the app's module globals, which
a process pool would have to pickle and could not share. The cost is the GIL: pure-Python CPU in
one handler still competes with the loop thread for the interpreter. `servers.run` lowers the
interpreter's switch interval so that the loop gets it back within about a millisecond rather
than five (measured in bench/bench_blocking.py). Handlers that wait (sleep, I/O, a database)
or spend their time in C code that releases the GIL (numpy, pandas, most of scikit-learn) leave
the loop fully free.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

# Threads are started on demand, up to this many: one per session with app code running at that
# moment (a click's handler runs for well under a millisecond, so even a thousand busy sessions
# rarely need more than a few). Beyond it, sessions wait for a thread: a few slow handlers must
# not make every other session wait, so keep it well above the expected number of slow ones.
MAX_THREADS = 128

_pool: ThreadPoolExecutor | None = None
_locks: dict[tuple[str, str], asyncio.Lock] = {}
_waiting: dict[tuple[str, str], int] = {}


def pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(MAX_THREADS, thread_name_prefix="phloem-app")
    return _pool


def idle(app_key: str, session: str) -> bool:
    """Nothing runs or waits in this session's lane: the loop may touch the session itself."""
    return (app_key, session) not in _waiting


async def run(app_key: str, session: str, call: Callable[[], T]) -> T:
    """``call()`` on a pool thread, after every call handed to this session's lane before it."""
    key = (app_key, session)
    lock = _locks.get(key)
    if lock is None:
        lock = _locks[key] = asyncio.Lock()
    _waiting[key] = _waiting.get(key, 0) + 1
    try:
        async with lock:  # asyncio.Lock is fair: waiters acquire it in arrival order
            return await asyncio.get_running_loop().run_in_executor(pool(), call)
    finally:
        left = _waiting[key] - 1
        if left:
            _waiting[key] = left
        else:
            del _waiting[key], _locks[key]
