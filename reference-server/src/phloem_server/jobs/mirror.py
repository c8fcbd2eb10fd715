"""Mirrors a backend's JobUpdates into the Job table, durable first: an update is delivered
to sessions only after it is recorded, so whatever a client saw, a reload, another server
process or a restart reads too (a terminal state above all).

Progress is written at most every ``persist_every`` seconds per job (a write per progress
update would cost more than the job; the latest value is at most that old in the table, and
exact in the live stream). Log lines and lifecycle changes are written as they come. Every
write names the update's attempt, so a stale attempt's updates are refused (``record`` returns
False and the update must not be delivered)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from phloem.jobs import TERMINAL, JobUpdate

from . import store

PERSIST_EVERY = 1.0  # seconds between progress writes of one job; also its heartbeat


class Mirror:
    def __init__(
        self, persist_every: float = PERSIST_EVERY, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.persist_every = persist_every
        self.clock = clock
        self._saved: dict[tuple[str, int], float] = {}  # (job, attempt) -> last write
        self._latest: dict[tuple[str, int], dict[str, Any]] = {}  # unsaved progress

    @staticmethod
    def fields(update: JobUpdate) -> dict[str, Any]:
        """A progress update as the Job row's fields."""
        return {
            "progress": update.fraction,
            "done": update.done,
            "total": update.total,
            "stage": update.stage or "",
            "message": update.message or "",
        }

    def record(self, update: JobUpdate) -> bool:
        key = (update.job_id, update.attempt)
        kind = update.kind
        if kind == "progress":
            self._latest[key] = self.fields(update)
            if self.clock() - self._saved.get(key, 0.0) < self.persist_every:
                return True
            return self.beat(update.job_id, update.attempt) is not None
        if kind == "log":
            return store.append_log(update.job_id, update.attempt, update.lines) is not None
        if kind == "running":
            self._saved[key] = self.clock()
            return store.beat(update.job_id, update.attempt) is not None
        if kind in TERMINAL:
            self._saved.pop(key, None)
            latest = self._latest.pop(key, None)
            if latest is not None:
                store.beat(update.job_id, update.attempt, latest)
            return store.finish(
                update.job_id, update.attempt, kind, result=update.result, error=update.error
            )
        raise ValueError(f"unknown job update kind {kind!r}")

    def beat(self, job_id: str, attempt: int) -> bool | None:
        """Renew a running job's lease with its latest progress: whether a cancel was
        requested, None when the attempt no longer owns the job."""
        key = (job_id, attempt)
        self._saved[key] = self.clock()
        flag = store.beat(job_id, attempt, self._latest.pop(key, None))
        if flag is None:
            self._saved.pop(key, None)
        return flag

    def forget(self, job_id: str, attempt: int) -> None:
        self._saved.pop((job_id, attempt), None)
        self._latest.pop((job_id, attempt), None)
