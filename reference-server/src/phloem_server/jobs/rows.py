"""The embedded pool's Job rows: what its supervisor has the writer thread record (durable
first: a job's row is created and claimed before its reports go out; its end is committed
before it is announced), and what it finds live at start after a crash.

A mixin of :class:`~phloem_server.jobs.embedded.ProcessBackend`: the methods run on the writer
thread, and those that return a callable have it called after the commit (`writer`)."""

from __future__ import annotations

import collections
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from phloem.jobs import JobError, JobOptions, JobSpec, JobUpdate

from . import store
from .mirror import Mirror
from .writer import Writer

if TYPE_CHECKING:
    from .embedded import _Commands

log = logging.getLogger("phloem_server.jobs.embedded")
BACKEND = "embedded"
RETRIES = 3  # attempts of a job declared safe to retry, before it ends interrupted


class Rows:
    sink: Callable[[JobUpdate], None]
    app_path: str
    mirror: Mirror
    writer: Writer
    _queue: collections.deque[JobSpec]
    _commands: _Commands

    def cancel(self, job_id: str, grace: float) -> None:
        raise NotImplementedError

    def _wake(self) -> None:
        raise NotImplementedError

    def _recover(self) -> None:
        """Jobs a previous server process left live: its workers died with it. Report them
        interrupted, or run them again when that is safe (queued ones always are)."""
        for job in store.live([BACKEND], self.app_path):
            options = options_of(job)
            if job.state == store.State.QUEUED:
                spec = spec_of(job, job.attempt + 1, options)
                self._queue.append(spec)
                continue
            if store.requeue(job.id, job.attempt):  # a new attempt; the table drops the old one's
                self._queue.append(spec_of(job, job.attempt + 1, options))
            elif store.finish(job.id, job.attempt, "interrupted"):
                self.sink(JobUpdate(job.id, "interrupted", job.attempt))
            log.info("job %s (%s) was running when the server stopped", job.id, job.name)

    def _record_new(self, spec: JobSpec) -> None:
        self.writer.put(lambda: self._create(spec))

    def _create(self, spec: JobSpec) -> Callable[[], None] | None:
        """The job's row (writer thread); a job that cannot be recorded is not run."""
        try:
            store.create(
                spec.job_id, spec.owner, self.app_path, spec.name, spec.params,
                backend=BACKEND, retry_safe=spec.options.retry,
                max_attempts=RETRIES if spec.options.retry else 1, grace=spec.options.grace,
            )  # fmt: skip
        except Exception as exc:  # e.g. parameters that cannot be pickled
            log.exception("could not record job %s", spec.job_id)
            error = JobError(f"the job could not be queued: {exc}", type(exc).__name__)
            self.cancel(spec.job_id, 0.1)  # it must not run (it may have started already)
            return lambda: self.sink(JobUpdate(spec.job_id, "failed", spec.attempt, error=error))
        return None

    def _claim(self, spec: JobSpec, worker_name: str) -> Callable[[], None] | None:
        if store.claim(spec.job_id, spec.attempt, worker_name):
            return lambda: self._commit_seen(spec.job_id)
        # Not claimable: its row was cancelled (the admin, another process) or is missing.
        return lambda: self.cancel(spec.job_id, 0.1)

    def _commit_seen(self, job_id: str) -> None:
        """The job's row is committed as running (writer thread): release its reports."""
        self._commands.claimed.append(job_id)
        self._wake()

    def _record(self, update: JobUpdate) -> None:
        self.mirror.record(update)

    def _record_end(self, update: JobUpdate, latest: JobUpdate | None) -> Callable[[], None] | None:
        if latest is not None:
            store.beat(update.job_id, update.attempt, Mirror.fields(latest))
        if self.mirror.record(update):
            return lambda: self.sink(update)
        return None

    def _requeue(self, spec: JobSpec) -> None:
        store.requeue(spec.job_id, spec.attempt)

    def _renew(self, beats: list[tuple[JobSpec, JobUpdate | None]]) -> Callable[[], None] | None:
        """Renew the leases (writer thread); a cancel flagged on a row (the admin, another
        process) is passed on to its job."""
        flags = store.beat_many(
            [
                (spec.job_id, spec.attempt, Mirror.fields(latest) if latest else None)
                for spec, latest in beats
            ]
        )
        flagged = [spec for spec, _ in beats if flags.get(spec.job_id)]
        if not flagged:
            return None

        def cancel() -> None:
            for spec in flagged:
                self.cancel(spec.job_id, spec.options.grace)

        return cancel

    def _end(self, spec: JobSpec, state: str) -> None:
        """End a job its worker cannot report for (queued, hard-stopped, dead)."""

        def write() -> Callable[[], None] | None:
            self.mirror.forget(spec.job_id, spec.attempt)
            if store.finish(spec.job_id, None, state):
                update = JobUpdate(spec.job_id, state, spec.attempt)  # type: ignore[arg-type]
                return lambda: self.sink(update)
            return None

        self.writer.put(write)


def next_attempt(spec: JobSpec) -> JobSpec:
    return JobSpec(
        job_id=spec.job_id, name=spec.name, params=spec.params, owner=spec.owner,
        app=spec.app, attempt=spec.attempt + 1, options=spec.options,
    )  # fmt: skip


def options_of(job: Any) -> JobOptions:
    return JobOptions(grace=job.grace, retry=job.retry_safe)


def spec_of(job: Any, attempt: int, options: Any) -> JobSpec:
    return JobSpec(
        job_id=job.id, name=job.name, params=store.params(job), owner=job.owner,
        app=job.app, attempt=attempt, options=options,
    )  # fmt: skip
