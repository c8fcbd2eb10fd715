"""A session's scope on the job table: what ``ui.jobs`` is, and where a handler's job effects
wait until the handler has succeeded."""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from typing import Any

from phloem.jobs.job import Job, JobRecord
from phloem.runtime.jobinbox import Inbox
from phloem.runtime.jobs import JobTable

_NONE: frozenset[str] = frozenset()


class SessionJobs:
    """A session's scope on the table (``ui.jobs``). A handler's start takes its id at once
    (the page it renders may name it) but reaches the table only when the handler succeeded:
    a failed handler changes nothing and starts no job (PHL-EVT-010)."""

    __slots__ = ("_pending", "inbox", "owner", "table")

    def __init__(self, table: JobTable, owner: str) -> None:
        self.table = table
        self.owner = owner
        # Job effects of the running handler (None in the flag: a cancel); None: nothing yet.
        self._pending: list[tuple[JobRecord, bool | None]] | None = None
        # Job messages for this session, numbered on its own path (`jobinbox`).
        self.inbox = Inbox()

    def start(self, job: Job, params: Any, supersede: bool) -> JobRecord:
        record = JobRecord(self.table.new_id(), job.name, self.owner, params, job.options)
        self._add(record, supersede)
        return record

    def _add(self, record: JobRecord, supersede: bool | None) -> None:
        if self._pending is None:
            self._pending = []
        self._pending.append((record, supersede))

    def commit(self) -> AbstractSet[str]:
        """The handler succeeded: its job effects reach the table. The ids of the sessions
        that got frames (the owner's other sessions need a wake)."""
        if not self._pending:  # every event passes here: no work, no allocation
            return _NONE
        pending, self._pending = self._pending, None
        touched: set[str] = set()
        for record, supersede in pending:
            if supersede is None:
                touched |= self.table.cancel(record)
            else:
                self.table.add(record, supersede, touched)
        return touched

    def rollback(self) -> None:
        self._pending = None

    def get(self, job_id: str) -> JobRecord | None:
        record = self.table.records.get(job_id)
        if record is not None and record.owner == self.owner:  # PHL-JOB-050
            return record
        pending = self._pending or ()
        return next((r for r, s in pending if r.id == job_id and s is not None), None)

    def of(self, name: str) -> list[JobRecord]:
        mine = [r for r in self.table._visible(self.owner) if r.name == name]
        pending = self._pending or ()
        return mine + [r for r, s in pending if r.name == name and s is not None]

    def cancel(self, job_id: str) -> None:
        record = self.get(job_id)
        if record is not None:
            self._add(record, None)
