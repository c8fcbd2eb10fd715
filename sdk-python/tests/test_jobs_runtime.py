"""The job rules of protocol 1.1 in the sans-IO runtime; the test plays the backend."""

from __future__ import annotations

from typing import Any

import phloem as ph
import pytest
from jobs_support import Bench, Client, of_type
from phloem.jobs import JobError
from phloem.runtime import Limits


def started(bench: Bench, client: Client) -> str:
    client.hello()
    client.click("run")
    (job,) = bench.submitted()
    return job


def test_jobs_is_enabled_only_for_1_1_with_the_feature_listed() -> None:
    bench = Bench()
    welcome = bench.client().hello()[0]
    assert welcome["version"] == "1.1" and welcome["features"] == ["jobs"]
    assert welcome["limits"]["job_progress_per_second"] == 20
    assert welcome["limits"]["job_cancel_seconds"] == 15
    old = bench.client().hello(versions=["1.0"])[0]
    assert old["version"] == "1.0" and "features" not in old
    assert "job_progress_per_second" not in old["limits"]
    plain = bench.client().send({"type": "hello", "versions": ["1.1"]})[0]
    assert "features" not in plain


def test_a_started_job_is_announced_queued_after_the_answer_to_its_click() -> None:
    bench = Bench()
    client = bench.client()
    client.hello()
    replies = client.click("run")
    assert [m["type"] for m in replies] == ["ui.patch", "job.state"]
    patch, state = replies
    assert patch["event"] == 1 and state["seq"] == patch["seq"] + 1
    assert state == {
        "type": "job.state",
        "seq": 4,
        "job": "job1",
        "name": "crunch",
        "state": "queued",
    }
    inserted = [op["insert"] for op in patch["ops"] if "insert" in op]
    assert {
        "id": "jp",
        "type": "JobProgress",
        "props": {"job": "job1", "label": "Crunching"},
    } in inserted


def test_lifecycle_runs_queued_running_succeeded_and_the_page_shows_the_result() -> None:
    bench = Bench()
    client = bench.client()
    job = started(bench, client)
    bench.report(job, "running")
    running = client.drain()
    assert [m["type"] for m in running] == ["job.state", "ui.patch"]
    assert running[0]["state"] == "running"
    bench.report(job, "succeeded", fraction=0.5, result=30)
    done = client.drain()
    assert done[0]["state"] == "succeeded" and done[0]["progress"] == {"fraction": 1.0}
    assert done[1]["ops"] == [{"id": "out", "set": {"text": "succeeded: 30"}}]


def test_nothing_follows_a_terminal_state() -> None:
    bench = Bench()
    client = bench.client()
    job = started(bench, client)
    bench.report(job, "failed", error=JobError("ValueError: no convergence", "ValueError", "tb"))
    (state, _) = client.drain()
    assert state["error"] == {"message": "ValueError: no convergence", "type": "ValueError"}
    for kind in ("running", "progress", "log", "succeeded", "cancelled"):
        assert bench.report(job, kind, fraction=0.5, lines=("late",)) == set()
    assert client.drain() == []


def test_progress_is_monotone_and_reported_done_of_total_becomes_a_fraction() -> None:
    bench = Bench()
    client = bench.client()
    job = started(bench, client)
    progress = []
    for report in (
        {"fraction": 0.5},
        {"advance": 1, "fraction": 0.2, "stage": "again"},
        {"advance": 1, "done": 3, "total": 4},
    ):
        bench.report(job, "progress", **report)
        progress += of_type(client.drain(), "job.progress")  # each one: no coalescing
    assert [m.get("fraction") for m in progress] == [0.5, 0.5, 0.75]
    assert progress[1]["stage"] == "again"


def test_progress_is_held_to_the_announced_rate_and_the_newest_value_is_not_lost() -> None:
    bench = Bench(limits=Limits(job_progress_per_second=10))
    client = bench.client()
    job = started(bench, client)
    first = bench.now + 0.001
    for i in range(1, 50):  # 49 reports within 49 ms
        bench.report(job, "progress", advance=0.001, fraction=i / 100)
    sent = of_type(client.drain(), "job.progress")
    assert [m["fraction"] for m in sent] == [0.01]
    assert bench.hub.jobs.deadline() == pytest.approx(first + 0.1)  # 1/10 s after the first
    assert bench.advance(0.02) == set()  # not yet due
    assert bench.advance(0.1) != set()
    assert [m["fraction"] for m in of_type(client.drain(), "job.progress")] == [0.49]
    assert bench.hub.jobs.deadline() is None


