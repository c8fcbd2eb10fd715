"""Jobs through `phloem run` (the embedded default), end to end over a real WebSocket: a job
belongs to the browser, not the connection (a reload and a second tab see it, another browser
does not), and killing the server mid-job leaves it reported interrupted after the restart,
never stuck running. Job steps are released by the test (jobs_fixture), not by time."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from jobs_fixture import write_app
from jobs_live import OWNER_KEY, job_client, job_message
from live import phloem_run

pytestmark = [pytest.mark.socket, pytest.mark.subprocess]  # starts servers or worker processes: not in make test-fast

ENV = {"PHLOEM_OWNER_KEY": OWNER_KEY, "PHLOEM_JOB_WORKERS": "1"}


@pytest.fixture
def app(tmp_path: Path) -> Path:
    return write_app(tmp_path)


async def test_a_reload_and_a_second_tab_see_the_job_and_its_live_progress(app, tmp_path):
    ctl = tmp_path / "ctl"
    ctl.mkdir()
    with phloem_run(app, tmp_path / "data", env=ENV) as server:
        async with job_client(server.url, "alice") as tab:
            await tab.hello()
            job = await tab.start("gated", {"dir": str(ctl), "steps": 2})
            await tab.state(job, "running")
            (ctl / "go-0").write_text("")
            await tab.until(job_message("job.progress", job, stage="step 1"))
            await tab.until(job_message("job.log", job, offset=0, lines=["step 1 done"]))
        # The tab closed (a reload): a new connection of the same browser syncs the job.
        async with (
            job_client(server.url, "alice") as reloaded,
            job_client(server.url, "alice") as second,
        ):
            for c in (reloaded, second):
                await c.hello()
                synced = await c.state(job, "running")
                assert synced["progress"]["stage"] == "step 1"
                assert synced["progress"]["fraction"] == 0.5
                await c.until(job_message("job.log", job, lines=["step 1 done"]))
            (ctl / "go-1").write_text("")
            for c in (reloaded, second):
                await c.until(job_message("job.log", job, offset=1, lines=["step 2 done"]))
                end = await c.state(job, "succeeded")
                assert end["progress"]["fraction"] == 1.0
                assert c.seqs == sorted(set(c.seqs))  # nothing doubled, nothing out of order


async def test_another_browser_neither_sees_nor_cancels_the_job(app, tmp_path):
    ctl = tmp_path / "ctl"
    ctl.mkdir()
    with phloem_run(app, tmp_path / "data", env=ENV) as server:
        async with job_client(server.url, "alice") as alice:
            await alice.hello()
            job = await alice.start("gated", {"dir": str(ctl), "steps": 1})
            await alice.state(job, "running")
            async with job_client(server.url, "mallory") as mallory:
                await mallory.hello()
                answer = await mallory.cancel(job)
                assert (answer["type"], answer["code"]) == ("error", "unknown_job")
                assert not any(m.get("job") == job for m in mallory.seen)
            (ctl / "go-0").write_text("")
            await alice.state(job, "succeeded")


async def test_killing_the_server_mid_job_reports_it_interrupted_after_the_restart(app, tmp_path):
    ctl = tmp_path / "ctl"
    ctl.mkdir()
    data = tmp_path / "data"
    with phloem_run(app, data, env=ENV) as server:
        async with job_client(server.url, "alice") as tab:
            await tab.hello()
            job = await tab.start("stubborn", {"dir": str(ctl)})
            await tab.until(job_message("job.progress", job, stage="deaf"))
            worker = int((ctl / "pid").read_text())
            os.kill(server.pid, signal.SIGKILL)
    assert _gone(worker)  # the server's workers do not outlive it
    with phloem_run(app, data, env=ENV) as restarted:
        async with job_client(restarted.url, "alice") as tab:
            await tab.hello()
            await tab.state(job, "interrupted")  # at once: the restart reports it


def _gone(pid: int) -> bool:
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.01)
    return False
