"""The job's side: the ``progress`` object a job function receives, and :func:`execute`, which
every backend uses to run a job body so that all backends report alike.

``progress(...)`` is meant for inner loops: it stores the values, counts down, and only every
few calls reads the clock; it sends an update only when ``interval`` has passed since the last
one (tqdm's shape: counter first, then clock; PHL-JOB-025 is then kept by the runtime). The
first call and the job's end always report at once. The clock is injected
(``time.perf_counter`` in a worker, a fake clock in tests): this module reads none.
"""

from __future__ import annotations

import contextlib
import traceback
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol, cast

from phloem.jobs.model import MAX_LINE, MAX_TEXT, JobError, JobUpdate
from phloem.protocol.errors import PhloemError

Sink = Callable[[JobUpdate], None]
REPORT_INTERVAL = 0.05  # seconds: 20 reports/s, the rate the runtime announces (PHL-JOB-025)


class JobCancelled(PhloemError):
    """Raised by ``progress()`` once the job was asked to stop; let it propagate (a job that
    catches it to clean up should re-raise it)."""


class Progress(Protocol):
    """What a job function receives as ``progress``: call it with where the job is; read
    ``cancelled``; append to the log with ``log(...)``."""

    job_id: str
    cancelled: bool

    def __call__(
        self,
        fraction: float | None = None,
        stage: str | None = None,
        message: str | None = None,
        *,
        done: int | None = None,
        total: int | None = None,
    ) -> None: ...

    def log(self, *lines: str) -> None: ...
    def flush(self) -> None: ...


# The clock is read at most every CHECK_EVERY calls, so a job that suddenly slows down is
# heard within that many of its (slow) steps; in between a call costs a counter decrement.
CHECK_EVERY = 16
CHECKS_PER_INTERVAL = 8