def test_the_final_progress_is_folded_into_the_terminal_state() -> None:
    bench = Bench()
    client = bench.client()
    job = started(bench, client)
    bench.report(job, "progress", fraction=0.1)
    bench.report(job, "progress", fraction=0.9)  # held: same instant
    bench.report(job, "failed", error=JobError("E", "E"))
    states = of_type(client.drain(), "job.state")
    assert states[-1]["state"] == "failed" and states[-1]["progress"]["fraction"] == 0.9
    assert bench.hub.jobs.deadline() is None


def test_log_lines_carry_their_offset_in_the_job_log() -> None:
    bench = Bench()
    client = bench.client()
    job = started(bench, client)
    bench.report(job, "log", lines=("a", "b"))
    bench.report(job, "log", lines=("c",))
    logs = of_type(client.drain(), "job.log")
    assert [(m["offset"], m["lines"]) for m in logs] == [(0, ["a", "b"]), (2, ["c"])]


def test_a_second_session_of_the_owner_gets_every_job_and_then_its_updates() -> None:
    bench = Bench()
    first = bench.client(owner="user:alice")
    job = started(bench, first)
    bench.report(job, "progress", fraction=0.3, stage="s")
    bench.report(job, "log", lines=("one", "two"))
    second = bench.client(owner="user:alice")
    opened = second.hello()
    assert [m["type"] for m in opened] == ["welcome", "ui.snapshot", "job.state", "job.log"]
    state, log = opened[2], opened[3]
    assert state["state"] == "running" and state["progress"]["fraction"] == 0.3
    assert state["log"] == 2 and log == {**log, "offset": 0, "lines": ["one", "two"]}
    bench.report(job, "succeeded", advance=1)
    assert of_type(second.drain(), "job.state")[0]["state"] == "succeeded"


def test_another_owner_sees_no_job_and_cannot_cancel_it() -> None:
    bench = Bench()
    alice = bench.client(owner="user:alice")
    job = started(bench, alice)
    mallory = bench.client(owner="user:mallory")
    assert of_type(mallory.hello(), "job.state", "job.log") == []
    bench.report(job, "progress", fraction=0.5)
    assert mallory.drain() == []
    (theirs,) = mallory.cancel(job)
    (missing,) = mallory.cancel("jobNotThere")
    # PHL-JOB-051: the same answer whether the job exists or not.
    assert theirs["code"] == missing["code"] == "unknown_job"
    assert theirs["message"] == missing["message"]
    assert theirs["event"] == 1 and missing["event"] == 2
    assert bench.cancels() == []
    assert bench.hub.jobs.records[job].cancel_requested is False


def test_a_queued_job_cancelled_ends_at_once_and_never_starts() -> None:
    bench = Bench()
    client = bench.client()
    job = started(bench, client)
    replies = client.cancel(job)
    assert replies[0] == {"type": "ack", "seq": replies[0]["seq"], "event": 2}
    assert replies[1]["state"] == "cancelled"
    (cancel,) = bench.cancels()
    assert cancel.job_id == job
    assert bench.report(job, "running") == set()  # a backend that started it anyway is ignored


def test_a_running_job_cancelled_is_cancelling_then_terminal_by_the_deadline() -> None:
    bench = Bench()
    client = bench.client()
    job = started(bench, client)
    bench.report(job, "running")
    client.drain()
    ack, stopping = client.cancel(job)
    assert ack["event"] == 2 and stopping["cancel_requested"] is True
    assert bench.cancels()[0].grace == 10.0
    assert bench.advance(14.9) == set()
    bench.advance(0.2)  # past job_cancel_seconds: the table ends it (PHL-JOB-061)
    (state, _) = client.drain()
    assert state["state"] == "cancelled"
    assert client.cancel(job)[0]["type"] == "ack"  # cancelling a finished job is a no-op


