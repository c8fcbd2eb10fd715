"""Authoring: ``@app.job`` turns a plain function into a :class:`Job`; a handler starts it with
``job.start(ui, params)`` and gets a :class:`JobHandle`; the page reads the handle.

Nothing here runs a job or touches time: the runtime's job table (``phloem.runtime.jobs``)
keeps the records and a backend (``phloem.jobs.backends``, or the server's) runs them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from phloem.jobs.model import TERMINAL, JobError, JobOptions, State
from phloem.protocol.errors import PhloemError

if TYPE_CHECKING:
    from phloem.jobs.reporter import Reporter
    from phloem.ui.state import UI

JobFunction = Callable[[Any, "Reporter"], Any]


class JobsUnavailable(PhloemError):
    """A job was started or read outside a session (the ``ui`` has no job scope)."""


@dataclass(eq=False, slots=True)
class JobRecord:
    """Everything the runtime knows of one job; read through a :class:`JobHandle`."""

    id: str
    name: str
    owner: str
    params: Any
    options: JobOptions
    state: State = "queued"
    attempt: int = 1
    fraction: float | None = None
    done: int | None = None
    total: int | None = None
    stage: str | None = None
    message: str | None = None
    eta: float | None = None
    log: deque[str] = field(default_factory=deque)  # the newest lines (limits.job_log_lines)
    log_count: int = 0  # lines ever appended: the next line's offset (PHL-JOB-030)
    result: Any = None
    error: JobError | None = None
    cancel_requested: bool = False
    started: float | None = None  # when it began running (runtime clock)


class Scope(Protocol):
    """A session's view of the job table (implemented by ``phloem.runtime.jobs``)."""

    def start(self, job: Job, params: Any, supersede: bool) -> JobRecord: ...
    def get(self, job_id: str) -> JobRecord | None: ...
    def of(self, name: str) -> list[JobRecord]: ...
    def cancel(self, job_id: str) -> None: ...


def _scope(ui: UI) -> Scope:
    scope = ui.jobs
    if scope is None:
        raise JobsUnavailable("jobs start and are read inside a session's page or handler")
    return scope  # type: ignore[no-any-return]


class JobHandle:
    """A read-only view of a job for the page and handlers; ``cancel()`` asks it to stop."""

    __slots__ = ("_record", "_scope")

    def __init__(self, record: JobRecord, scope: Scope) -> None:
        self._record = record
        self._scope = scope

    id = property(lambda self: self._record.id)
    name = property(lambda self: self._record.name)
    state: property = property(lambda self: self._record.state)
    fraction = property(lambda self: self._record.fraction)
    stage = property(lambda self: self._record.stage)
    message = property(lambda self: self._record.message)
    error: property = property(lambda self: self._record.error, doc="JobError when failed")
    result = property(lambda self: self._record.result, doc="the return value when succeeded")

    @property
    def finished(self) -> bool:
        return self._record.state in TERMINAL

    @property
    def log(self) -> list[str]:
        return list(self._record.log)

    def cancel(self) -> None:
        self._scope.cancel(self._record.id)

    def __repr__(self) -> str:
        return f"JobHandle({self.name!r}, {self.id!r}, {self.state})"


class Job:
    """A job function registered with ``@app.job``. Calling it runs the body directly (handy
    in a unit test); :meth:`start` runs it as a job of the session's owner."""

    def __init__(self, fn: JobFunction, name: str, options: JobOptions) -> None:
        self.fn = fn
        self.name = name
        self.options = options
        self.__doc__ = fn.__doc__

    def __call__(self, params: Any, progress: Reporter) -> Any:
        return self.fn(params, progress)

    def start(self, ui: UI, params: Any = None, *, supersede: bool | None = None) -> JobHandle:
        """Queue a run with ``params`` (picklable) for the session's owner; the handle at once.
        ``supersede`` (default: the job's option): cancel the owner's unfinished runs first."""
        scope = _scope(ui)
        again = self.options.supersede if supersede is None else supersede
        return JobHandle(scope.start(self, params, again), scope)

    def get(self, ui: UI, job_id: str | None) -> JobHandle | None:
        """The owner's run of this job with that id, or None."""
        if job_id is None:
            return None
        scope = _scope(ui)
        record = scope.get(job_id)
        return JobHandle(record, scope) if record and record.name == self.name else None

    def runs(self, ui: UI) -> list[JobHandle]:
        """The owner's runs of this job the runtime still holds, oldest first."""
        scope = _scope(ui)
        return [JobHandle(r, scope) for r in scope.of(self.name)]

    def latest(self, ui: UI) -> JobHandle | None:
        """The owner's newest run of this job, or None."""
        runs = self.runs(ui)
        return runs[-1] if runs else None

    def __repr__(self) -> str:
        return f"Job({self.name!r})"
