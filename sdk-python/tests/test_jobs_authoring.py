"""The job side (progress reporter, execute), the SDK backends, and jobs through TestClient."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Any

import phloem as ph
import pytest
from jobs_support import assert_valid, jobs_app
from phloem.jobs import JobCancelled, JobSpec, JobUpdate, Progress, Reporter, execute
from phloem.jobs.backends import ThreadBackend
from phloem.jobs.reporter import CHECK_EVERY
from phloem.testing import ServerError, TestClient

WAIT = 30.0  # seconds: a bound on waiting for a pool thread, never a sleep


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def reporter(clock: Clock) -> tuple[Reporter, list[JobUpdate]]:
    sent: list[JobUpdate] = []
    return Reporter("j1", sent.append, clock), sent


def test_progress_reports_at_once_then_about_once_per_interval() -> None:
    clock = Clock()
    progress, sent = reporter(clock)
    for i in range(1000):
        clock.now = i * 0.001  # 1,000 calls over one second
        progress(i / 1000)
    assert sent[0].fraction == 0.0  # the first call reports at once
    times = [round((u.fraction or 0) * 1000) for u in sent]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # 50 ms apart, late by at most the calls between two looks at the clock (CHECK_EVERY).
    assert all(50 <= gap <= 50 + CHECK_EVERY for gap in gaps), gaps
    assert 1000 // (50 + CHECK_EVERY) <= len(sent) <= 20


def test_progress_reads_the_clock_only_every_few_calls() -> None:
    reads = 0

    def clock() -> float:
        nonlocal reads
        reads += 1
        return reads * 1e-6  # a very fast loop: 1 us per call

    progress = Reporter("j1", lambda u: None, clock).progress
    for _ in range(10_000):
        progress(0.5)
    assert reads <= 10_000 // CHECK_EVERY + 10


def test_a_stage_change_waits_for_its_slot_and_a_new_stage_per_step_stays_cheap() -> None:
    clock = Clock()
    progress, sent = reporter(clock)
    progress(0.1, stage="load")
    clock.now = 0.01
    progress(0.3, stage="fit")
    assert [(u.fraction, u.stage) for u in sent] == [(0.1, "load")]
    clock.now = 0.06
    progress(0.35)
    assert [(u.fraction, u.stage) for u in sent] == [(0.1, "load"), (0.35, "fit")]
    busy, many = reporter(clock)
    for i in range(10_000):  # a new stage on every step, over one second
        clock.now = 1 + i * 1e-4
        busy(i / 10_000, stage=f"step {i}")
    assert len(many) <= 21


def test_progress_raises_once_cancelled() -> None:
    progress, _ = reporter(Clock())
    progress(0.1)
    assert progress.cancelled is False
    progress.cancel()
    assert progress.cancelled is True
    with pytest.raises(JobCancelled):
        progress(0.2)


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan")])
def test_a_fraction_outside_0_1_is_the_jobs_error(bad: float) -> None:
    progress, _ = reporter(Clock())
    with pytest.raises(ValueError, match="within"):
        progress(bad)


def test_execute_reports_running_then_returns_the_outcome() -> None:
    clock = Clock()

    def ok(params: Any, progress: Progress) -> Any:
        progress.log("a", "b\nc")
        return params + 1

    def bad(params: Any, progress: Progress) -> Any:
        raise KeyError("k")

    def stops(params: Any, progress: Progress) -> Any:
        progress(0.5)  # raises: the backend cancelled it before it ran

    progress, sent = reporter(clock)
    final = execute(ok, 1, progress)
    assert [u.kind for u in sent] == ["running", "log"] and sent[1].lines == ("a", "b", "c")
    assert final.kind == "succeeded" and final.result == 2
    failed = execute(bad, None, reporter(clock)[0])
    assert failed.kind == "failed" and failed.error is not None
    assert failed.error.message == "KeyError: 'k'" and "Traceback" in failed.error.traceback
    cancelled = reporter(clock)[0]
    cancelled.cancel()
    assert cancelled.progress.cancelled is True
    assert execute(stops, None, cancelled).kind == "cancelled"


def test_a_job_update_survives_json() -> None:
    update = JobUpdate("j1", "log", 2, lines=("x",))
    assert JobUpdate.from_json(update.to_json()) == update
    with pytest.raises(ValueError, match="kind"):
        JobUpdate.from_json({"job_id": "j1", "kind": "exploded"})


# --- the thread backend (real threads; synchronised, never slept) ---------------------------


class Timers:
    """Collects hard-stop timers so a test fires them by hand."""

    def __init__(self) -> None:
        self.pending: list[tuple[float, Callable[[], None]]] = []

    def __call__(self, delay: float, fn: Callable[[], None]) -> None:
        self.pending.append((delay, fn))


def thread_backend(app: ph.App) -> tuple[ThreadBackend, list[JobUpdate], threading.Event, Timers]:
    updates: list[JobUpdate] = []
    ended = threading.Event()

    def sink(update: JobUpdate) -> None:
        updates.append(update)
        if update.kind in ("succeeded", "failed", "cancelled", "interrupted"):
            ended.set()

    timers = Timers()
    return ThreadBackend(app.jobs, sink, workers=1, timer=timers), updates, ended, timers


def test_the_thread_backend_runs_a_job_to_its_end() -> None:
    app = jobs_app()
    backend, updates, ended, _ = thread_backend(app)
    backend.submit(JobSpec("j1", "crunch", {"steps": 2}, "o"))
    assert ended.wait(WAIT)
    assert updates[0].kind == "running" and updates[-1].kind == "succeeded"
    assert updates[-1].result == 20
    backend.shutdown()


def test_the_thread_backend_cancels_cooperatively_and_stops_hard_after_the_grace() -> None:
    app = ph.App("Stubborn")
    inside, release = threading.Event(), threading.Event()

    @app.job
    def polite(params: Any, progress: Progress) -> None:
        inside.set()
        release.wait(WAIT)
        progress(0.5)  # raises: the cancel came meanwhile

    @app.job
    def stubborn(params: Any, progress: Progress) -> None:
        inside.set()
        release.wait(WAIT)  # never calls progress()

    backend, updates, ended, timers = thread_backend(app)
    backend.submit(JobSpec("p", "polite", None, "o"))
    assert inside.wait(WAIT)
    backend.cancel("p", 10)
    release.set()
    assert ended.wait(WAIT) and updates[-1].kind == "cancelled"
    inside.clear(), release.clear(), ended.clear()
    backend.submit(JobSpec("s", "stubborn", None, "o"))
    assert inside.wait(WAIT)
    backend.cancel("s", 10)
    assert [delay for delay, _ in timers.pending] == [10, 10]  # one per cancel
    stop = timers.pending[-1][1]
    stop()  # the grace is over: reported cancelled although the thread runs on
    assert ended.wait(WAIT) and updates[-1] == JobUpdate("s", "cancelled")
    count = len(updates)
    release.set()
    backend.shutdown()
    assert len(updates) == count  # what the abandoned thread reports is dropped


def test_a_job_cancelled_before_it_starts_never_runs() -> None:
    app = jobs_app()
    backend, updates, _, _ = thread_backend(app)
    backend.cancel("unknown", 1)  # nothing to cancel: nothing reported
    gate = threading.Event()

    @app.job
    def blocker(params: Any, progress: Progress) -> None:
        gate.wait(WAIT)

    backend.submit(JobSpec("b", "blocker", None, "o"))
    backend.submit(JobSpec("q", "crunch", {"steps": 1}, "o"))  # waits for the one worker
    backend.cancel("q", 1)
    gate.set()
    backend.shutdown()
    backend._pool.shutdown(wait=True)
    assert [u.kind for u in updates if u.job_id == "q"] == ["cancelled"]


# --- through the test client ----------------------------------------------------------------


def test_test_client_runs_jobs_when_told_and_the_page_shows_the_result() -> None:
    client = TestClient(jobs_app())
    client.click("run")
    assert client.text("out") == "queued: None"
    (job,) = client.jobs
    assert client.jobs[job]["state"] == "queued"
    messages = client.run_jobs()
    for msg in messages:
        assert_valid("messages/server-message", msg)
    assert client.text("out") == "succeeded: 30"
    assert client.jobs[job]["state"] == "succeeded"
    assert client.jobs[job]["lines"] == ["did 0", "did 1", "did 2"]


def test_test_client_shows_a_failing_job_as_its_error() -> None:
    app = jobs_app()
    client = TestClient(app)
    client.post(lambda ui: ui.state("params", {}).set({"steps": 1, "fail": True}))
    client.click("run")
    client.run_jobs()
    assert client.text("out") == "failed: ValueError: no convergence"


def test_test_client_cancels_a_queued_job_and_refuses_an_unknown_one() -> None:
    client = TestClient(jobs_app())
    client.click("run")
    (job,) = client.jobs
    assert client.cancel_job(job)["type"] == "ack"
    assert client.jobs[job]["state"] == "cancelled"
    assert client.run_jobs() == []  # it never runs
    with pytest.raises(ServerError) as refused:
        client.cancel_job("jobOfSomeoneElse")
    assert refused.value.code == "unknown_job"


def test_starting_a_job_outside_a_session_says_so() -> None:
    app = jobs_app()
    ui = ph.UI({}, "/")
    with pytest.raises(ph.jobs.JobsUnavailable, match="inside a session"):
        app.jobs["crunch"].start(ui, {})


def test_a_job_name_is_registered_once() -> None:
    app = jobs_app()
    with pytest.raises(ValueError, match="already has a job"):

        @app.job(name="crunch")
        def other(params: Any, progress: Progress) -> None: ...


def test_shutting_the_thread_backend_down_reports_unfinished_jobs_interrupted() -> None:
    app = ph.App("Shutdown")
    inside, release = threading.Event(), threading.Event()

    @app.job
    def waits(params: Any, progress: Progress) -> None:
        inside.set()
        release.wait(WAIT)

    backend, updates, _, _ = thread_backend(app)
    backend.submit(JobSpec("run", "waits", None, "o"))
    assert inside.wait(WAIT)
    backend.submit(JobSpec("queued", "waits", None, "o"))  # waits for the one worker
    backend.shutdown()
    release.set()
    backend._pool.shutdown(wait=True)
    ends = {u.job_id: u.kind for u in updates if u.kind != "running"}
    assert ends == {"run": "interrupted", "queued": "interrupted"}


def test_a_stage_held_back_for_its_slot_is_sent_when_the_slot_comes() -> None:
    """A job names a stage right after a report, then works long without calling progress():
    the backend's timer sends that stage once the interval has passed (flush_if_due)."""
    sent: list[JobUpdate] = []
    clock = [0.0]
    reporter = Reporter("j1", sent.append, lambda: clock[0], interval=0.05)
    reporter.progress(0.1, stage="k = 2")  # the first report goes at once
    clock[0] = 0.01
    reporter.progress(0.2, stage="k = 3")  # within the interval: held back
    reporter.log("k=2 done")
    assert [u.stage for u in sent if u.kind == "progress"] == ["k = 2"]
    assert reporter.flush_if_due(0.02) is False  # not yet its slot
    assert reporter.flush_if_due(0.07) is True
    assert [u.stage for u in sent if u.kind == "progress"] == ["k = 2", "k = 3"]
    assert [u.lines for u in sent if u.kind == "log"] == [("k=2 done",)]
    assert reporter.flush_if_due(1.0) is False  # nothing held back any more