class Reporter:
    """One run of a job, seen from its backend: :attr:`progress` is the callable the job gets
    (a plain function: calling an instance's ``__call__`` costs ~4x a function call, and this
    runs in inner loops); :meth:`cancel`, :meth:`flush` and :meth:`final` are the backend's."""

    __slots__ = (
        "_cancel", "_checked", "_clock", "_countdown", "_dirty", "_done", "_every",
        "_fraction", "_lines", "_message", "_next", "_sink", "_stage", "_total", "attempt",
        "interval", "job_id", "progress",
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
        self._checked = 0.0
        self._every = self._countdown = 1
        self._fraction: float | None = None
        self._done: int | None = None
        self._total: int | None = None
        self._stage: str | None = None
        self._message: str | None = None
        # A deque: flush may run on a backend's flusher thread while the job logs, and its
        # append/popleft never lose a line between the two (no lock on the job's path).
        self._lines: deque[str] = deque()
        self.progress: Progress = self._make_progress()

    def _make_progress(self) -> Progress:
        r = self

        def progress(
            fraction: float | None = None,
            stage: str | None = None,
            message: str | None = None,
            *,
            done: int | None = None,
            total: int | None = None,
        ) -> None:
            """Report where the job is: ``fraction`` in [0, 1], or ``done`` of ``total``;
            neither is indeterminate. Raises :class:`JobCancelled` once asked to stop."""
            if r._cancel:
                raise JobCancelled(f"job {r.job_id} was cancelled")
            if stage is None and message is None and done is None:  # the inner-loop path
                if fraction is not None:
                    if not 0.0 <= fraction <= 1.0:  # also NaN (PHL-JOB-020)
                        raise ValueError(
                            f"progress fraction must be within [0, 1], not {fraction!r}"
                        )
                    r._fraction = fraction
                r._dirty = True
                r._countdown -= 1
                if r._countdown <= 0:
                    r._tick()
                return
            r._report(fraction, stage, message, done, total)

        fn: Any = progress
        fn.job_id = self.job_id
        fn.cancelled = False
        fn.log = self.log
        fn.flush = self.flush
        return cast(Progress, fn)

    def __call__(
        self,
        fraction: float | None = None,
        stage: str | None = None,
        message: str | None = None,
        *,
        done: int | None = None,
        total: int | None = None,
    ) -> None:
        self.progress(fraction, stage, message, done=done, total=total)

    def _report(
        self,
        fraction: float | None,
        stage: str | None,
        message: str | None,
        done: int | None,
        total: int | None,
    ) -> None:
        if fraction is not None:
            if not 0.0 <= fraction <= 1.0:
                raise ValueError(f"progress fraction must be within [0, 1], not {fraction!r}")
            self._fraction = fraction
        if done is not None:
            self._done = done
            if total is not None:
                self._total = total
        if message is not None:
            self._message = message[:MAX_TEXT]
        if stage is not None:
            self._stage = stage[:MAX_TEXT]
        self._dirty = True
        # A stage change waits for its slot like any value: the wire gets at most one report
        # per interval anyway (PHL-JOB-025), and a loop that names a new stage on every step
        # must stay cheap. The clock is read at once, not after the countdown.
        self._tick()

    def _tick(self) -> None:
        """Read the clock, report if the interval has passed, and choose how many calls to
        wait before the next look: about CHECKS_PER_INTERVAL looks per interval at the
        current call rate, and at most CHECK_EVERY calls apart."""
        now = self._clock()
        elapsed = now - self._checked
        calls = self._every
        self._checked = now
        every = int(calls * self.interval / (CHECKS_PER_INTERVAL * elapsed)) if elapsed > 0 else 1
        self._every = self._countdown = max(1, min(CHECK_EVERY, every))
        if now >= self._next:
            self.flush(now)

    @property
    def cancelled(self) -> bool:
        """True once the job was asked to stop (for loops that want to stop cleanly)."""
        return self._cancel

    def cancel(self) -> None:
        """Ask the job to stop: its next ``progress()`` raises. Plain attribute writes, so a
        backend may call it from another thread or a signal handler."""
        self._cancel = True
        self.progress.cancelled = True

    def log(self, *lines: str) -> None:
        """Append lines to the job's log; sent with the next report (never dropped)."""
        for line in lines:
            self._lines.extend(str(line)[:MAX_LINE].splitlines() or [""])
        now = self._clock()
        if now >= self._next:
            self.flush(now)

    def flush(self, now: float | None = None) -> None:
        """Send what has not been sent yet, now."""
        self._send_lines()
        if self._dirty:
            self._dirty = False
            self._sink(self._progress("progress"))
        self._next = (self._clock() if now is None else now) + self.interval

    def _send_lines(self) -> None:
        lines: list[str] = []
        with contextlib.suppress(IndexError):
            while True:
                lines.append(self._lines.popleft())
        if lines:
            self._sink(JobUpdate(self.job_id, "log", self.attempt, lines=tuple(lines)))

    def flush_if_due(self, now: float) -> bool:
        """Send what the job reported but has held back for its slot, once the slot has come:
        a backend calls this on a timer, so a job that reports a stage and then works a long
        time without calling ``progress()`` again is still seen at that stage (PHL-JOB-025
        bounds how often, never how late). True when something was sent."""
        if (self._dirty or self._lines) and now >= self._next:
            self.flush(now)
            return True
        return False

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
        self._send_lines()
        self._dirty = False
        return self._progress(kind, **extra)


def execute(fn: Callable[[Any, Progress], Any], params: Any, reporter: Reporter) -> JobUpdate:
    """Run one job body: report ``running``, call ``fn(params, progress)``, and return the
    terminal update (the backend sends it, after storing the result if it persists one):
    ``succeeded`` with the return value, ``cancelled`` if it raised :class:`JobCancelled`,
    ``failed`` with the error (message for the user, traceback for the log) otherwise."""
    reporter._sink(JobUpdate(reporter.job_id, "running", reporter.attempt))
    try:
        result = fn(params, reporter.progress)
    except JobCancelled:
        return reporter.final("cancelled")
    except Exception as exc:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        error = JobError(text[:1000], type(exc).__name__, traceback.format_exc())
        return reporter.final("failed", error=error)
    return reporter.final("succeeded", result=result)
