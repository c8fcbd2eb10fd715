"""The embedded job backend (`phloem run`): jobs run in worker processes the server starts,
report through the Job table (durable first) to the sink, cancel cooperatively and then hard,
and a dead worker or server leaves no job "running". Job steps are released by the test
(jobs_fixture), never by time; waits have budgets, not sleeps."""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import queue
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from jobs_fixture import write_app
from phloem.jobs import JobOptions, JobSpec, JobUpdate
from phloem_server.jobs import embedded, store, worker
from phloem_server.jobs.embedded import ProcessBackend
from phloem_server.models import Job

pytestmark = [pytest.mark.subprocess]  # starts servers or worker processes: not in make test-fast

BUDGET = 60.0  # seconds: worker processes start Python and load the app on a loaded machine


class Sink:
    def __init__(self) -> None:
        self.q: queue.Queue[JobUpdate] = queue.Queue()
        self.seen: list[JobUpdate] = []

    def __call__(self, update: JobUpdate) -> None:
        self.q.put(update)

    def until(self, job_id: str, kind: str, **match: Any) -> JobUpdate:
        deadline = time.monotonic() + BUDGET
        while True:
            try:
                update = self.q.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"no {kind} update of {job_id} within {BUDGET} s; saw {self.seen}")
            self.seen.append(update)
            if (update.job_id, update.kind) == (job_id, kind) and all(
                getattr(update, k) == v for k, v in match.items()
            ):
                return update

    def kinds(self, job_id: str) -> list[str]:
        return [u.kind for u in self.seen if u.job_id == job_id]


@pytest.fixture
def pool(tmp_path: Path):
    sink = Sink()
    backend = ProcessBackend(sink, str(write_app(tmp_path)), workers=1, persist_every=0.05)
    yield backend, sink, tmp_path
    backend.shutdown()


def spec(name: str, params: Any, **options: Any) -> JobSpec:
    return JobSpec(
        job_id=store.new_id(), name=name, params=params, owner="anon:test",
        options=JobOptions(**options),
    )  # fmt: skip


def control(tmp: Path, name: str) -> Path:
    path = tmp / name
    path.mkdir()
    return path


def go(directory: Path, *steps: int) -> None:
    for i in steps:
        (directory / f"go-{i}").write_text("")


def test_a_job_runs_in_a_worker_process_and_its_result_is_kept(pool) -> None:
    backend, sink, tmp = pool
    ctl = control(tmp, "a")
    job = spec("gated", {"dir": str(ctl), "steps": 2})
    backend.submit(job)
    sink.until(job.job_id, "running")
    go(ctl, 0)
    assert sink.until(job.job_id, "progress", stage="step 1").fraction == 0.5
    go(ctl, 1)
    end = sink.until(job.job_id, "succeeded")
    assert end.result == {"pid": end.result["pid"], "steps": 2}
    assert end.result["pid"] != os.getpid()  # not the server's GIL
    row = Job.objects.get(id=job.job_id)
    assert (row.state, row.attempt, row.progress) == ("succeeded", 1, 1.0)
    assert store.result(row) == end.result  # survives a restart: it is in the table
    assert store.log_lines(job.job_id) == (0, ["step 1 done", "step 2 done"])
    assert row.parameters == {"dir": str(ctl), "steps": 2}


def test_a_job_that_raises_fails_with_its_error_and_traceback(pool) -> None:
    backend, sink, _ = pool
    job = spec("boom", None)
    backend.submit(job)
    end = sink.until(job.job_id, "failed")
    assert end.error is not None and end.error.message == "ValueError: k must be > 1"
    row = Job.objects.get(id=job.job_id)
    assert (row.state, row.error_type) == ("failed", "ValueError")
    assert "raise ValueError" in row.traceback


def test_cancel_stops_a_job_at_its_next_progress_call(pool) -> None:
    backend, sink, tmp = pool
    ctl = control(tmp, "c")
    job = spec("gated", {"dir": str(ctl), "steps": 3})
    backend.submit(job)
    go(ctl, 0)
    sink.until(job.job_id, "progress", stage="step 1")
    backend.cancel(job.job_id, grace=30)
    sink.until(job.job_id, "cancelled")
    row = Job.objects.get(id=job.job_id)
    assert row.state == "cancelled" and row.cancel_requested is not None


def test_a_job_that_ignores_cancel_is_stopped_hard_after_the_grace_period(pool) -> None:
    backend, sink, tmp = pool
    ctl = control(tmp, "s")
    job = spec("stubborn", {"dir": str(ctl)})
    backend.submit(job)
    sink.until(job.job_id, "progress", stage="deaf")
    pid = int((ctl / "pid").read_text())
    backend.cancel(job.job_id, grace=0.2)
    sink.until(job.job_id, "cancelled")
    assert Job.objects.get(id=job.job_id).state == "cancelled"
    assert _gone(pid)
    # The slot is refilled: the next job runs on a fresh worker.
    after = spec("boom", None)
    backend.submit(after)
    sink.until(after.job_id, "failed")


