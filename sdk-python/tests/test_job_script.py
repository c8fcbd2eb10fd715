"""phloem.testing.script: the scripted job body the conformance fixtures use, driven on real
threads (each wait below is bounded by a condition, never a sleep) — the lifecycle commands
(ignore_cancel, crash, occupy/release) the jobs-long contract adds."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import phloem as ph
from phloem.jobs import JobUpdate, Reporter, execute
from phloem.testing.script import WAIT, JobScript

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "apps.py"


class Run:
    """One attempt of a scripted job on a thread, reporting to a list."""

    def __init__(self, script: JobScript, job_id: str = "j1", attempt: int = 1) -> None:
        self.updates: list[JobUpdate] = []
        self.reporter = Reporter(job_id, self.updates.append, lambda: 0.0, attempt)
        self.ended: list[Any] = []
        self.thread = threading.Thread(target=self._run, args=(script,), daemon=True)
        self.thread.start()

    def _run(self, script: JobScript) -> None:
        try:
            self.ended.append(execute(lambda p, pr: script.follow(pr), None, self.reporter))
        except BaseException as exc:  # a crashed body ends with _Lost once forgotten
            self.ended.append(exc)


def test_a_job_told_to_ignore_its_cancel_waits_on_and_settles() -> None:
    script = JobScript()
    run = Run(script)
    script.command("j1", {"ignore_cancel": True})
    assert script.settle("j1")
    run.reporter.cancel()
    script.wake("j1")  # what a cancel does
    assert script.settle("j1") and not script.ended("j1")  # idle again, not stopped
    script.command("j1", {"complete": "done anyway"})
    run.thread.join(WAIT)
    assert run.ended[0].kind == "succeeded" and run.ended[0].result == "done anyway"


def test_a_cancel_without_ignore_stops_the_job() -> None:
    script = JobScript()
    run = Run(script)
    assert script.settle("j1")
    run.reporter.cancel()
    script.wake("j1")
    run.thread.join(WAIT)
    assert run.ended[0].kind == "cancelled"


def test_a_crashed_body_falls_silent_and_the_next_attempt_takes_the_commands() -> None:
    script = JobScript()
    first = Run(script)
    assert script.settle("j1")
    script.crash("j1")
    second = Run(script, attempt=2)
    script.command("j1", {"advance": {"fraction": 0.1}})
    assert script.settle("j1")
    assert [(u.kind, u.attempt, u.fraction) for u in second.updates][-1] == ("progress", 2, 0.1)
    assert [u.kind for u in first.updates] == ["running"]  # nothing after its crash
    script.command("j1", {"complete": 2})
    second.thread.join(WAIT)
    assert second.ended[0].result == 2 and first.thread.is_alive()
    script.forget()  # the case is over: the crashed body's thread ends, still silent
    first.thread.join(WAIT)
    assert not first.thread.is_alive() and [u.kind for u in first.updates] == ["running"]


def test_occupy_holds_until_release() -> None:
    script = JobScript()
    holders = [threading.Thread(target=script.occupy, daemon=True) for _ in range(2)]
    for holder in holders:
        holder.start()
    assert all(h.is_alive() for h in holders)
    script.release()
    for holder in holders:
        holder.join(WAIT)
        assert not holder.is_alive()


def test_the_lifecycle_fixtures_declare_what_their_contracts_say() -> None:
    app = ph.load_app(FIXTURES)
    assert app.jobs["scripted_retry"].options.retry is True
    assert app.jobs["scripted"].options.retry is False
    assert app.jobs["scripted_grace"].options.grace == 1.0
    assert app.page_options("/jobs-grace").limits["job_cancel_seconds"] == 3
    assert "occupy" in app.jobs
