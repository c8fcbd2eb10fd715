"""The Job table's transitions: one outcome per job whoever races (jobs-anchors pitfalls 5,
10 and 13), and the lease that lets the reaper tell a dead runner from a slow one."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from phloem.jobs import JobUpdate
from phloem_server.jobs import store
from phloem_server.jobs.mirror import Mirror
from phloem_server.models import Job


def new(**options: object) -> Job:
    return store.create(store.new_id(), "anon:s", "/app.py", "gated", {"n": 1}, **options)  # type: ignore[arg-type]


def test_a_duplicate_delivery_loses_the_claim() -> None:
    job = new()
    assert store.claim(job.id, 1, "w1:1")
    assert not store.claim(job.id, 1, "w2:2")
    assert Job.objects.get(id=job.id).worker == "w1:1"


def test_a_cancelled_queued_job_is_never_claimed() -> None:
    job = new()
    assert store.request_cancel(job.id, "anon:s") is not None
    assert not store.claim(job.id, 1, "w:1")
    assert Job.objects.get(id=job.id).state == "cancelled"


def test_a_stale_attempt_cannot_write_after_a_retry() -> None:
    job = new(retry_safe=True, max_attempts=3)
    assert store.claim(job.id, 1, "w:1")
    assert store.requeue(job.id, 1)
    assert store.claim(job.id, 2, "w:2")
    assert store.beat(job.id, 1) is None  # the zombie learns it lost the job
    assert store.append_log(job.id, 1, ["late"]) is None
    assert not store.finish(job.id, 1, "succeeded", result="zombie")
    assert store.finish(job.id, 2, "succeeded", result="fresh")
    assert store.result(Job.objects.get(id=job.id)) == "fresh"


def test_nothing_overwrites_a_terminal_state() -> None:
    job = new()
    assert store.claim(job.id, 1, "w:1")
    assert store.finish(job.id, 1, "failed")
    assert store.beat(job.id, 1, {"progress": 0.9}) is None
    assert not store.finish(job.id, 1, "succeeded", result=1)
    assert not store.finish(job.id, None, "interrupted")
    row = Job.objects.get(id=job.id)
    assert (row.state, row.progress) == ("failed", None)


def test_a_job_that_returns_after_its_cancel_ends_cancelled() -> None:
    job = new()
    assert store.claim(job.id, 1, "w:1")
    store.flag_cancel(job.id)
    assert store.finish(job.id, 1, "succeeded", result="too late")
    row = Job.objects.get(id=job.id)
    assert (row.state, row.result) == ("cancelled", None)


def test_another_owner_cannot_cancel_a_job() -> None:
    job = new()
    assert store.request_cancel(job.id, "anon:mallory") is None
    assert Job.objects.get(id=job.id).cancel_requested is None


def test_only_jobs_past_their_lease_are_expired() -> None:
    fresh, stale = new(backend="celery"), new(backend="celery")
    for job in (fresh, stale):
        assert store.claim(job.id, 1, "w:1")
    old = timezone.now() - dt.timedelta(seconds=60)
    Job.objects.filter(id=stale.id).update(heartbeat=old)
    expired = {j.id for j in store.expired(["celery"], lease=30)}
    assert stale.id in expired and fresh.id not in expired


def test_the_mirror_saves_progress_at_most_once_per_interval_and_always_at_the_end() -> None:
    job = new()
    assert store.claim(job.id, 1, "w:1")
    clock = [0.0]
    mirror = Mirror(persist_every=1.0, clock=lambda: clock[0])
    assert mirror.record(JobUpdate(job.id, "running", 1))
    for i in range(1, 10):
        clock[0] = i * 0.05
        assert mirror.record(JobUpdate(job.id, "progress", 1, fraction=i / 10))
    assert Job.objects.get(id=job.id).progress is None  # not yet: under a second
    clock[0] = 1.0
    assert mirror.record(JobUpdate(job.id, "progress", 1, fraction=0.95, stage="last"))
    row = Job.objects.get(id=job.id)
    assert (row.progress, row.stage) == (0.95, "last")
    assert mirror.record(JobUpdate(job.id, "succeeded", 1, fraction=1.0, result=[1, 2]))
    assert store.result(Job.objects.get(id=job.id)) == [1, 2]
    assert not mirror.record(JobUpdate(job.id, "progress", 1, fraction=0.5))  # after the end


def test_a_succeeded_row_is_complete_whatever_was_saved_last() -> None:
    """A job loaded from the table (a restart, another server) syncs as 100 % and, when it
    reported a total, done = total (PHL-JOB-027), though its last saved beat said 3 of 8."""
    counted, fractional = new(), new()
    for job in (counted, fractional):
        assert store.claim(job.id, 1, "w:1")
    store.beat(counted.id, 1, {"progress": 0.375, "done": 3, "total": 8})
    store.beat(fractional.id, 1, {"progress": 0.4})
    for job in (counted, fractional):
        assert store.finish(job.id, 1, "succeeded", result="ok")
    row = Job.objects.get(id=counted.id)
    assert (row.progress, row.done, row.total) == (1.0, 8, 8)
    row = Job.objects.get(id=fractional.id)
    assert (row.progress, row.done, row.total) == (1.0, None, None)


def test_the_job_table_knows_exactly_the_protocols_job_states() -> None:
    """Django's choices (and their migration) are written out, as Django needs them: held to
    the states generated from schemas/1.1 (job-state.schema.json)."""
    from phloem.protocol._wire_1_1 import JOB_STATES, TERMINAL_JOB_STATES

    assert tuple(Job.State.values) == JOB_STATES
    assert set(Job.TERMINAL) == TERMINAL_JOB_STATES
    assert set(store.LIVE) == set(JOB_STATES) - TERMINAL_JOB_STATES


def test_a_batch_beat_renews_owned_leases_saves_progress_and_reports_cancels() -> None:
    fresh, plain, flagged, lost, ended = (new(retry_safe=True, max_attempts=3) for _ in range(5))
    for job in (fresh, plain, flagged, lost, ended):
        assert store.claim(job.id, 1, "w:1")
    store.flag_cancel(flagged.id)
    assert store.requeue(lost.id, 1) and store.claim(lost.id, 2, "w:2")  # attempt 1 lost it
    assert store.finish(ended.id, 1, "failed")
    old = timezone.now() - dt.timedelta(minutes=5)
    Job.objects.update(heartbeat=old)
    latest = {"progress": 0.5, "done": 5.0, "total": 10.0, "stage": "fit", "message": "k=3"}
    flags = store.beat_many(
        [
            (fresh.id, 1, latest),
            (plain.id, 1, None),
            (flagged.id, 1, None),
            (lost.id, 1, {"progress": 0.9}),
            (ended.id, 1, None),
        ]
    )
    assert flags == {
        fresh.id: False,
        plain.id: False,
        flagged.id: True,
        lost.id: None,
        ended.id: None,
    }
    rows = {j.id: j for j in Job.objects.all()}
    row = rows[fresh.id]
    assert (row.progress, row.done, row.total, row.stage, row.message) == (
        0.5,
        5.0,
        10.0,
        "fit",
        "k=3",
    )
    assert row.heartbeat > old and rows[plain.id].heartbeat > old
    assert rows[lost.id].heartbeat == old and rows[lost.id].progress is None  # fenced
    assert rows[ended.id].heartbeat == old
