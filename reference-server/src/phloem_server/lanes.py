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

import _thread
import asyncio
import threading
from collections import deque
from collections.abc import Callable
from queue import SimpleQueue
from typing import Any, TypeVar

T = TypeVar("T")
Key = tuple[str, str]  # (app key, session id): session ids are unique per served app

# Threads are started on demand, up to this many: one per session with app code running at that
# moment (a click's handler runs for well under a millisecond, so even a thousand busy sessions
# rarely need more than a few). Beyond it, sessions wait for a thread: a few slow handlers must
# not make every other session wait, so keep it well above the expected number of slow ones.
MAX_THREADS = 128

# A lane exists while a call of its session runs: the calls waiting behind it, in order.
_lanes: dict[Key, deque[tuple[Callable[[], Any], asyncio.Future[Any]]]] = {}


class _Pool:
    """Threads taking calls from one queue and handing results back to the calling loop.

    Not `loop.run_in_executor`: its concurrent.futures machinery (a Future, a work item, a
    semaphore, a chained asyncio future) cost 2.5x the wall time and CPU of this per hop on the
    2-core reference machine (220 vs 88 us), and every click makes one hop."""

    def __init__(self, limit: int) -> None:
        self._calls: SimpleQueue[tuple[asyncio.AbstractEventLoop, Key, Any, Any]] = SimpleQueue()
        self._limit = limit
        self._threads = 0
        self._idle = 0
        self._lock = threading.Lock()  # guards the two counters

    def warm(self) -> None:
        with self._lock:
            if self._threads:
                return
            self._threads = self._idle = 1
        _start(self._work)

    def submit(self, key: Key, call: Callable[[], Any], future: asyncio.Future[Any]) -> None:
        with self._lock:
            if self._idle:
                self._idle -= 1
                start = False
            else:
                start = self._threads < self._limit
                self._threads += start
        self._calls.put((future.get_loop(), key, call, future))
        if start:
            _start(self._work)

    def _work(self) -> None:
        while True:
            loop, key, call, future = self._calls.get()
            try:
                result = call()
            except BaseException as exc:  # handed to the awaiting coroutine, which raises it
                loop.call_soon_threadsafe(_returned, key, future, None, exc)
            else:
                loop.call_soon_threadsafe(_returned, key, future, result, None)
            with self._lock:
                self._idle += 1


def _start(work: Callable[[], None]) -> None:
    # Not threading.Thread.start: it blocks the caller (the event loop) until the new thread
    # has run, measured at 0.1-0.25 s for the first one in a Daphne process on a busy machine.
    _thread.start_new_thread(work, ())


_pool = _Pool(MAX_THREADS)


def warm() -> None:
    """Start the pool's first thread now (a connection opens), not inside the first hello's
    answer: a new thread takes a while to be scheduled on a busy machine."""
    _pool.warm()


def _returned(
    key: Key, future: asyncio.Future[Any], result: Any, exc: BaseException | None
) -> None:
    """On the loop: a call of ``key``'s lane returned; start the next one, if any."""
    if not future.cancelled():  # the caller went away (a disconnect): the result is dropped
        if exc is not None:
            future.set_exception(exc)
        else:
            future.set_result(result)
    waiting = _lanes[key]
    if waiting:
        call, next_future = waiting.popleft()
        _pool.submit(key, call, next_future)  # run even if its caller went away: it was accepted
    else:
        del _lanes[key]


def idle(app_key: str, session: str) -> bool:
    """Nothing runs or waits in this session's lane: the loop may touch the session itself."""
    return (app_key, session) not in _lanes


async def run(app_key: str, session: str, call: Callable[[], T]) -> T:
    """``call()`` on a pool thread, after every call handed to this session's lane before it.
    Cancelling the caller does not stop the call, nor free the lane before it returns."""
    key = (app_key, session)
    future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
    waiting = _lanes.get(key)
    if waiting is None:
        _lanes[key] = deque()
        _pool.submit(key, call, future)
    else:
        waiting.append((call, future))
    return await future
