"""The job table: every job of a hub's owners, and the job messages their sessions get.

Sans-IO like the rest of the runtime: a backend's :class:`~phloem.jobs.JobUpdate`\\ s come in
through :meth:`JobTable.apply` (with the time), ``job.*`` messages are queued for every
session of the job's owner (PHL-JOB-042; each session numbers them on its own path,
:mod:`phloem.runtime.jobinbox`), and the backend work the handlers asked for leaves
as commands (:meth:`JobTable.commands`) that the shell hands to its backend. The wire rules
enforced here: lifecycle and terminal-once (PHL-JOB-010..013), monotone progress
(PHL-JOB-021), the progress rate (PHL-JOB-025), ownership (PHL-JOB-050..052), cancel
(PHL-JOB-060, PHL-JOB-061) and sync (PHL-JOB-041).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from phloem.jobs.job import Job, JobRecord
from phloem.jobs.model import TERMINAL, JobSpec, JobUpdate
from phloem.protocol import outbound
from phloem.protocol.errors import RemoteProtocolError
from phloem.runtime.jobwire import job_log, job_progress, job_state
from phloem.runtime.limits import Limits

if TYPE_CHECKING:
    from phloem.runtime.session import Session

logger = logging.getLogger("phloem.runtime")

FEATURE = "jobs"  # PHL-JOB-001
KEEP_FINISHED = 20  # finished jobs kept per owner for sync (docs/design/jobs-1.1.md §5)
_DEFAULT = Limits()  # when no session of the owner is attached to say its limits


class Backend(Protocol):
    """What a command needs of a backend (the whole protocol: ``phloem.jobs.backends``)."""

    def submit(self, spec: JobSpec) -> None: ...
    def cancel(self, job_id: str, grace: float) -> None: ...


class Submit(NamedTuple):
    spec: JobSpec

    def run(self, backend: Backend) -> None:
        backend.submit(self.spec)


class Cancel(NamedTuple):
    job_id: str
    grace: float

    def run(self, backend: Backend) -> None:
        backend.cancel(self.job_id, self.grace)


Command = Submit | Cancel


class JobTable:
    """``new_id`` returns a fresh unguessable job id on each call (PHL-JOB-050); ``app_ref`` is
    what a worker process loads the app from (``JobSpec.app``)."""

    def __init__(self, new_id: Callable[[], str], app_ref: str = "") -> None:
        self.new_id = new_id
        self.app_ref = app_ref
        self.records: dict[str, JobRecord] = {}
        self._owned: dict[str, list[str]] = {}  # owner -> job ids, oldest first
        # owner -> live or detached sessions (a list: most owners have one, and a one-item
        # list is a quarter of a one-item set)
        self._sessions: dict[str, list[Session]] = {}
        # A deque: handlers add commands on their session's thread while the shell takes them
        # on another; append and popleft never lose one between the two.
        self._commands: deque[Command] = deque()
        self._due: dict[str, float] = {}  # job id -> when its held progress may go
        self._next: dict[str, float] = {}  # job id -> when its next progress may go
        self._cancel_by: dict[str, float] = {}  # job id -> when it must be terminal
        self.now = 0.0  # the latest time the shell told us (handlers run without one)

    # --- sessions -------------------------------------------------------------------------

    def attach(self, session: Session) -> None:
        self._sessions.setdefault(session.owner, []).append(session)

    def detach(self, session: Session) -> None:
        """A session is gone for good (expired). When its owner has no session left, the
        owner's finished jobs are forgotten: nobody can see them (a server that persists
        jobs adopts them again when the owner returns)."""
        sessions = self._sessions.get(session.owner)
        if sessions is not None and session in sessions:
            sessions.remove(session)
            if not sessions:
                del self._sessions[session.owner]
                self._forget_finished(session.owner)

    def _forget_finished(self, owner: str) -> None:
        ids = self._owned.get(owner, [])
        for job_id in [i for i in ids if self.records[i].state in TERMINAL]:
            ids.remove(job_id)
            del self.records[job_id]
        if not ids:
            self._owned.pop(owner, None)

    def sync(self, session: Session) -> list[str]:
        """Frames giving a session the current state of every job it may see (PHL-JOB-041):
        after the snapshot of a new session, or of a resume that could not replay."""
        if FEATURE not in session.features:
            return []
        if session.jobs is not None:
            session.jobs.inbox.clear()  # what it held is in the full state below
        frames = []
        for record in self._visible(session.owner):
            frames.append(session.emit(job_state(record, full=True)))
            if record.log:
                frames.append(session.emit(job_log(record, list(record.log), tail=True)))
        return frames

    def _visible(self, owner: str) -> list[JobRecord]:
        return [self.records[i] for i in self._owned.get(owner, ())]

    # --- from handlers (through a session's scope) ----------------------------------------

    def start(self, owner: str, job: Job, params: Any, supersede: bool) -> JobRecord:
        """Queue a run for ``owner`` at once (see :class:`SessionJobs` for handlers)."""
        return self.add(JobRecord(self.new_id(), job.name, owner, params, job.options), supersede)

    def add(
        self, record: JobRecord, supersede: bool = False, touched: set[str] | None = None
    ) -> JobRecord:
        """Queue ``record``; ``touched`` gains the ids of the sessions that got frames (the
        shell wakes those it is not already answering)."""
        owner = record.owner
        sent: set[str] = set()
        if supersede:
            for other in self._visible(owner):
                if other.name == record.name and other.state not in TERMINAL:
                    sent |= self.cancel(other)
        self.records[record.id] = record
        self._owned.setdefault(owner, []).append(record.id)
        self._commands.append(
            Submit(
                JobSpec(
                    record.id, record.name, record.params, owner, self.app_ref, 1, record.options
                )
            )
        )
        sent |= self._send(record, job_state(record), lifecycle=True)  # PHL-JOB-010: queued
        self._prune(owner)
        if touched is not None:
            touched |= sent
        return record

    def adopt(self, record: JobRecord) -> bool:
        """Hold a job this table did not start (persisted before a restart, or started by
        another server process) so that sync includes it and :meth:`apply` feeds it; its
        owner's sessions get its full state. Nothing is submitted. False if already held."""
        if record.id in self.records:
            return False
        self.records[record.id] = record
        self._owned.setdefault(record.owner, []).append(record.id)
        self._send(record, job_state(record, full=True), lifecycle=True)
        self._prune(record.owner)
        return True

    def cancel(self, record: JobRecord) -> set[str]:
        """Ask a job to stop (no-op once it ended). A queued job ends at once; a running one
        is told and must be terminal within ``job_cancel_seconds`` (PHL-JOB-061). The ids of
        the sessions that got frames."""
        if record.state in TERMINAL or record.cancel_requested:
            return set()
        record.cancel_requested = True
        self._commands.append(Cancel(record.id, record.options.grace))
        if record.state == "queued":
            return self._end(record, "cancelled")
        self._cancel_by[record.id] = self.now + self._cancel_seconds(record.owner)
        return self._send(record, job_state(record))

    def commands(self) -> list[Command]:
        """The backend work asked for since the last call, in order (Submit, Cancel)."""
        queued = self._commands
        commands = []
        while queued:
            commands.append(queued.popleft())
        return commands

    # --- from the client --------------------------------------------------------------------

    def cancel_request(self, session: Session, msg: dict[str, Any], now: float) -> str:
        """A ``job.cancel``: answered like an event (PHL-JOB-060), ids shared with events."""
        self.now = now
        event_id: int = msg["id"]
        if "ack" in msg:
            session.acked(msg["ack"])
        if not session.bucket.take(now):
            raise RemoteProtocolError(
                "rate_limited",
                f"more than {session.limits.max_events_per_second} events per second",
                event=event_id,
                limit=session.limits.max_events_per_second,
            )
        if event_id <= session.last_event:
            return session.emit(outbound.ack(0, event_id))  # a resend: once (PHL-EVT-005)
        record = self.records.get(msg["job"])
        if record is None or record.owner != session.owner:
            # PHL-JOB-051: the same answer for a job that does not exist and one of another
            # owner. The id is not marked handled: nothing was applied.
            raise RemoteProtocolError("unknown_job", "no such job", event=event_id)
        session.last_event = event_id
        # The answer first, then what it caused (the connection sends outbox frames after it).
        answer = session.emit(outbound.ack(0, event_id))
        session.woke(self.cancel(record))
        return answer

    # --- from the backend -------------------------------------------------------------------

    def apply(self, update: JobUpdate, now: float) -> set[str]:
        """A backend's report; the ids of the sessions that got messages (the shell wakes their
        connections, as after ``Hub.push``). Reports of unknown jobs, of a stale attempt, or
        after the terminal state are dropped (PHL-JOB-013)."""
        self.now = now
        record = self.records.get(update.job_id)
        if record is None or record.state in TERMINAL or update.attempt < record.attempt:
            return set()  # late, or from an attempt that was superseded (a fencing token)
        kind = update.kind
        touched: set[str] = set()
        if update.attempt > record.attempt:
            touched |= self._retry(record, update.attempt)
        # A job that reports anything but an end ran; it may also fail, be cancelled or be
        # interrupted before it ran (PHL-JOB-010).
        if record.state == "queued" and kind in ("running", "progress", "log", "succeeded"):
            record.state = "running"
            record.started = now
            touched |= self._send(record, job_state(record), lifecycle=True)
        if kind == "progress":
            if self._merge(record, update):
                touched |= self._progress(record, now)
        elif kind == "log":
            touched |= self._log(record, update.lines)
        elif kind in TERMINAL:
            self._merge(record, update)
            record.result = update.result
            record.error = update.error
            touched |= self._end(record, kind)
        return touched

    def poll(self, now: float) -> set[str]:
        """Send held progress whose slot has come, and end cancelled jobs past their deadline
        (the backend broke its contract: the table keeps PHL-JOB-061 anyway)."""
        self.now = now
        touched: set[str] = set()
        for job_id, due in list(self._due.items()):
            if due <= now:
                del self._due[job_id]
                touched |= self._progress(self.records[job_id], now)
        for job_id, due in list(self._cancel_by.items()):
            if due <= now:
                logger.warning("job %s did not stop within its cancel deadline", job_id)
                touched |= self._end(self.records[job_id], "cancelled")
        return touched

    def deadline(self) -> float | None:
        """When :meth:`poll` has work to do; None: nothing pending."""
        times = [*self._due.values(), *self._cancel_by.values()]
        return min(times) if times else None

    # --- internals --------------------------------------------------------------------------

    def _merge(self, record: JobRecord, update: JobUpdate) -> bool:
        """Fold reported progress into the record; whether anything changed. Progress is
        monotone (PHL-JOB-021): a lower fraction or done is kept at the higher value."""
        before = (record.fraction, record.done, record.total, record.stage, record.message)
        fraction = update.fraction
        if update.done is not None:
            record.done = max(update.done, record.done or 0)
            if update.total is not None:
                record.total = update.total
            if record.total:
                fraction = min(1.0, record.done / record.total)
        if fraction is not None:
            record.fraction = max(fraction, record.fraction or 0.0)
        if update.stage is not None:
            record.stage = update.stage
        if update.message is not None:
            record.message = update.message
        return before != (record.fraction, record.done, record.total, record.stage, record.message)

    def _progress(self, record: JobRecord, now: float) -> set[str]:
        """Send the record's progress now, or hold it for its next slot (PHL-JOB-025: the
        newest value waits and is never lost, PHL-JOB-026)."""
        slot = self._next.get(record.id, now)
        if now < slot:
            self._due[record.id] = slot
            return set()
        self._due.pop(record.id, None)
        rate = self._rate(record.owner)
        self._next[record.id] = now + 1.0 / rate
        if record.fraction and record.started is not None and record.fraction < 1.0:
            spent = now - record.started
            record.eta = round(spent * (1.0 - record.fraction) / record.fraction, 1)
        return self._send(record, job_progress(record), compact=True)

    def _log(self, record: JobRecord, lines: Iterable[str]) -> set[str]:
        new = list(lines)
        if not new:
            return set()
        msg = job_log(record, new)
        record.log_count += len(new)
        record.log.extend(new)
        keep = self._log_lines(record.owner)
        while len(record.log) > keep:
            record.log.popleft()
        return self._send(record, msg)

    def _retry(self, record: JobRecord, attempt: int) -> set[str]:
        """A backend runs the job again after a crash (the app declared it safe): announced
        queued with the new attempt; its progress starts over, its log goes on."""
        record.attempt = attempt
        record.state = "queued"
        record.started = None
        record.fraction = record.done = record.total = record.eta = None
        record.stage = record.message = None
        for pending in (self._due, self._next):
            pending.pop(record.id, None)
        return self._send(record, job_state(record), lifecycle=True)

    def _end(self, record: JobRecord, state: Any) -> set[str]:
        if state == "succeeded":  # done is done, whatever the job last reported
            record.fraction = 1.0
            if record.total is not None:
                record.done = record.total
        record.state = state
        record.eta = None
        for pending in (self._due, self._next, self._cancel_by):
            pending.pop(record.id, None)
        touched = self._send(record, job_state(record, full=True), lifecycle=True)
        self._prune(record.owner)
        return touched

    def _send(
        self, record: JobRecord, msg: dict[str, Any], lifecycle: bool = False, compact: bool = False
    ) -> set[str]:
        """Queue ``msg`` for every session of the owner (PHL-JOB-042); a lifecycle change also
        re-renders the pages (a page that shows the job's state or result in its own nodes,
        and a session without the feature, stay right). Nothing is numbered here: each
        session numbers its job messages on its own path, when its connection drains
        (`jobinbox`), since the table may be driven from another session's thread. The ids of
        the sessions to wake."""
        touched: set[str] = set()
        for session in self._sessions.get(record.owner, ()):
            inbox = session.jobs.inbox if session.jobs is not None else None
            if inbox is None:
                continue
            if FEATURE in session.features:
                if compact:
                    inbox.progress(record.id, msg)
                else:
                    inbox.message(msg)
                touched.add(session.id)
            if lifecycle:
                inbox.refresh()
                touched.add(session.id)
        return touched

    def _prune(self, owner: str) -> None:
        ids = self._owned.get(owner, [])
        finished = [i for i in ids if self.records[i].state in TERMINAL]
        for job_id in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            ids.remove(job_id)
            del self.records[job_id]
            for session in self._sessions.get(owner, ()):
                if session.jobs is not None:
                    session.jobs.inbox.forget(job_id)

    def _limit(self, owner: str, name: str, default: float) -> float:
        for session in self._sessions.get(owner, ()):
            return float(getattr(session.limits, name))
        return default

    def _rate(self, owner: str) -> float:
        return self._limit(owner, "job_progress_per_second", _DEFAULT.job_progress_per_second)

    def _cancel_seconds(self, owner: str) -> float:
        return self._limit(owner, "job_cancel_seconds", _DEFAULT.job_cancel_seconds)

    def _log_lines(self, owner: str) -> int:
        return int(self._limit(owner, "job_log_lines", _DEFAULT.job_log_lines))
