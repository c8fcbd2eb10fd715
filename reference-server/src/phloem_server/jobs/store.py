"""The job table's transitions. Every change of a job's state is one conditional UPDATE, so
two writers (a runner and the reaper, a duplicate delivery, a cancel racing completion) can
never both win, and a terminal state is final (jobs-anchors pitfalls 5 and 13).

Runners write with their attempt number, a fencing token: a runner whose attempt was given up
(the reaper declared it interrupted, a retry started) matches no row, and learns it from the
return value (pitfall 10)."""

from __future__ import annotations

import datetime as dt
import pickle
import secrets
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.db.models import Case, F, Q, When
from django.utils import timezone
from phloem.runtime import Limits

from ..models import Job, JobLogLine

State = Job.State
LIVE = (State.QUEUED, State.RUNNING)
# per job (the design's job_log_lines); the oldest are dropped past it
MAX_LOG_LINES = Limits().job_log_lines
PREVIEW = 200  # characters of a result's repr shown in the admin


def new_id() -> str:
    return "j" + secrets.token_urlsafe(18)  # 144 random bits: not guessable (design §6)


def create(
    job_id: str,
    owner: str,
    app: str,
    name: str,
    parameters: Any,
    *,
    backend: str = "embedded",
    retry_safe: bool = False,
    max_attempts: int = 1,
    grace: float = 10.0,
) -> Job:
    return Job.objects.create(
        id=job_id,
        owner=owner,
        app=app,
        name=name,
        parameters=_jsonable(parameters),
        payload=pickle.dumps(parameters, protocol=pickle.HIGHEST_PROTOCOL),
        backend=backend,
        retry_safe=retry_safe,
        max_attempts=max(1, max_attempts),
        grace=grace,
        created=timezone.now(),
    )


def claim(job_id: str, attempt: int, worker: str, lease: float | None = None) -> bool:
    """Move a queued job to running for ``attempt``; False when it is not queued for an
    earlier attempt (cancelled before it started, already taken by a duplicate delivery).
    With ``lease``, a running retry-safe job whose heartbeat is older than ``lease`` seconds
    may be taken over too (a Celery message redelivered after its worker died)."""
    now = timezone.now()
    claimable = Q(state=State.QUEUED, cancel_requested__isnull=True)
    if lease is not None:
        claimable |= Q(
            state=State.RUNNING,
            retry_safe=True,
            heartbeat__lt=now - dt.timedelta(seconds=lease),
            cancel_requested__isnull=True,
        )
    rows = Job.objects.filter(claimable, id=job_id, attempt__lt=attempt, max_attempts__gte=attempt)
    return bool(
        rows.update(
            state=State.RUNNING, attempt=attempt, started=now, heartbeat=now, worker=worker[:200]
        )
    )


def _mine(job_id: str, attempt: int) -> Any:
    return Job.objects.filter(id=job_id, attempt=attempt, state=State.RUNNING)


def beat(job_id: str, attempt: int, latest: dict[str, Any] | None = None) -> bool | None:
    """Renew the lease (saving the latest progress fields). Returns whether a cancel was
    requested, or None when this attempt no longer owns the job (stop at once)."""
    fields: dict[str, Any] = {"heartbeat": timezone.now(), **(latest or {})}
    if not _mine(job_id, attempt).update(**fields):
        return None
    return Job.objects.filter(id=job_id, cancel_requested__isnull=False).exists()


PROGRESS_FIELDS = ("progress", "done", "total", "stage", "message")