def test_cancelling_a_queued_job_ends_it_at_once_and_it_never_runs(pool) -> None:
    backend, sink, tmp = pool
    ctl = control(tmp, "q")
    first = spec("gated", {"dir": str(ctl), "steps": 1})
    second = spec("gated", {"dir": str(ctl), "steps": 1})
    backend.submit(first)
    sink.until(first.job_id, "running")
    backend.submit(second)  # one worker, busy: second waits
    backend.cancel(second.job_id, grace=30)
    sink.until(second.job_id, "cancelled")
    go(ctl, 0)
    sink.until(first.job_id, "succeeded")
    assert sink.kinds(second.job_id) == ["cancelled"]
    assert Job.objects.get(id=second.job_id).started is None


def test_a_killed_worker_leaves_its_job_interrupted_not_running(pool) -> None:
    backend, sink, tmp = pool
    ctl = control(tmp, "k")
    job = spec("stubborn", {"dir": str(ctl)})
    backend.submit(job)
    sink.until(job.job_id, "progress", stage="deaf")
    os.kill(int((ctl / "pid").read_text()), signal.SIGKILL)
    sink.until(job.job_id, "interrupted")
    assert Job.objects.get(id=job.job_id).state == "interrupted"


def test_a_killed_worker_reruns_a_job_declared_safe_to_retry(pool) -> None:
    backend, sink, tmp = pool
    ctl = control(tmp, "r")
    job = spec("retried", {"dir": str(ctl)}, retry=True)
    backend.submit(job)
    sink.until(job.job_id, "progress", stage="working", attempt=1)
    (ctl / "killed").write_text("")
    os.kill(int((ctl / "pid").read_text()), signal.SIGKILL)
    end = sink.until(job.job_id, "succeeded")
    assert (end.attempt, end.result) == (2, "second time lucky")
    assert "interrupted" not in sink.kinds(job.job_id)
    assert Job.objects.get(id=job.job_id).attempt == 2


def test_jobs_a_dead_server_left_running_are_interrupted_at_the_next_start(tmp_path) -> None:
    app = str(write_app(tmp_path))
    running = store.create(store.new_id(), "anon:x", app, "gated", {}, backend="embedded")
    assert store.claim(running.id, 1, "dead-server/1")
    sink = Sink()
    backend = ProcessBackend(sink, app, workers=1)
    try:
        sink.until(running.id, "interrupted")
    finally:
        backend.shutdown()
    assert Job.objects.get(id=running.id).state == "interrupted"


def _gone(pid: int) -> bool:
    deadline = time.monotonic() + BUDGET
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.01)
    return False


def test_a_job_starts_on_an_idle_worker_without_waiting_for_the_supervisor(pool) -> None:
    """A handler's lane starts a job itself when a worker is idle: the supervisor's wake-up
    is not on the path of a click's first progress (bench_jobs). Here the supervisor is held
    in its selector, and the job still starts."""
    backend, sink, tmp = pool
    _warm(backend, sink)
    gate, parked = threading.Event(), threading.Event()
    select = backend._selector.select

    def held(timeout: float | None = None) -> Any:
        parked.set()
        gate.wait(2 * BUDGET)
        return select(0)

    backend._selector.select = held  # type: ignore[method-assign]
    backend._wake()  # the supervisor's next select is the held one
    assert parked.wait(BUDGET)
    ctl = control(tmp, "direct")
    job = spec("stubborn", {"dir": str(ctl)})
    backend.submit(job)
    try:
        _until(lambda: (ctl / "pid").exists(), "the job to start while the supervisor waits")
    finally:
        gate.set()
        backend._selector.select = select  # type: ignore[method-assign]
    sink.until(job.job_id, "progress", stage="deaf")  # its reports were held, not lost
    backend.cancel(job.job_id, grace=0.1)
    sink.until(job.job_id, "cancelled")
    assert sink.kinds(job.job_id)[0] == "running"


def test_a_cancel_sent_right_behind_its_run_reaches_the_job(tmp_path: Path) -> None:
    """The worker takes a job as its current one before it reads on: a cancel that follows
    the run at once is not lost between the two (the supervisor sends exactly that when a
    click starts a job that another click cancels)."""
    ctx = mp.get_context("spawn")
    conn, child = ctx.Pipe()
    proc = ctx.Process(target=worker.main, args=(child, str(write_app(tmp_path))))
    proc.start()
    child.close()
    try:
        assert conn.poll(BUDGET) and conn.recv()[0] == "ready"
        for name in ("x", "y"):  # twice: the worker's two reading threads take turns
            job = spec("gated", {"dir": str(control(tmp_path, name)), "steps": 1})
            conn.send(("run", job))
            conn.send(("cancel", job.job_id))
            kinds = []
            while True:
                assert conn.poll(BUDGET), f"the job stopped at {kinds}"
                msg = conn.recv()
                if msg[0] == "idle":
                    break
                kinds.append(msg[1].kind)
            assert (kinds[0], kinds[-1]) == ("running", "cancelled"), kinds
    finally:
        proc.kill()
        proc.join(BUDGET)


