"""Jobs through the runtime's typed effects: a handler's start happens inside its Run call and
is undone when it raises; job frames are queued for the session like pushes; the owner's
other sessions get a Wake; receive returns queued frames, the answer, then what it caused."""

from __future__ import annotations

from typing import Any

import orjson
from jobs_support import jobs_app
from phloem.jobs import JobUpdate
from phloem.runtime import Connection, Hub, Output, Run, Wake, settle
from phloem.runtime.jobs import Submit

HELLO = {"type": "hello", "versions": ["1.1"], "features": ["jobs"]}


def _hub(**kwargs: Any) -> Hub:
    return Hub(jobs_app(), new_token=iter(f"token-{i:016d}" for i in range(99)).__next__, **kwargs)


def _types(out: Output) -> list[str]:
    return [orjson.loads(f)["type"] for f in out.frames]


def _open(hub: Hub, owner: str = "user:ann") -> Connection:
    conn = hub.connect(0.0, owner=owner)
    out = settle(conn.receive(orjson.dumps(HELLO).decode(), 0.0))
    assert _types(out) == ["welcome", "ui.snapshot"]
    return conn


def _click(conn: Connection, node: str, event: int) -> Output:
    msg = {"type": "event", "id": event, "node": node, "name": "click"}
    return conn.receive(orjson.dumps(msg).decode(), 1.0)


def test_a_handlers_job_starts_inside_its_run_call_after_the_answer() -> None:
    hub = _hub(offload=True)
    conn = _open(hub)
    out = _click(conn, "run", 1)
    # Nothing of the handler has run yet: no frame, no job, no backend command.
    (run,) = out.effects
    assert type(run) is Run and out.frames == [] and hub.jobs.commands() == []
    done = run.call()
    assert _types(done) == ["ui.patch", "job.state"]
    patch, state = (orjson.loads(f) for f in done.frames)
    assert patch["event"] == 1 and state["seq"] == patch["seq"] + 1
    assert state["state"] == "queued"
    assert [type(c) for c in hub.jobs.commands()] == [Submit]
    assert conn.drain().frames == []  # handed out with the answer, not left behind


def test_a_handler_that_raises_inside_its_run_starts_no_job() -> None:
    hub = _hub(offload=True)
    conn = _open(hub)
    (run,) = _click(conn, "boom", 1).effects
    assert type(run) is Run
    done = run.call()
    assert _types(done) == ["error"] and orjson.loads(done.frames[0])["code"] == "handler_error"
    assert hub.jobs.commands() == [] and hub.jobs.records == {}
    # The next click's job is the first the table knows.
    again = settle(_click(conn, "run", 2))
    assert _types(again) == ["ui.patch", "job.state"]
    assert len(hub.jobs.records) == 1


def test_the_owners_other_session_is_woken_and_drains_its_job_frames() -> None:
    hub = _hub(offload=True)
    ann, other = _open(hub), _open(hub)
    assert other.session is not None
    done = settle(_click(ann, "run", 1))
    assert _types(done) == ["ui.patch", "job.state"]
    assert done.effects == (Wake(frozenset({other.session.id})),)
    # The other tab's job.state waits in its session like a push's patch, and its page
    # (which shows the newest run) re-rendered after it.
    assert _types(other.drain()) == ["job.state", "ui.patch"]
    assert other.drain().frames == []


def test_only_a_sessions_own_path_numbers_its_job_frames() -> None:
    # Two tabs of one owner, as a server runs them: each session's app code in its own lane
    # (thread). Ann's handler starts a job while Bob's handler is in flight in Bob's lane;
    # interleaved by hand: Ann's lane runs between Bob's event arriving and Bob's lane
    # running. Numbering Bob's frames from Ann's lane would race Bob's own numbering
    # (PHL-DELIV-001): Bob's seqs must move only on Bob's path.
    hub = _hub(offload=True)
    ann, bob = _open(hub), _open(hub)
    assert bob.session is not None
    bob_session = bob.session
    (bob_run,) = _click(bob, "again", 1).effects  # Bob's handler, handed to Bob's lane
    before = bob_session.seq
    done = settle(_click(ann, "run", 1))  # Ann's lane: the handler starts a job
    assert done.effects == (Wake(frozenset({bob_session.id})),)
    assert bob_session.seq == before  # nothing of Bob's was numbered on Ann's path
    hub.jobs.apply(JobUpdate(next(iter(hub.jobs.records)), "running", 1), 1.5)  # the loop
    assert bob_session.seq == before  # nor by the shell applying a report
    assert type(bob_run) is Run
    answer = bob_run.call()  # Bob's lane: his answer, then what reached him meanwhile
    msgs = [orjson.loads(f) for f in answer.frames + bob.drain().frames]
    assert [m["seq"] for m in msgs] == list(range(before + 1, before + 1 + len(msgs)))
    assert msgs[0]["event"] == 1  # his own answer is numbered first
    crunch, latest = hub.jobs.records  # Ann's job, then the one Bob's handler started
    states = [(m["job"], m["state"]) for m in msgs if m["type"] == "job.state"]
    assert states == [(crunch, "queued"), (crunch, "running"), (latest, "queued")]


def test_a_detached_sessions_job_frames_are_numbered_when_the_shell_flushes_it() -> None:
    hub = _hub(offload=True)
    ann = _open(hub)
    settle(_click(ann, "run", 1))
    session = ann.session
    assert session is not None
    before = session.seq
    ann.disconnect(2.0)
    hub.jobs.apply(JobUpdate(next(iter(hub.jobs.records)), "running", 1), 2.5)
    assert session.seq == before  # queued: numbered on the session's path only
    hub.flush(session.id)  # the shell, in the session's lane
    assert session.seq == before + 2
    back = hub.connect(3.0, owner="user:ann")
    resume = {**HELLO, "resume": {"token": session.token, "seq": before}}
    out = settle(back.receive(orjson.dumps(resume).decode(), 3.0))
    assert _types(out) == ["welcome", "job.state", "ui.patch"]  # replayed from the buffer


def test_receive_gives_frames_queued_earlier_then_the_answer_then_what_it_caused() -> None:
    hub = _hub()  # offload=False: the core runs the handler before returning
    conn = _open(hub)
    settle(_click(conn, "run", 1))
    (job,) = hub.jobs.records
    # The backend reports the job running: its frames wait in the session (no wake here).
    hub.jobs.apply(JobUpdate(job, "running", 1), 1.0)
    out = _click(conn, "again", 2)  # starts latest_only, which the page does not show
    msgs = [orjson.loads(f) for f in out.frames]
    assert [m["type"] for m in msgs] == ["job.state", "ui.patch", "ack", "job.state"]
    assert (msgs[0]["state"], msgs[2]["event"], msgs[3]["state"]) == ("running", 2, "queued")
    assert msgs[0]["job"] == job and msgs[3]["job"] != job
    assert [m["seq"] for m in msgs] == sorted(m["seq"] for m in msgs)


def test_a_shell_without_a_job_backend_does_not_offer_the_feature() -> None:
    hub = _hub(jobs=False)
    welcome = orjson.loads(hub.connect(0.0).receive(orjson.dumps(HELLO).decode(), 0.0).frames[0])
    assert welcome["version"] == "1.1" and "features" not in welcome
