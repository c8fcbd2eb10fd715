"""The server's bridge between the job table and the Job rows: a terminal state recorded in
the table reaches the sessions even when its live message was lost (the channel layer is
at-most-once), and a new session adopts the owner's persisted jobs, result included."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import pytest
from conftest import REPO
from django.test import override_settings
from django.utils import timezone
from phloem_server import registry
from phloem_server.jobs import bridge, records, store
from phloem_server.models import Job

APP = REPO / "sdk-python" / "examples" / "counter.py"
BUDGET = 30.0


@pytest.fixture
def served():
    registry.clear()
    yield registry.load(APP)
    registry.clear()


def finished_job(owner: str, state: str, result: object = None) -> Job:
    job = store.create(store.new_id(), owner, str(APP), "cluster", {"k": 3})
    assert store.claim(job.id, 1, "w:1")
    assert store.finish(job.id, 1, state, result=result)
    return job


async def until(predicate, budget: float = BUDGET) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + budget
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached within the budget"
        await asyncio.sleep(0.01)


async def test_a_new_session_adopts_its_owners_persisted_jobs_with_their_results(served):
    job = await asyncio.to_thread(finished_job, "anon:adopt", "succeeded", {"k": 3})
    b = bridge.get()
    await b.attach("anon:adopt")
    record = b.table.records[job.id]
    assert (record.state, record.result, record.owner) == ("succeeded", {"k": 3}, "anon:adopt")
    assert "anon:other" not in {r.owner for r in b.table.records.values()}


async def test_a_terminal_state_whose_live_message_was_lost_is_applied_from_the_row(served):
    job = await asyncio.to_thread(store.create, store.new_id(), "anon:lost", str(APP), "c", {})
    await asyncio.to_thread(store.claim, job.id, 1, "w:1")
    with override_settings(PHLOEM_JOB_REAP=0.05):
        b = bridge.get()
        await b.attach("anon:lost")
        record = b.table.records[job.id]
        assert record.state == "running"
        # The worker ended it and its message never came: only the row knows.
        await asyncio.to_thread(store.finish, job.id, 1, "failed")
        past = timezone.now() - dt.timedelta(seconds=bridge.SETTLED + 1)
        await asyncio.to_thread(lambda: Job.objects.filter(id=job.id).update(finished=past))
        await until(lambda: record.state == "failed")


def test_ended_ignores_jobs_that_ended_too_recently_for_their_message_to_arrive() -> None:
    job = finished_job("anon:recent", "cancelled")
    assert records.ended([job.id], settled=60) == []
    (update,) = records.ended([job.id], settled=0)
    assert (update.job_id, update.kind) == (job.id, "cancelled")


async def test_a_retrys_first_report_is_announced_by_the_table_as_a_new_attempt(served):
    from phloem.jobs import JobOptions, JobUpdate
    from phloem.jobs.job import JobRecord

    b = bridge.get()
    record = JobRecord(
        "j-retry", "cluster", "anon:retry", None, JobOptions(retry=True),
        state="running", fraction=0.6, stage="first",
    )  # fmt: skip
    b.table.adopt(record)
    b._apply(JobUpdate("j-retry", "running", 2), wake=False)
    # The table's retry (queued again, then running): attempt 2, its progress starting over,
    # not the first attempt's 60 % (PHL-JOB-010, PHL-JOB-021).
    assert (record.attempt, record.state, record.fraction, record.stage) == (2, "running", None, None)
    b._apply(JobUpdate("j-retry", "progress", 1, fraction=0.9), wake=False)
    assert record.fraction is None  # the first attempt is fenced off
