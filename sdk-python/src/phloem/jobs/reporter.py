"""The job's side: the ``progress`` object a job function receives, and :func:`execute`, which
every backend uses to run a job body so that all backends report alike.

``progress(...)`` is meant for inner loops: it stores the values and reads the clock, and sends
an update only when ``interval`` has passed since the last one (tqdm's shape; PHL-JOB-025 is
then kept by the runtime). A stage change and the job's end always report at once. The clock is
injected (``time.perf_counter`` in a worker, a fake clock in tests): this module reads none.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from phloem.jobs.model import MAX_LINE, MAX_TEXT, JobError, JobUpdate
from phloem.protocol.errors import PhloemError

Sink = Callable[[JobUpdate], None]
REPORT_INTERVAL = 0.05  # seconds: 20 reports/s, the rate the runtime announces (PHL-JOB-025)


class JobCancelled(PhloemError):
    """Raised by ``progress()`` once the job was asked to stop; let it propagate (a job that
    catches it to clean up should re-raise it)."""


class Reporter:
    """The ``progress`` callable of one run of a job."""

    __slots__ = (
        "_cancel", "_clock", "_dirty", "_done", "_fraction", "_lines", "_message", "_next",
        "_sink", "_stage", "_total", "attempt", "interval", "job_id",
    )  # fmt: skip

    def __init__(
        self,
        job_id: str,
        sink: Sink,
        clock: Callable[[], float],
        attempt: int = 1,
        interval: float = REPORT_INTERVAL,
    ) -> None:
        self.job_id = job_id
        self.attempt = attempt
        self.interval = interval
        self._sink = sink
        self._clock = clock
        self._cancel = False
        self._dirty = False
        self._next = 0.0  # the first report goes at once
        self._fraction: float | None = None
        self._done: int | None = None
        self._total: int | None = None
        self._stage: str | None = None
        self._message: str | None = None
        self._lines: list[str] = []

    def __call__(
        self,
        fraction: float | None = None,
        stage: str | None = None,
        message: str | None = None,
        *,
        done: int | None = None,
        total: int | None = None,
    ) -> None:
        """Report where the job is: ``fraction`` in [0, 1], or ``done`` of ``total``; neither is
        indeterminate. Raises :class:`JobCancelled` once the job was asked to stop."""
        if self._cancel:
            raise JobCancelled(f"job {self.job_id} was cancelled")
        if fraction is not None:
            if not 0.0 <= fraction <= 1.0:  # also NaN (PHL-JOB-020)
                raise ValueError(f"progress fraction must be within [0, 1], not {fraction!r}")
            self._fraction = fraction
        if done is not None:
            self._done = done
            if total is not None:
                self._total = total
        if message is not None:
            self._message = message[:MAX_TEXT]
        self._dirty = True
        if stage is not None and stage != self._stage:
            self._stage = stage[:MAX_TEXT]
            self.flush()  # a new stage is news: no waiting for the next slot
            return
        now = self._clock()
        if now >= self._next:
            self.flush(now)

    @property
    def cancelled(self) -> bool:
        """True once the job was asked to stop (for loops that want to stop cleanly)."""
        return self._cancel

    def cancel(self) -> None:
        """Ask the job to stop: its next ``progress()`` raises. A plain attribute write, so a
        backend may call it from another thread or a signal handler."""
        self._cancel = True

    def log(self, *lines: str) -> None:
        """Append lines to the job's log; sent with the next report (never dropped)."""
        for line in lines:
            self._lines.extend(str(line)[:MAX_LINE].splitlines() or [""])
        now = self._clock()
        if now >= self._next:
            self.flush(now)

    def flush(self, now: float | None = None) -> None:
        """Send what has not been sent yet, now."""
        if self._lines:
            lines, self._lines = tuple(self._lines), []
            self._sink(JobUpdate(self.job_id, "log", self.attempt, lines=lines))
        if self._dirty:
            self._dirty = False
            self._sink(self._progress("progress"))
        self._next = (self._clock() if now is None else now) + self.interval

    def _progress(self, kind: Any, **extra: Any) -> JobUpdate:
        return JobUpdate(
            self.job_id,
            kind,
            self.attempt,
            fraction=self._fraction,
            done=self._done,
            total=self._total,
            stage=self._stage,
            message=self._message,
            **extra,
        )

    def final(self, kind: Any, **extra: Any) -> JobUpdate:
        """The terminal update, carrying the last progress values (pending log lines are sent
        first, so nothing the job reported is lost: PHL-JOB-026)."""
        if self._lines:
            lines, self._lines = tuple(self._lines), []
            self._sink(JobUpdate(self.job_id, "log", self.attempt, lines=lines))
        self._dirty = False
        return self._progress(kind, **extra)


def execute(fn: Callable[[Any, Reporter], Any], params: Any, reporter: Reporter) -> JobUpdate:
    """Run one job body: report ``running``, call ``fn(params, progress)``, and return the
    terminal update (the backend sends it, after storing the result if it persists one):
    ``succeeded`` with the return value, ``cancelled`` if it raised :class:`JobCancelled`,
    ``failed`` with the error (message for the user, traceback for the log) otherwise."""
    reporter._sink(JobUpdate(reporter.job_id, "running", reporter.attempt))
    try:
        result = fn(params, reporter)
    except JobCancelled:
        return reporter.final("cancelled")
    except Exception as exc:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        error = JobError(text[:1000], type(exc).__name__, traceback.format_exc())
        return reporter.final("failed", error=error)
    return reporter.final("succeeded", result=result)
