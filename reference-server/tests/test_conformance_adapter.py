import json
import select
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from websockets.asyncio.client import connect

pytestmark = pytest.mark.subprocess  # starts adapters, servers or tools: not in make test-fast

ADAPTER = Path(__file__).resolve().parents[1] / "conformance_adapter.py"
REPLY_TIMEOUT = 60  # the first open starts a server


class Adapter:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(ADAPTER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def __call__(self, **command: object) -> dict:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        # One reply per command, so nothing is read ahead: select sees the next line.
        ready, _, _ = select.select([self.proc.stdout], [], [], REPLY_TIMEOUT)
        assert ready, f"no reply to {command} within {REPLY_TIMEOUT} s"
        return json.loads(self.proc.stdout.readline())


async def test_adapter_serves_fixtures_across_cases_until_bye():
    adapter = Adapter()
    try:
        hello = adapter(cmd="hello", adapter_protocol=1)
        assert hello["ok"] and hello["role"] == "server"
        assert set(hello["fixtures"]) == {
            "counter", "disabled-button", "dismiss", "failing-handler", "unknown-component",
            "input", "input-upper", "tree-echo", "ledger", "small-buffer", "private", "fallback", "fast-heartbeat",
            "long-input", "server-push", "jobs-long", "jobs-small-buffer",
            "jobs-retry", "jobs-grace",
        }  # fmt: skip
        for case, fixture in enumerate(["counter", "unknown-component"]):
            opened = adapter(cmd="open", case=str(case), fixture=fixture)
            assert opened["ok"] and opened["path"] == f"/{fixture}", opened
            async with connect(
                opened["url"], subprotocols=["phloem.v1"], origin=opened["origin"]
            ) as ws:
                hello_msg = {"type": "hello", "versions": ["1.0"], "path": opened["path"]}
                await ws.send(orjson.dumps(hello_msg).decode())
                assert orjson.loads(await ws.recv())["type"] == "welcome"
                assert orjson.loads(await ws.recv())["rev"] == 1  # a fresh session each case
            assert adapter(cmd="close") == {"ok": True}
        assert adapter(cmd="open", case="x", fixture="nope")["ok"] is False
        assert adapter(cmd="bye") == {"ok": True}
        assert adapter.proc.wait(15) == 0
    finally:
        adapter.proc.kill()
        adapter.proc.communicate()  # closes the pipes


async def test_adapter_logs_users_in_for_the_private_fixture():
    adapter = Adapter()
    try:
        assert adapter(cmd="hello", adapter_protocol=1)["ok"]
        opened = adapter(cmd="open", case="p", fixture="private")
        hello_msg = orjson.dumps(
            {"type": "hello", "versions": ["1.0"], "path": "/private"}
        ).decode()
        async with connect(
            opened["url"], subprotocols=["phloem.v1"], origin=opened["origin"]
        ) as ws:
            await ws.send(hello_msg)
            error = orjson.loads(await ws.recv())
            assert error["code"] == "unauthorized" and error["fatal"] is True
            await ws.wait_closed()
            assert ws.close_code == 4401
        login = adapter(cmd="login", user="alice")
        assert login["ok"] and login["headers"]["Cookie"].startswith("sessionid=")
        async with connect(
            opened["url"],
            subprotocols=["phloem.v1"],
            origin=opened["origin"],
            additional_headers=login["headers"],
        ) as ws:
            await ws.send(hello_msg)
            assert orjson.loads(await ws.recv())["type"] == "welcome"
            assert orjson.loads(await ws.recv())["type"] == "ui.snapshot"
        assert adapter(cmd="login", user="")["ok"] is False
        assert adapter(cmd="bye") == {"ok": True}
        assert adapter.proc.wait(15) == 0
    finally:
        adapter.proc.kill()
        adapter.proc.communicate()


def _job_thread(path, job_id="j1"):
    """The fixture job's body (follow_socket) on a thread, reporting to a list."""
    import threading

    from phloem.jobs import Reporter, execute
    from phloem.testing.script import follow_socket

    updates: list = []
    reporter = Reporter(job_id, updates.append, lambda: 0.0, 1)
    ended: list = []
    thread = threading.Thread(
        target=lambda: ended.append(execute(lambda p, pr: follow_socket(path, pr), None, reporter))
    )
    thread.start()
    return reporter, updates, ended, thread


def test_job_channel_drives_a_job_step_by_step(tmp_path):
    sys.path.insert(0, str(ADAPTER.parent))
    from conformance_jobchannel import JobChannel

    channel = JobChannel(str(tmp_path / "jobs.sock"))
    try:
        reporter, updates, ended, thread = _job_thread(channel.path)
        assert channel.command({"advance": {"fraction": 0.5, "stage": "k = 3"}}) is None
        # The reply came after the job acted: its progress was already flushed to the backend.
        assert [(u.kind, u.fraction, u.stage) for u in updates][-1] == ("progress", 0.5, "k = 3")
        assert channel.command({"log": ["a", "b"]}) is None
        assert (updates[-1].kind, updates[-1].lines) == ("log", ("a", "b"))
        assert "unknown job command" in (channel.command({"jump": 1}) or "")
        thread.join(15)
        assert ended[0].kind == "failed" and not channel.live

        reporter, updates, ended, thread = _job_thread(channel.path, "j2")
        assert channel.command({"complete": "42"}) is None
        thread.join(15)
        assert ended[0].kind == "succeeded" and ended[0].result == "42"

        reporter, updates, ended, thread = _job_thread(channel.path, "j3")
        assert channel.command({"advance": {"fraction": 0.1}}) is None
        reporter.cancel()  # a job waiting for its next step sees the cancel
        thread.join(15)
        assert ended[0].kind == "cancelled"

        reporter, updates, ended, thread = _job_thread(channel.path, "j4")
        assert channel.command({"advance": {"fraction": 0.1}}) is None
        channel.end_all()  # the case is over: the job ends
        thread.join(15)
        assert ended[0].kind == "succeeded" and ended[0].result is None
    finally:
        channel.close()


def _channel(tmp_path, occupy=None):
    sys.path.insert(0, str(ADAPTER.parent))
    from conformance_jobchannel import JobChannel

    return JobChannel(str(tmp_path / "jobs.sock"), occupy=occupy)


def test_job_channel_job_told_to_ignore_its_cancel_keeps_acting(tmp_path):
    channel = _channel(tmp_path)
    try:
        reporter, updates, ended, thread = _job_thread(channel.path)
        assert channel.command({"ignore_cancel": True}) is None
        reporter.cancel()
        assert channel.command({"log": ["still here"]}) is None  # it acts: it did not stop
        assert updates[-1].lines == ("still here",)
        channel.end_all()
        thread.join(15)
        assert ended[0].kind == "succeeded"
    finally:
        channel.close()


CRASHING_JOB = """
import sys
from phloem.jobs import Reporter, execute
from phloem.testing.script import follow_socket
reporter = Reporter("j9", lambda u: print(u.kind, flush=True), lambda: 0.0, 1)
execute(lambda p, pr: follow_socket(sys.argv[1], pr), None, reporter)
print("ended", flush=True)
"""


def test_job_channel_crash_kills_the_job_process_with_sigkill(tmp_path):
    channel = _channel(tmp_path)
    job = subprocess.Popen(
        [sys.executable, "-c", CRASHING_JOB, channel.path], stdout=subprocess.PIPE, text=True
    )
    try:
        assert channel.command({"advance": {"fraction": 0.5}}) is None
        assert channel.command({"crash": True}) is None
        assert job.wait(15) == -9  # killed, never ended on its own
        assert "ended" not in job.stdout.read()
        assert not channel.live
    finally:
        job.kill()
        job.communicate()
        channel.close()


def test_job_channel_hold_waits_for_every_worker_and_release_frees_them(tmp_path):
    import threading

    from phloem.jobs import Reporter
    from phloem.testing.script import occupy_socket

    workers: list[threading.Thread] = []

    def occupy(request: str) -> str:  # what the server does, with a pool of two workers
        if request == "workers":
            return "ok 2"
        assert request == "occupy 2"  # the case runs no job
        for n in range(2):
            reporter = Reporter(f"occupy-{n}", lambda u: None, lambda: 0.0, 1)
            worker = threading.Thread(target=occupy_socket, args=(channel.path, reporter.progress))
            worker.start()
            workers.append(worker)
        return "ok 2"

    channel = _channel(tmp_path, occupy)
    try:
        assert channel.command({"hold": True}) is None
        assert len(channel.occupiers) == 2 and not channel.live  # not the case's jobs
        assert all(w.is_alive() for w in workers)
        assert channel.command({"release": True}) is None
        for worker in workers:
            worker.join(15)
            assert not worker.is_alive()
        # An occupy run that starts after the release (it was queued) ends at once.
        late = threading.Thread(
            target=occupy_socket,
            args=(channel.path, Reporter("occupy-late", lambda u: None, lambda: 0.0, 1).progress),
        )
        late.start()
        late.join(15)
        assert not late.is_alive() and not channel.occupiers
    finally:
        channel.close()


def test_job_channel_hold_is_unsupported_without_a_pool(tmp_path):
    channel = _channel(tmp_path, lambda request: "unsupported")
    try:
        assert channel.command({"hold": True}) == "unsupported"
    finally:
        channel.close()
