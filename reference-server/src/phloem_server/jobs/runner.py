# ruff: noqa: E402
"""Interim copy of the SDK's job interface (branch jobs: phloem/jobs/model.py and reporter.py,
docs/design/jobs-1.1.md §9), so the backends here run before it is merged; deleted once
``phloem.jobs`` exists (``api`` prefers it)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Final, Literal

State = Literal["queued", "running", "succeeded", "failed", "cancelled", "interrupted"]
Kind = Literal[
    "running", "progress", "log", "succeeded", "failed", "cancelled", "interrupted"
]  # fmt: skip

# PHL-JOB-010: the lifecycle; a terminal state is the job's last (PHL-JOB-012).
STATES: Final = ("queued", "running", "succeeded", "failed", "cancelled", "interrupted")
TERMINAL: Final = frozenset({"succeeded", "failed", "cancelled", "interrupted"})
KINDS: Final = frozenset(
    {"running", "progress", "log", "succeeded", "failed", "cancelled", "interrupted"}
)

MAX_TEXT = 200  # stage and message: a line of UI, not a report (job-progress schema maxLength)
MAX_LINE = 1000  # one log line (job.log schema maxLength)


@dataclass(frozen=True, slots=True)
class JobError:
    """Why a job failed: ``message`` is shown to the user ("ValueError: k must be > 1");
    ``traceback`` stays on the server (never on the wire, PHL-ERR-004)."""

    message: str
    type: str = "Exception"
    traceback: str = ""


@dataclass(frozen=True, slots=True)
class JobOptions:
    """How a job runs: ``grace`` seconds between the cooperative cancel and the hard stop;
    ``retry``: safe to run again after a crash (else it ends ``interrupted``); ``supersede``:
    a new start cancels the owner's unfinished runs of the same job."""

    grace: float = 10.0
    retry: bool = False
    supersede: bool = False


@dataclass(frozen=True, slots=True)
class JobSpec:
    """What a backend runs: ``app`` is the app's import reference (a script path or module
    name, for a worker process to load it; "" in process), ``name`` the job's registered
    name, ``owner`` who may see it."""

    job_id: str
    name: str
    params: Any
    owner: str
    app: str = ""
    attempt: int = 1
    options: JobOptions = field(default_factory=JobOptions)


@dataclass(frozen=True, slots=True)
class JobUpdate:
    """One report from a backend. By ``kind``: ``progress`` carries fraction/done/total/stage/
    message/eta (None: unchanged); ``log`` carries ``lines``; ``succeeded`` the ``result``;
    ``failed`` the ``error``; a terminal update may carry the final progress too."""

    job_id: str
    kind: Kind
    attempt: int = 1
    fraction: float | None = None
    done: int | None = None
    total: int | None = None
    stage: str | None = None
    message: str | None = None
    eta: float | None = None
    lines: tuple[str, ...] = ()
    result: Any = None
    error: JobError | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict (``result`` must be JSON-able for this; pickle otherwise)."""
        data = asdict(self)
        data["lines"] = list(self.lines)
        return {k: v for k, v in data.items() if v is not None and v != []}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JobUpdate:
        data = dict(data)
        if data.get("kind") not in KINDS:
            raise ValueError(f"unknown job update kind {data.get('kind')!r}")
        if data.get("error") is not None:
            data["error"] = JobError(**data["error"])
        data["lines"] = tuple(data.get("lines", ()))
        return cls(**data)


import traceback
from collections.abc import Callable

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
