"""Job rows as the runtime's JobRecords: what a session syncs after a restart, or in another
server process than the one that started the job (JobTable.adopt)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import deque
from typing import Any

from django.utils import timezone
from phloem.jobs import JobError, JobOptions, JobRecord, JobUpdate

from ..models import Job
from . import store

KEEP = 20  # jobs per owner loaded into a new process's table (the runtime keeps 20 finished)


def load(owner: str, app: str) -> list[JobRecord]:
    """The owner's newest jobs of this app, oldest first (the table's order)."""
    return [record(job) for job in reversed(store.visible(owner, app, KEEP))]


def record(job: Job) -> JobRecord:
    offset, lines = store.log_lines(job.id)
    error = None
    if job.state == Job.State.FAILED:
        error = JobError(job.error_message or "the job failed", job.error_type or "Exception")
    return JobRecord(
        id=job.id,
        name=job.name,
        owner=job.owner,
        params=store.params(job),
        options=JobOptions(grace=job.grace, retry=job.retry_safe),
        state=job.state,  # type: ignore[arg-type]
        attempt=max(1, job.attempt),
        fraction=job.progress,
        done=int(job.done) if job.done is not None else None,
        total=int(job.total) if job.total is not None else None,
        stage=job.stage or None,
        message=job.message or None,
        log=deque(lines),
        log_count=offset + len(lines),
        result=store.result(job) if job.state == Job.State.SUCCEEDED else None,
        error=error,
        cancel_requested=job.cancel_requested is not None,
    )


def adopt(table: Any, rec: JobRecord) -> None:
    table.adopt(rec)


def ended(job_ids: list[str], settled: float) -> list[JobUpdate]:
    """Terminal updates for the jobs among ``job_ids`` that the table says ended more than
    ``settled`` seconds ago: what a lost live message would have said."""
    before = timezone.now() - dt.timedelta(seconds=settled)
    rows = Job.objects.filter(id__in=job_ids, state__in=Job.TERMINAL, finished__lt=before)
    updates = []
    for job in rows:
        error = None
        if job.state == Job.State.FAILED:
            error = JobError(job.error_message or "the job failed", job.error_type or "Exception")
        value = store.result(job) if job.state == Job.State.SUCCEEDED else None
        kind: Any = job.state
        updates.append(JobUpdate(job.id, kind, max(1, job.attempt), result=value, error=error))
    return updates


def result(job_id: str) -> Any:
    job = store.get(job_id)
    return store.result(job) if job is not None else None


def with_result(update: JobUpdate, value: Any) -> JobUpdate:
    return dataclasses.replace(update, result=value)