def test_a_resent_cancel_is_applied_once() -> None:
    bench = Bench()
    client = bench.client()
    job = started(bench, client)
    bench.report(job, "running")
    client.drain()
    first = client.send({"type": "job.cancel", "id": 9, "job": job})
    again = client.send({"type": "job.cancel", "id": 9, "job": job})
    assert len(first) == 2 and [m["type"] for m in again] == ["ack"]
    assert len(bench.cancels()) == 1


def test_resume_replays_only_the_newest_progress_of_a_job() -> None:
    bench = Bench()
    client = bench.client()
    job = started(bench, client)
    seen = client.seq
    for i in range(1, 6):
        bench.report(job, "progress", advance=1, fraction=i / 10)
    bench.report(job, "log", lines=("x",))
    client.drain()  # lost with the connection
    replayed = client.reconnect(seen)
    assert replayed[0]["resumed"] is True
    kinds = [(m["type"], m.get("fraction")) for m in replayed[1:]]
    assert ("job.progress", 0.5) in kinds
    assert [k for k in kinds if k[0] == "job.progress"] == [("job.progress", 0.5)]
    assert [m["type"] for m in replayed[1:]].count("job.state") == 1  # running, once
    assert [m["seq"] for m in replayed] == list(range(seen + 1, seen + 1 + len(replayed)))


def test_a_resume_that_cannot_replay_gets_a_snapshot_and_every_job() -> None:
    bench = Bench(limits=Limits(replay_messages=2))
    client = bench.client()
    job = started(bench, client)
    seen = client.seq
    for i in range(1, 5):
        bench.report(job, "log", advance=1, lines=(f"l{i}",))
    client.drain()
    replies = client.reconnect(seen)
    assert [m["type"] for m in replies] == ["welcome", "ui.snapshot", "job.state", "job.log"]
    assert replies[3]["offset"] == 0 and replies[3]["lines"] == ["l1", "l2", "l3", "l4"]


def test_a_1_0_session_gets_no_job_message_but_its_page_follows_the_lifecycle() -> None:
    bench = Bench()
    client = bench.client()
    client.hello(versions=["1.0"])
    replies = client.click("run")
    assert [m["type"] for m in replies] == ["ui.patch"]
    (job,) = bench.submitted()
    bench.report(job, "progress", fraction=0.5)
    (running,) = client.drain()  # the page re-rendered for the lifecycle, no job message
    assert running["ops"] == [{"id": "out", "set": {"text": "running: None"}}]
    bench.report(job, "progress", advance=1, fraction=0.6)
    assert client.drain() == []
    bench.report(job, "succeeded", result=7)
    (patch,) = client.drain()
    assert patch["ops"] == [{"id": "out", "set": {"text": "succeeded: 7"}}]
    (refused,) = client.cancel(job)
    assert refused["code"] == "unknown_message_type"


def test_a_failing_handler_starts_no_job() -> None:
    bench = Bench()
    client = bench.client()
    client.hello()
    (error,) = client.click("boom")
    assert error["code"] == "handler_error"
    assert bench.commands() == [] and bench.hub.jobs.records == {}


def test_supersede_cancels_the_owners_unfinished_run_first() -> None:
    bench = Bench()
    client = bench.client()
    client.hello()
    client.click("again")
    (first,) = bench.submitted()
    bench.report(first, "running")
    client.click("again")
    commands = bench.commands()
    assert [type(c).__name__ for c in commands] == ["Cancel", "Submit"]
    assert commands[0].job_id == first  # type: ignore[union-attr]
    assert bench.hub.jobs.records[first].cancel_requested


