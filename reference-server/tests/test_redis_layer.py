"""The Redis channel layer (`phloem run --redis URL`), against a real `redis-server` this module
starts on a free loopback port (no persistence): connections join their wake group in Redis
(wakes from other processes; the process that holds a session wakes it directly, without the
layer); with `expiry: 1` and `capacity: 1`, wakes that expire or are dropped lose nothing;
and Redis going away mid-session leaves the connection working (design §5: wakes are
best-effort, events are answered from the in-process session).

These tests fail, never skip, without redis-server (`apt-get install redis-server`)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis
from live import Running, _wait_ready
from websockets.asyncio.client import ClientConnection, connect

pytestmark = pytest.mark.redis

TIGHT = '{"expiry": 1, "capacity": 1}'  # PHLOEM_REDIS_OPTIONS: wakes expire after 1 s, 1 queued

# Pushes come from inside the app, as a job's would: an event hands the handler its session id
# (the client knows it from `welcome`) and the handler starts a thread calling
# `phloem_server.push`.
APP = """
import threading
import time

import phloem as ph
import phloem_server

app = ph.App("Redis wakes")


def bump(ui):
    pushed = ui.state("pushed", 0)
    pushed.set(pushed.value + 1)


def pusher(session, n, gap):
    if gap == 0:  # a burst: all queued at once
        for future in [phloem_server.push(session, bump) for _ in range(n)]:
            future.result(5)
        return
    for _ in range(n):
        phloem_server.push(session, bump).result(5)
        time.sleep(gap)


def start(value):
    session, n, gap = value.split()
    threading.Thread(target=pusher, args=(session, int(n), float(gap)), daemon=True).start()


@app.page("/")
def home(ui):
    pushed = ui.state("pushed", 0)
    clicks = ui.state("clicks", 0)

    def push(event):  # "SESSION N GAP": N pushes from a thread, GAP seconds apart (0: burst)
        start(event.value)

    def busy(event):  # "SESSION N SECONDS": a burst of N pushes, then the loop is blocked
        session, n, seconds = event.value.split()
        start(f"{session} {n} 0")
        time.sleep(float(seconds))

    return ph.Column(
        ph.Text(f"Pushed: {pushed.value}", id="pushed"),
        ph.Text(f"Clicks: {clicks.value}", id="clicks"),
        ph.Button("Click", id="click", on_click=lambda e: clicks.set(clicks.value + 1)),
        ph.TextInput("push", id="push", value="", on_change=push),
        ph.TextInput("busy", id="busy", value="", on_change=busy),
    )
