"""One thread that does a job backend's database writes, in order and in batches.

A database commit is slow next to a job's progress (SQLite fsyncs a commit unless in WAL mode:
~15-30 ms measured on the 2-core reference machine under load), so the embedded backend never waits for one on
the way from a worker's report to the browser. Its writes queue here; everything queued while
the previous batch was committing goes in the next batch, one transaction (each write in its
own savepoint, so one bad write loses only itself). A write may return a callback to run once
its batch is committed: that is how a terminal update is delivered only after it is durable
(docs/design/jobs-1.1.md §3: durable first, doorbell second)."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from django.db import connection, transaction

log = logging.getLogger(__name__)
Write = Callable[[], Callable[[], None] | None]
BATCH = 500  # writes per transaction at most: bounds how long one commit holds the lock


class Writer:
    def __init__(self, name: str = "phloem-job-writer") -> None:
        self._queue: queue.SimpleQueue[Write | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def put(self, write: Write) -> None:
        """Queue a write (any thread); it runs after every write queued before it."""
        self._queue.put(write)

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every write queued so far is committed (tests, shutdown)."""
        done = threading.Event()

        def mark() -> Callable[[], None]:
            return done.set

        self._queue.put(mark)
        return done.wait(timeout)

    def stop(self, timeout: float = 30.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < BATCH:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch.append(more)
            for callback in self._commit(batch):
                try:
                    callback()
                except Exception:
                    log.exception("a job callback failed after its write")
            if stop:
                return

    def _commit(self, batch: list[Write]) -> list[Callable[[], None]]:
        after: list[Callable[[], None]] = []
        try:
            # One connection for the thread's life: not close_old_connections() per batch,
            # which under CONN_MAX_AGE = 0 reopened SQLite (and re-registered its functions)
            # for every batch, the writer's largest cost with 100 busy jobs (py-spy). A
            # connection the database broke is dropped when a batch fails (below).
            with transaction.atomic():
                for write in batch:
                    try:
                        with transaction.atomic():
                            callback = write()
                    except Exception:
                        log.exception("a job write failed; the others in its batch stand")
                        continue
                    if callback is not None:
                        after.append(callback)
        except Exception:
            log.exception("a batch of %d job writes failed", len(batch))
            connection.close()  # the next batch opens a fresh one (the server may have gone)
            return []
        return after