def test_a_new_attempt_starts_over_and_an_older_attempt_cannot_write() -> None:
    bench = Bench()
    client = bench.client()
    job = started(bench, client)
    bench.report(job, "progress", fraction=0.7, stage="fit")
    client.drain()
    bench.report(job, "running", advance=1, attempt=2)  # run again after a crash
    # The page re-renders in the session's turn, showing the state then (running again).
    queued, running = of_type(client.drain(), "job.state")
    assert (queued["state"], queued["attempt"]) == ("queued", 2)
    assert (running["state"], running["attempt"]) == ("running", 2)
    bench.report(job, "progress", advance=1, attempt=2, fraction=0.1)
    (progress,) = of_type(client.drain(), "job.progress")
    assert progress["fraction"] == 0.1  # the new attempt's progress, not clamped to 0.7
    assert bench.report(job, "progress", advance=1, attempt=1, fraction=0.9) == set()
    assert bench.report(job, "succeeded", attempt=1) == set()
    assert bench.hub.jobs.records[job].state == "running"


def test_a_succeeded_job_is_complete() -> None:
    bench = Bench()
    client = bench.client()
    job = started(bench, client)
    bench.report(job, "progress", done=8, total=9)
    bench.report(job, "succeeded", advance=1)
    state = of_type(client.drain(), "job.state")[-1]
    assert state["progress"]["fraction"] == 1.0 and state["progress"]["done"] == 9


def test_an_adopted_job_is_synced_and_fed() -> None:
    bench = Bench()
    client = bench.client(owner="user:bob")
    client.hello()
    from phloem.jobs import JobOptions, JobRecord

    record = JobRecord("jobX", "crunch", "user:bob", None, JobOptions(), state="running")
    assert bench.hub.jobs.adopt(record) and not bench.hub.jobs.adopt(record)
    assert of_type(client.drain(), "job.state")[0]["job"] == "jobX"
    assert bench.commands() == []
    bench.report("jobX", "interrupted")
    assert of_type(client.drain(), "job.state")[0]["state"] == "interrupted"


def test_the_job_cancel_check_agrees_with_the_schema_examples() -> None:
    import json
    from pathlib import Path

    from phloem.protocol import inbound
    from phloem.protocol.errors import RemoteProtocolError

    examples = Path(__file__).resolve().parents[2] / "schemas" / "1.1" / "examples" / "job.cancel"
    files = sorted(examples.glob("*.json"))
    assert files
    for path in files:
        frame = path.read_text(encoding="utf-8")
        if path.name.startswith("valid-"):
            assert inbound.parse(frame) == json.loads(frame)
        else:
            with pytest.raises(RemoteProtocolError) as refused:
                inbound.parse(frame)
            assert refused.value.code == "invalid_message"


def test_a_handler_cancels_through_the_handle_and_a_failing_one_cancels_nothing() -> None:
    app = ph.App("Cancel")

    @app.job
    def work(params: Any, progress: ph.jobs.Progress) -> None: ...

    @app.page("/")
    def home(ui: ph.UI) -> ph.Element:
        def stop(fail: bool) -> None:
            job = work.latest(ui)
            assert job is not None
            job.cancel()
            if fail:
                raise RuntimeError("after cancelling")

        return ph.Column(
            ph.Button("Run", id="run", on_click=lambda e: work.start(ui)),
            ph.Button("Stop", id="stop", on_click=lambda e: stop(False)),
            ph.Button("Oops", id="oops", on_click=lambda e: stop(True)),
            id="root",
        )

    bench = Bench(app)
    client = bench.client()
    client.hello()
    client.click("run")
    (job,) = bench.submitted()
    bench.report(job, "running")
    client.drain()
    (error,) = client.click("oops")
    assert error["code"] == "handler_error"
    assert bench.cancels() == [] and not bench.hub.jobs.records[job].cancel_requested
    replies = client.click("stop")
    assert [m["type"] for m in replies] == ["ack", "job.state"]
    assert replies[1]["cancel_requested"] is True
    assert [c.job_id for c in bench.cancels()] == [job]


def test_an_owner_without_sessions_has_its_finished_jobs_forgotten() -> None:
    bench = Bench()
    client = bench.client(owner="anon:gone")
    done = started(bench, client)
    client.click("run")
    (running,) = bench.submitted()
    bench.report(done, "succeeded")
    bench.report(running, "running")
    client.conn.disconnect(bench.now)
    bench.hub.expire(bench.now + 10_000)
    assert done not in bench.hub.jobs.records
    assert running in bench.hub.jobs.records  # still running: its owner may come back