"""


@dataclass
class Redis:
    cmd: list[str]
    port: int
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2)

    def start(self) -> None:
        """Starts redis-server (again: empty, on the same port) and waits until it answers."""
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(self.cmd, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while True:
            try:
                with self.client() as client:
                    client.ping()
                return
            except redis.ConnectionError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"redis-server did not start: {self.log.read_text()}")
                time.sleep(0.05)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@contextlib.contextmanager
def redis_server(tmp: Path) -> Iterator[Redis]:
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.fail("redis-server is not installed (apt-get install redis-server); CI runs these")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cmd = [exe, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    server = Redis([*cmd, "--dir", str(tmp)], port, tmp / "redis.log")
    try:
        server.start()
        yield server
    finally:
        server.kill()


@dataclass
class Served:
    running: Running
    stderr: Path

    def log(self) -> str:
        return self.stderr.read_text()


@contextlib.contextmanager
def phloem_run_redis(tmp: Path, url: str, options: str = TIGHT) -> Iterator[Served]:
    """`phloem run --redis URL` on a free port, its stderr (the server's log) kept in a file."""
    app = tmp / "app.py"
    app.write_text(APP)
    env = {**os.environ, "PHLOEM_DATA_DIR": str(tmp), "PHLOEM_REDIS_OPTIONS": options}
    env.pop("DJANGO_SETTINGS_MODULE", None)  # the embedded settings
    cmd = [sys.executable, "-m", "phloem_server.cli", "run", str(app), "--port", "0"]
    errors = tmp / "server.log"
    with errors.open("w") as stderr:
        proc = subprocess.Popen(
            [*cmd, "--redis", url], env=env, stdout=subprocess.PIPE, stderr=stderr, text=True
        )
    try:
        title, address = _wait_ready(proc, 30, [])
        yield Served(Running(address, proc.pid, title), errors)
        assert proc.poll() is None, "the server died:\n" + errors.read_text()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


class Client:
    """A protocol client over a real WebSocket."""

    ids = itertools.count(1)  # event ids are per session, which a resume carries over

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.before: list[dict[str, Any]] = []  # what came before the last event's answer

    async def send(self, msg: dict[str, Any]) -> None:
        await self.ws.send(orjson.dumps(msg).decode())

    async def recv(self, timeout: float = 5) -> dict[str, Any]:
        msg: dict[str, Any] = orjson.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        return msg

    async def nothing(self, timeout: float) -> bool:
        try:
            got = await asyncio.wait_for(self.ws.recv(), timeout)
        except TimeoutError:
            return True
        raise AssertionError(f"expected no frame, got {got!r}")

    async def hello(self, resume: dict[str, Any] | None = None) -> dict[str, Any]:
        extra = {"resume": resume} if resume else {}
        await self.send({"type": "hello", "versions": ["1.0"], "path": "/", **extra})
        return await self.recv()

    async def event(self, node: str, name: str, value: str | None = None) -> dict[str, Any]:
        """Sends an event; returns its answer, keeping what came before it in `before`."""
        event_id = next(self.ids)
        msg = {"type": "event", "id": event_id, "node": node, "name": name}
        await self.send(msg if value is None else {**msg, "value": value})
        self.before = []
        while (answer := await self.recv()).get("event") != event_id:
            self.before.append(answer)
        return answer


@contextlib.asynccontextmanager
async def client(served: Served):
    running = served.running
    async with connect(running.ws_url, subprotocols=["phloem.v1"], origin=running.url) as ws:
        yield Client(ws)


def text(patch: dict[str, Any], node: str) -> str | None:
    for op in patch.get("ops", ()):
        if op.get("id") == node and "text" in op.get("set", {}):
            return str(op["set"]["text"])
    return None


def pushed(patches: list[dict[str, Any]]) -> str | None:
    """The last "Pushed: N" text a run of patches set."""
    texts = [t for t in (text(p, "pushed") for p in patches) if t is not None]
    return texts[-1] if texts else None


async def pushes(c: Client, n: int, first_seq: int, timeout: float = 5) -> list[dict[str, Any]]:
    """``n`` server-initiated patches (no `event`), numbered from ``first_seq``, unprompted."""
    got = [await c.recv(timeout) for _ in range(n)]
    assert [p["type"] for p in got] == ["ui.patch"] * n, got
    assert all("event" not in p for p in got), got
    assert [p["seq"] for p in got] == list(range(first_seq, first_seq + n)), got
    return got


async def joined(server: Redis, session: str) -> bool:
    """Whether the session's wake group appears in Redis (the consumer joins it just after
    sending the snapshot)."""
    with server.client() as r:
        for _ in range(50):
            if r.keys(f"asgi:group:phloem.*.default.{session}"):
                return True
            await asyncio.sleep(0.02)
    return False


@pytest.fixture(scope="module")
def tight(tmp_path_factory):
    """One Redis and one `phloem run --redis` (expiry 1 s, capacity 1) for the module."""
    tmp = tmp_path_factory.mktemp("redis-tight")
    with redis_server(tmp) as server, phloem_run_redis(tmp, server.url) as served:
        yield server, served


async def test_a_push_wakes_the_connection_through_redis(tight):
    server, served = tight
    async with client(served) as c:
        welcome = await c.hello()
        snapshot = await c.recv()
        session = welcome["session"]
        assert await joined(server, session)  # the group is in Redis, not in memory
        answer = await c.event("push", "change", f"{session} 3 0.05")
        patches = await pushes(c, 3, answer["seq"] + 1)  # no frame from the client needed
        assert [text(p, "pushed") for p in patches] == ["Pushed: 1", "Pushed: 2", "Pushed: 3"]
        assert snapshot["seq"] < answer["seq"]
        click = await c.event("click", "click")
        assert text(click, "clicks") == "Clicks: 1"


async def test_pushes_while_detached_arrive_on_resume_after_the_wakes_expired(tight):
    _server, served = tight
    async with client(served) as c:
        welcome = await c.hello()
        await c.recv()  # snapshot
        session = welcome["session"]
        answer = await c.event("push", "change", f"{session} 1 0")
        (first,) = await pushes(c, 1, answer["seq"] + 1)
        last_seen = first["seq"]
    # Detached: the consumer left the group; four pushes wake nobody (two would already pass
    # the layer's capacity of 1), and the layer's expiry passes before the resume.
    async with client(served) as c:
        welcome2 = await c.hello()  # a second session, only to reach the first one's loop
        await c.recv()
        await c.event("push", "change", f"{session} 4 0.05")
        assert await c.nothing(0.3 + 1.2)  # the other session's updates do not come here
        assert welcome2["session"] != session
    async with client(served) as c:
        again = await c.hello({"token": welcome["token"], "seq": last_seen})
        assert again["resumed"] is True and again["session"] == session
        replayed = await pushes(c, 4, again["seq"] + 1)
        assert pushed(replayed) == "Pushed: 5"  # exact: nothing lost, nothing doubled
        assert await c.nothing(0.3)
        answer = await c.event("push", "change", f"{session} 1 0")
        (more,) = await pushes(c, 1, answer["seq"] + 1)
        assert text(more, "pushed") == "Pushed: 6"


async def test_pushes_queued_while_the_consumer_is_busy_past_the_expiry_all_arrive(tight):
    _server, served = tight
    async with client(served) as c:
        welcome = await c.hello()
        await c.recv()
        session = welcome["session"]
        # Five pushes start, then the handler blocks the serving loop 1.5 s (past the expiry);
        # their wakes then come in a burst that overflows capacity 1.
        answer = await c.event("busy", "change", f"{session} 5 1.5")
        rest = await pushes(c, 5, answer["seq"] + 1)
        assert pushed(rest) == "Pushed: 5"
        assert await c.nothing(0.3)
        click = await c.event("click", "click")
        assert click["seq"] == answer["seq"] + 6 and text(click, "clicks") == "Clicks: 1"


async def test_redis_going_away_mid_session_leaves_the_connection_working(tmp_path):
    with redis_server(tmp_path) as server, phloem_run_redis(tmp_path, server.url) as served:
        async with client(served) as c:
            welcome = await c.hello()
            snapshot = await c.recv()
            session = welcome["session"]
            assert text(await c.event("click", "click"), "clicks") == "Clicks: 1"
            answer = await c.event("push", "change", f"{session} 1 0")
            await pushes(c, 1, answer["seq"] + 1)

            server.kill()
            await asyncio.sleep(0.5)  # the consumer's layer receive fails; it retries

            # Events are answered from the in-process session.
            assert text(await c.event("click", "click"), "clicks") == "Clicks: 2"
            # Pushes still reach the connection at once: its session is held in this process,
            # whose wakes do not cross the layer (updates.nudge).
            answer = await c.event("push", "change", f"{session} 3 0")
            assert c.before == []
            waiting = await pushes(c, 3, answer["seq"] + 1)
            assert pushed(waiting) == "Pushed: 4"
            # A new connection works too: its join fails, logged; it gets no wakes.
            async with client(served) as other:
                assert (await other.hello())["type"] == "welcome"
                assert (await other.recv())["type"] == "ui.snapshot"
                click = await other.event("click", "click")
                assert text(click, "clicks") == "Clicks: 1"
            click = await c.event("click", "click")
            assert text(click, "clicks") == "Clicks: 3" and click["seq"] == answer["seq"] + 4
            assert c.ws.close_code is None

            # Redis back (empty): the consumer's retry rejoins its group (for wakes from other
            # processes), which logs the layer reachable again; pushes go on arriving at once.
            server.start()
            back = "channel layer reachable again"
            deadline = time.monotonic() + 20  # the retry's backoff is at most 5 s
            while back not in served.log() and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            assert back in served.log(), served.log()
            answer = await c.event("push", "change", f"{session} 1 0")
            (patch,) = await pushes(c, 1, answer["seq"] + 1)
            assert text(patch, "pushed") == "Pushed: 5"  # exact
        # The session resumes without Redis: what the replay buffer holds comes back.
        async with client(served) as c:
            again = await c.hello({"token": welcome["token"], "seq": snapshot["seq"]})
            assert again["resumed"] is True
        log = served.log()
        assert log.count("channel layer unreachable") == 1, log  # once per outage
        assert log.count("channel layer reachable again") == 1, log
        assert "Traceback" not in log and "Exception in ASGI application" not in log, log


async def test_an_idle_connection_keeps_its_wakes_past_redis_py_s_socket_timeout(tight):
    # redis-py 8 reads with a 5 s socket timeout by default, which aborts channels_redis's 5 s
    # blocking pop on an idle channel (channels_redis issue 422); the embedded settings allow
    # for it, so the layer is not seen failing and the wake comes at once.
    _server, served = tight
    async with client(served) as c:
        welcome = await c.hello()
        await c.recv()
        await asyncio.sleep(6.5)
        answer = await c.event("push", "change", f"{welcome['session']} 1 0")
        (patch,) = await pushes(c, 1, answer["seq"] + 1)
        assert text(patch, "pushed") == "Pushed: 1"
    assert "unreachable" not in served.log(), served.log()
