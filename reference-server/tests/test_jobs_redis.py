"""Scaled out: redis-server, two `phloem run --jobs celery` servers and one `phloem worker`,
all on loopback, sharing one database. A browser starts a job on server A, opens the app on
server B and sees the same job's live progress and result there; cancelling from B stops it;
a worker killed mid-job leaves its job reported interrupted by the reaper, never running.

These tests fail, never skip, without redis-server (CI installs it)."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from jobs_fixture import write_app
from jobs_live import OWNER_KEY, job_client, job_message
from live import phloem_run
from test_redis_layer import redis_server

pytestmark = pytest.mark.redis

# Short leases so the reaper's truth arrives within the test's budget: a dead worker's job is
# reported within LEASE + REAP seconds (the defaults are 30 + 10).
TIMING = {"PHLOEM_JOB_HEARTBEAT": "0.2", "PHLOEM_JOB_LEASE": "1.5", "PHLOEM_JOB_REAP": "0.25"}


@contextlib.contextmanager
def phloem_worker(app: Path, data: Path, url: str, env: dict[str, str]) -> Iterator[int]:
    """`phloem worker` (one job at a time); its pid."""
    cmd = [sys.executable, "-m", "phloem_server.cli", "worker", str(app), "--redis", url]
    full = {**os.environ, "PHLOEM_DATA_DIR": str(data), **env}
    full.pop("DJANGO_SETTINGS_MODULE", None)
    log = (data / "worker.log").open("w")
    proc = subprocess.Popen([*cmd, "--concurrency", "1"], env=full, stdout=log, stderr=log)
    try:
        yield proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("jobs-redis")
    data = tmp / "data"
    data.mkdir()
    app = write_app(tmp)
    env = {"PHLOEM_OWNER_KEY": OWNER_KEY, **TIMING}
    with redis_server(tmp) as redis:
        args = ("--jobs", "celery", "--redis", redis.url)
        with (
            phloem_run(app, data, args=args, env=env) as a,
            phloem_run(app, data, args=args, env=env) as b,
            phloem_worker(app, data, redis.url, env) as worker,
        ):
            yield a, b, worker, tmp, data


async def test_a_job_started_on_one_server_shows_live_on_another_and_is_cancelled_there(
    cluster,
):
    a, b, _worker, tmp, data = cluster
    ctl = tmp / "cancel"
    ctl.mkdir()
    async with job_client(a.url, "alice") as on_a:
        await on_a.hello()
        job = await on_a.start("gated", {"dir": str(ctl), "steps": 3})
        await on_a.state(job, "running")  # the worker claimed it
        (ctl / "go-0").write_text("")
        await on_a.until(job_message("job.progress", job, stage="step 1"))
        async with job_client(b.url, "alice") as on_b:
            await on_b.hello()
            await on_b.state(job, "running")  # B adopted it from the table
            (ctl / "go-1").write_text("")
            await on_b.until(job_message("job.progress", job, stage="step 2"))
            await on_b.until(job_message("job.log", job, offset=1, lines=["step 2 done"]))
            answer = await on_b.cancel(job)
            assert answer["type"] == "ack"
            await on_b.state(job, "cancelled")
            await on_a.state(job, "cancelled")
    assert row(data, job, "state", "backend") == ("cancelled", "celery")
    assert not (ctl / "go-2").exists()


async def test_a_result_reached_on_the_worker_shows_on_the_other_server(cluster):
    a, b, _worker, tmp, _data = cluster
    ctl = tmp / "result"
    ctl.mkdir()
    async with job_client(a.url, "bob") as on_a:
        await on_a.hello()
        job = await on_a.start("gated", {"dir": str(ctl), "steps": 1})
        await on_a.state(job, "running")
        async with job_client(b.url, "bob") as on_b:
            await on_b.hello()
            await on_b.state(job, "running")
            (ctl / "go-0").write_text("")
            await on_b.state(job, "succeeded")
            # The page on B re-renders with the job's result, read from the Job table.
            await on_b.until(lambda m: m["type"] == "ui.patch" and _sets(m, "result: 1"))
        await on_a.state(job, "succeeded")


async def test_a_killed_worker_leaves_its_job_interrupted_within_lease_and_reap(cluster):
    a, _b, _worker, tmp, data = cluster
    ctl = tmp / "kill"
    ctl.mkdir()
    async with job_client(a.url, "carol") as on_a:
        await on_a.hello()
        job = await on_a.start("stubborn", {"dir": str(ctl)})
        await on_a.until(job_message("job.progress", job, stage="deaf"))
        child = int((ctl / "pid").read_text())
        (worker,) = row(data, job, "worker")
        os.kill(int(worker.rpartition(":")[2]), signal.SIGKILL)  # the task's pool process
        killed = time.monotonic()
        await on_a.state(job, "interrupted")
        # The stated bound: LEASE + REAP, plus a budget for a loaded machine.
        assert time.monotonic() - killed < 1.5 + 0.25 + 20
        assert _gone(child)  # the job's process group died with its task
    assert row(data, job, "state") == ("interrupted",)


def row(data: Path, job: str, *fields: str) -> tuple[object, ...]:
    """Fields of a job's row in the cluster's database (not this test process's)."""
    with contextlib.closing(sqlite3.connect(data / "phloem.sqlite3")) as db:
        found = db.execute(
            f"SELECT {', '.join(fields)} FROM phloem_server_job WHERE id = ?", (job,)
        ).fetchone()
    assert found is not None, f"no job {job} in the cluster's database"
    return tuple(found)


def _sets(patch: dict, text: str) -> bool:
    return any(op.get("set", {}).get("text") == text for op in patch.get("ops", ()))


def _gone(pid: int) -> bool:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.01)
    return False


async def test_a_killed_worker_reruns_a_job_declared_safe_to_retry(cluster):
    a, _b, _worker, tmp, data = cluster
    ctl = tmp / "retry"
    ctl.mkdir()
    async with job_client(a.url, "dave") as on_a:
        await on_a.hello()
        job = await on_a.start("retried", {"dir": str(ctl)})
        await on_a.until(job_message("job.progress", job, stage="working"))
        (worker,) = row(data, job, "worker")
        (ctl / "killed").write_text("")  # the next attempt finishes
        os.kill(int(worker.rpartition(":")[2]), signal.SIGKILL)
        end = await on_a.state(job, "succeeded")
        assert end.get("attempt") == 2
        assert not any(m.get("job") == job and m.get("state") == "interrupted" for m in on_a.seen)
    assert row(data, job, "state", "attempt") == ("succeeded", 2)
