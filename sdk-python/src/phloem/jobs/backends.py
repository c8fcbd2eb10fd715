"""Backends of the SDK: :class:`InlineBackend` (runs queued jobs in the caller's thread when
told to: deterministic tests) and :class:`ThreadBackend` (a small thread pool: development,
notebooks, fixtures). The server's process and Celery backends implement the same
:class:`Backend` protocol (docs/design/jobs-1.1.md §9).

A backend is built with a *sink*, ``sink(update)``, that it may call from any thread it owns;
the shell carries each update to ``hub.jobs.apply(update, now)`` on its loop.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from phloem.jobs.inline import InlineBackend
from phloem.jobs.job import Job
from phloem.jobs.model import TERMINAL, JobSpec, JobUpdate
from phloem.jobs.reporter import Reporter, Sink, execute

__all__ = ["Backend", "InlineBackend", "ThreadBackend"]

Clock = Callable[[], float]
# (delay seconds, callback) -> started timer; injected so tests fire the hard stop by hand.
TimerFactory = Callable[[float, Callable[[], None]], Any]


class Backend(Protocol):
    def submit(self, spec: JobSpec) -> None:
        """Queue the job; never block. Report through the sink: ``running``, then progress
        and log, then exactly one terminal update."""

    def cancel(self, job_id: str, grace: float) -> None:
        """Ask the job to stop; never block. A job that has not started never starts. A
        running one gets the cooperative cancel at once and is stopped hard after ``grace``
        seconds; either way its terminal update is sent within ``grace`` + a few seconds."""

    def shutdown(self) -> None:
        """Stop taking jobs; running ones are reported ``interrupted`` if they cannot
        finish."""


class ThreadBackend:
    """Runs each job on a pool thread. A thread cannot be killed: at the grace deadline of a
    cancel it reports ``cancelled``, abandons the thread and drops whatever it still reports
    (the job keeps a core until it returns). For code that never checks, use the server's
    process backend."""

    def __init__(
        self,
        jobs: Mapping[str, Job],
        sink: Sink,
        *,
        workers: int = 4,
        clock: Clock = time.perf_counter,
        timer: TimerFactory | None = None,
    ) -> None:
        self.jobs = jobs
        self._sink = sink
        self._clock = clock
        self._timer = timer or _start_timer
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="phloem-job")
        self._lock = threading.Lock()
        self._specs: dict[str, JobSpec] = {}
        self._reporters: dict[str, Reporter] = {}  # running jobs
        self._ended: set[str] = set()  # reported terminal (or abandoned): drop the rest
        self._cancelled: set[str] = set()  # cancelled before they started

    def submit(self, spec: JobSpec) -> None:
        with self._lock:
            self._specs[spec.job_id] = spec
        self._pool.submit(self._run, spec)

    def _report(self, job_id: str, update: JobUpdate) -> None:
        with self._lock:
            if job_id in self._ended:
                return  # abandoned after a hard stop: nothing after the terminal update
            if update.kind in TERMINAL:
                self._ended.add(job_id)
                self._reporters.pop(job_id, None)
        self._sink(update)

    def _run(self, spec: JobSpec) -> None:
        job_id = spec.job_id
        reporter = Reporter(job_id, lambda u: self._report(job_id, u), self._clock, spec.attempt)
        with self._lock:
            if job_id in self._cancelled:
                return  # the cancel already reported it
            self._reporters[job_id] = reporter
        try:
            final = execute(self.jobs[spec.name].fn, spec.params, reporter)
        except BaseException:
            final = JobUpdate(job_id, "interrupted", spec.attempt)
            self._report(job_id, final)
            raise
        self._report(job_id, final)

    def cancel(self, job_id: str, grace: float) -> None:
        with self._lock:
            spec = self._specs.get(job_id)
            if spec is None or job_id in self._ended:
                return
            reporter = self._reporters.get(job_id)
            if reporter is None:
                self._cancelled.add(job_id)
                self._ended.add(job_id)
        if reporter is None:
            self._sink(JobUpdate(job_id, "cancelled", spec.attempt))
            return
        reporter.cancel()
        self._timer(grace, lambda: self._hard_stop(job_id, spec.attempt))

    def _hard_stop(self, job_id: str, attempt: int) -> None:
        self._report(job_id, JobUpdate(job_id, "cancelled", attempt))

    def shutdown(self) -> None:
        """Jobs that have not ended are reported ``interrupted`` (queued ones never start,
        running ones are asked to stop and whatever they report later is dropped)."""
        with self._lock:
            running = list(self._reporters.values())
            unended = [spec for job_id, spec in self._specs.items() if job_id not in self._ended]
            self._ended.update(spec.job_id for spec in unended)
            self._cancelled.update(spec.job_id for spec in unended)
        for reporter in running:
            reporter.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)
        for spec in unended:
            self._sink(JobUpdate(spec.job_id, "interrupted", spec.attempt))


def _start_timer(delay: float, fn: Callable[[], None]) -> threading.Timer:
    timer = threading.Timer(delay, fn)
    timer.daemon = True
    timer.start()
    return timer