def beat_many(beats: Sequence[tuple[str, int, dict[str, Any] | None]]) -> dict[str, bool | None]:
    """:func:`beat` for many running jobs at once, ``(job id, attempt, latest progress
    fields or None)`` each, in a few statements whatever their number (a pool of 100 busy
    jobs renewed one by one spent most of the server's Python time in the ORM). Per job id:
    whether a cancel was requested, or None when that attempt no longer owns the job."""
    if not beats:
        return {}
    rows = {
        job_id: (attempt, state, cancel)
        for job_id, attempt, state, cancel in Job.objects.filter(
            id__in=[b[0] for b in beats]
        ).values_list("id", "attempt", "state", "cancel_requested")
    }
    owned = [b for b in beats if rows.get(b[0], (None, None))[:2] == (b[1], State.RUNNING)]
    now = timezone.now()
    plain: dict[int, list[str]] = {}
    with_progress = []
    for job_id, attempt, latest in owned:
        if latest is None:
            plain.setdefault(attempt, []).append(job_id)
        else:
            values = [latest.get(f) for f in PROGRESS_FIELDS]
            with_progress.append([*values, job_id, attempt])
    for attempt, ids in plain.items():
        Job.objects.filter(id__in=ids, attempt=attempt, state=State.RUNNING).update(heartbeat=now)
    if with_progress:
        _update_many(with_progress, now)
    # Rows that changed hands between the read and the writes were not written: the UPDATEs
    # are fenced like beat's, and such a job learns it at its next beat.
    mine = {b[0] for b in owned}
    return {b[0]: (rows[b[0]][2] is not None) if b[0] in mine else None for b in beats}


def _update_many(params: list[list[Any]], now: dt.datetime) -> None:
    """One UPDATE statement executed for many rows (executemany: no ORM work per row)."""
    sets = ", ".join(f"{_column(f)} = %s" for f in (*PROGRESS_FIELDS, "heartbeat"))
    sql = (
        f"UPDATE {connection.ops.quote_name(Job._meta.db_table)} SET {sets} "
        f"WHERE {_column('id')} = %s AND {_column('attempt')} = %s AND {_column('state')} = %s"
    )
    beat = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.executemany(sql, [[*p[:5], beat, p[5], p[6], State.RUNNING.value] for p in params])


def _column(name: str) -> str:
    column = getattr(Job._meta.get_field(name), "column", None)
    assert isinstance(column, str), name
    return connection.ops.quote_name(column)


def append_log(job_id: str, attempt: int, lines: Sequence[str]) -> int | None:
    """Save log lines after the ones already saved; the offset of the first, or None when
    this attempt no longer owns the job."""
    if not _mine(job_id, attempt).exists():
        return None
    last = JobLogLine.objects.filter(job_id=job_id).order_by("-lseq").first()
    offset = last.lseq + 1 if last is not None else 0
    now = timezone.now()
    JobLogLine.objects.bulk_create(
        [
            JobLogLine(job_id=job_id, lseq=offset + i, text=text[:1000], at=now)
            for i, text in enumerate(lines)
        ]
    )
    cutoff = offset + len(lines) - MAX_LOG_LINES
    if cutoff > 0:
        JobLogLine.objects.filter(job_id=job_id, lseq__lt=cutoff).delete()
    return offset


def finish(
    job_id: str,
    attempt: int | None,
    state: str,
    *,
    result: Any = None,
    error: Any = None,
) -> bool:
    """End a live job; False when it had already ended or ``attempt`` no longer owns it.
    ``attempt=None``: whichever attempt is live (a hard stop, the reaper). A job that was
    asked to cancel and then returned anyway ends cancelled: exactly one outcome, the one
    the user asked for once it was acknowledged."""
    rows = Job.objects.filter(id=job_id, state__in=LIVE)
    if attempt is not None:
        rows = rows.filter(attempt=attempt)
    fields: dict[str, Any] = {"state": state, "finished": timezone.now()}
    if state == State.SUCCEEDED:
        won = rows.filter(cancel_requested__isnull=True).update(
            **fields,
            result=pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL),
            result_preview=_preview(result),
            progress=1.0,  # done is done, whatever was last saved (PHL-JOB-027)
            done=Case(When(total__isnull=False, then=F("total")), default=F("done")),
        )
        if won:
            return True
        fields["state"] = State.CANCELLED
    if state == State.FAILED and error is not None:
        fields.update(
            error_type=(error.type or "")[:200],
            error_message=error.message,
            traceback=error.traceback or "",
        )
    return bool(rows.update(**fields))


