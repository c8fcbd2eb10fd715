"""What crosses the line between the runtime and a job backend: plain, picklable values.

A :class:`JobSpec` goes from the runtime to a backend (what to run); :class:`JobUpdate`\\ s come
back (what happened). Both survive pickling and JSON (``to_json``/``from_json``), so a backend
may carry them over a process pipe, a Redis channel layer or a task queue
(docs/design/jobs-1.1.md §9). Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Final, Literal, TypeAlias

from phloem.protocol._wire_1_1 import (
    JOB_LOG_LINE_MAX_LENGTH,
    JOB_STATES,
    JOB_TEXT_MAX_LENGTH,
    TERMINAL_JOB_STATES,
    JobState,
)

State: TypeAlias = JobState
Kind = Literal[
    "running", "progress", "log", "succeeded", "failed", "cancelled", "interrupted"
]  # fmt: skip

# PHL-JOB-010: the lifecycle; a terminal state is the job's last (PHL-JOB-012).
STATES: Final = JOB_STATES
TERMINAL: Final = TERMINAL_JOB_STATES
KINDS: Final = frozenset({"running", "progress", "log", *TERMINAL})

MAX_TEXT = JOB_TEXT_MAX_LENGTH  # stage and message: a line of UI, not a report
MAX_LINE = JOB_LOG_LINE_MAX_LENGTH  # one log line


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
