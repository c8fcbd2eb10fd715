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
import threading
from collections.abc import Callable
from queue import SimpleQueue
from typing import Any, TypeVar

T = TypeVar("T")

# Threads are started on demand, up to this many: one per session with app code running at that
# moment (a click's handler runs for well under a millisecond, so even a thousand busy sessions
# rarely need more than a few). Beyond it, sessions wait for a thread: a few slow handlers must
# not make every other session wait, so keep it well above the expected number of slow ones.
MAX_THREADS = 128

_locks: dict[tuple[str, str], asyncio.Lock] = {}
_waiting: dict[tuple[str, str], int] = {}


class _Pool:
    """Threads taking calls from one queue and handing results back to the calling loop.

    Not `loop.run_in_executor`: its concurrent.futures machinery (a Future, a work item, a
    semaphore, a chained asyncio future) cost 2.5x the wall time and CPU of this per hop on the
    2-core reference machine (220 vs 88 us), and every click makes one hop."""

    def __init__(self, limit: int) -> None:
        self._calls: SimpleQueue[tuple[asyncio.AbstractEventLoop, asyncio.Future[Any], Any]] = (
            SimpleQueue()
        )
        self._limit = limit
        self._threads = 0
        self._idle = 0
        self._lock = threading.Lock()  # guards the two counters

    def submit(self, call: Callable[[], T]) -> asyncio.Future[T]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        with self._lock:
            if self._idle:
                self._idle -= 1
                start = False
            else:
                start = self._threads < self._limit
                self._threads += start
        self._calls.put((loop, future, call))
        if start:
            threading.Thread(target=self._work, name="phloem-app", daemon=True).start()
        return future

    def _work(self) -> None:
        while True:
            loop, future, call = self._calls.get()
            try:
                result = call()
            except BaseException as exc:  # handed to the awaiting coroutine, which raises it
                loop.call_soon_threadsafe(_settle, future, None, exc)
            else:
                loop.call_soon_threadsafe(_settle, future, result, None)
            with self._lock:
                self._idle += 1


def _settle(future: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if future.cancelled():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)


_pool = _Pool(MAX_THREADS)


def idle(app_key: str, session: str) -> bool:
    """Nothing runs or waits in this session's lane: the loop may touch the session itself."""
    return (app_key, session) not in _waiting


async def run(app_key: str, session: str, call: Callable[[], T]) -> T:
    """``call()`` on a pool thread, after every call handed to this session's lane before it.
    Cancelling the caller does not stop the call: the lane stays taken until it returns."""
    key = (app_key, session)
    lock = _locks.get(key)
    if lock is None:
        lock = _locks[key] = asyncio.Lock()
    _waiting[key] = _waiting.get(key, 0) + 1
    try:
        await lock.acquire()  # asyncio.Lock is fair: waiters acquire it in arrival order
    except BaseException:
        _leave(key, None)
        raise
    future = _pool.submit(call)
    future.add_done_callback(lambda _: _leave(key, lock))
    return await asyncio.shield(future)


def _leave(key: tuple[str, str], lock: asyncio.Lock | None) -> None:
    if lock is not None:
        lock.release()
    left = _waiting[key] - 1
    if left:
        _waiting[key] = left
    else:
        del _waiting[key], _locks[key]