def request_cancel(job_id: str, owner: str) -> Job | None:
    """The owner asks to cancel. A queued job is cancelled at once (claim refuses it, so it
    never starts); a running one is flagged for its runner. None: no such job of this owner
    (another owner's job is indistinguishable from a missing one, PHL-JOB-051)."""
    now = timezone.now()
    mine = Job.objects.filter(id=job_id, owner=owner)
    mine.filter(state=State.QUEUED).update(
        state=State.CANCELLED, cancel_requested=now, finished=now
    )
    mine.filter(state=State.RUNNING, cancel_requested__isnull=True).update(cancel_requested=now)
    return mine.first()


def flag_cancel(job_id: str) -> None:
    """Record that a running job was asked to cancel (ownership checked by the runtime)."""
    now = timezone.now()
    Job.objects.filter(id=job_id, state=State.QUEUED).update(
        state=State.CANCELLED, cancel_requested=now, finished=now
    )
    Job.objects.filter(id=job_id, state=State.RUNNING, cancel_requested__isnull=True).update(
        cancel_requested=now
    )


def params(job: Job) -> Any:
    """The parameters the job was started with."""
    if job.payload is None:
        return job.parameters
    return pickle.loads(bytes(job.payload))  # our own rows only: never user input


def requeue(job_id: str, attempt: int) -> bool:
    """Give a dead attempt's job to a new attempt (the app declared it safe to retry)."""
    return bool(
        Job.objects.filter(
            id=job_id,
            state=State.RUNNING,
            attempt=attempt,
            max_attempts__gt=attempt,
            retry_safe=True,
            cancel_requested__isnull=True,
        ).update(state=State.QUEUED, heartbeat=None, worker="")
    )


def expired(backends: Iterable[str], lease: float) -> list[Job]:
    """Running jobs whose runner has not renewed its lease for ``lease`` seconds."""
    stale = timezone.now() - dt.timedelta(seconds=lease)
    rows = Job.objects.filter(state=State.RUNNING, backend__in=list(backends))
    return list(rows.filter(Q(heartbeat__lt=stale) | Q(heartbeat__isnull=True)))


def overdue_cancels(backends: Iterable[str], grace: float) -> list[Job]:
    """Running jobs asked to cancel more than ``grace`` seconds ago: due a hard stop."""
    late = timezone.now() - dt.timedelta(seconds=grace)
    rows = Job.objects.filter(state=State.RUNNING, backend__in=list(backends))
    return list(rows.filter(cancel_requested__lt=late))


def live(backends: Iterable[str], app: str | None = None) -> list[Job]:
    rows = Job.objects.filter(state__in=LIVE, backend__in=list(backends))
    if app is not None:
        rows = rows.filter(app=app)
    return list(rows)


def visible(owner: str, app: str, limit: int = 20) -> list[Job]:
    """The owner's newest jobs of this app (what a new session syncs, design §5)."""
    return list(Job.objects.filter(owner=owner, app=app).order_by("-created")[:limit])


def get(job_id: str, owner: str | None = None) -> Job | None:
    rows = Job.objects.filter(id=job_id)
    if owner is not None:
        rows = rows.filter(owner=owner)
    return rows.first()


def log_lines(job_id: str) -> tuple[int, list[str]]:
    """The kept tail of a job's log: the offset of its first line, and the lines."""
    rows = list(JobLogLine.objects.filter(job_id=job_id).order_by("lseq"))
    return (rows[0].lseq if rows else 0), [r.text for r in rows]


def result(job: Job) -> Any:
    """The job's return value (None until it succeeded)."""
    if job.result is None:
        return None
    return pickle.loads(bytes(job.result))  # our own rows only: never user input


def _preview(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:  # a broken __repr__ must not fail the job
        text = f"<{type(value).__name__}>"
    return text if len(text) <= PREVIEW else text[: PREVIEW - 1] + "…"


def _jsonable(value: Any) -> Any:
    """Parameters as JSON for the admin (a job's real parameters travel pickled)."""
    import json

    try:
        return json.loads(json.dumps(value, default=repr))
    except (TypeError, ValueError):
        return repr(value)