def _warm(backend: ProcessBackend, sink: Sink) -> None:
    """Until the pool's worker has loaded the app and is idle."""
    warm = spec("boom", None)
    backend.submit(warm)
    sink.until(warm.job_id, "failed")
    _until(lambda: all(w.ready and w.spec is None for w in backend._workers), "an idle worker")


def _until(condition: Any, what: str) -> None:
    deadline = time.monotonic() + BUDGET
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {BUDGET} s")
        time.sleep(0.005)


def test_progress_is_read_on_the_serving_loop_and_comes_after_running(tmp_path: Path) -> None:
    """Once it knows the serving loop, the pool has it read the workers' progress reports
    (one thread hop less to the browser); a job's "running" still comes first."""

    async def main() -> list[tuple[str, bool]]:
        loop = asyncio.get_running_loop()
        got: asyncio.Queue[tuple[str, bool]] = asyncio.Queue()
        on_loop = threading.get_ident()

        def sink(update: JobUpdate) -> None:
            item = (update.kind, threading.get_ident() == on_loop)
            loop.call_soon_threadsafe(got.put_nowait, item)

        backend = ProcessBackend(sink, str(write_app(tmp_path)), workers=1, persist_every=0.05)
        backend.read_reports_on(loop)
        try:
            ctl = control(tmp_path, "loop")
            job = spec("gated", {"dir": str(ctl), "steps": 2})
            backend.submit(job)
            seen = [await _next(got, [])]
            go(ctl, 0)  # a report after its "running" was handed on
            while ("progress", True) not in seen:
                seen.append(await _next(got, seen))
            # Its worker dies: the loop's reader ends with its pipe, the supervisor reports.
            (pid,) = [w.proc.pid for w in backend._workers if w.spec is not None]
            os.kill(pid, signal.SIGKILL)
            while seen[-1][0] != "interrupted":
                seen.append(await _next(got, seen))
            after = spec("boom", None)  # the pool goes on, on a fresh worker
            backend.submit(after)
            while seen[-1][0] != "failed":
                seen.append(await _next(got, seen))
            return seen
        finally:
            backend.shutdown()

    seen = asyncio.run(main())
    assert seen[0] == ("running", False)  # the supervisor's: in order with the job's log
    assert ("progress", True) in seen  # read on the loop
    assert ("interrupted", False) in seen
    assert seen[-1] == ("failed", False)


def test_a_progress_report_that_overtakes_running_waits_for_it(pool) -> None:
    """Progress and the job's state come on two pipes: a report read first is held until
    the job's "running", so the states stay in order (PHL-JOB-010)."""
    backend, sink, _ = pool
    job = spec("gated", {})
    w = embedded._Worker(proc=None, conn=None, reports=None)  # type: ignore[arg-type]
    w.spec = job
    with backend._lock:
        backend._update(w, JobUpdate(job.job_id, "progress", fraction=0.25))
        assert sink.q.empty()
        backend._update(w, JobUpdate(job.job_id, "running"))
    assert [sink.q.get_nowait().kind for _ in range(2)] == ["running", "progress"]


async def _next(got: asyncio.Queue[tuple[str, bool]], seen: list[tuple[str, bool]]) -> Any:
    try:
        return await asyncio.wait_for(got.get(), BUDGET)
    except TimeoutError:
        pytest.fail(f"nothing more within {BUDGET} s after {seen}")


def test_a_fault_in_handling_one_worker_costs_that_worker_not_the_pool(pool) -> None:
    """The supervisor survives its own bug in handling a worker's message: that worker is
    stopped (its job ends as after a crash), and the pool runs the next job."""
    backend, sink, tmp = pool
    ctl = control(tmp, "fault")
    job = spec("stubborn", {"dir": str(ctl)})  # says "running", then waits: only a kill ends it
    receive = backend._receive

    def faulty(w: Any) -> None:
        if w.spec is not None and w.spec.job_id == job.job_id:
            backend._receive = receive  # type: ignore[method-assign]
            raise RuntimeError("a bug in the supervisor")
        receive(w)

    backend._receive = faulty  # type: ignore[method-assign]
    backend.submit(job)
    sink.until(job.job_id, "interrupted")
    after = spec("boom", None)
    backend.submit(after)
    sink.until(after.job_id, "failed")
