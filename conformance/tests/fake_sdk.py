"""A fake Phloem SDK/server for testing the runner itself (never a reference for anything else).

    python fake_sdk.py [--role sdk|server] [--bug NAME]

Bugs make it deliberately wrong so the tests can check the runner catches them:
``double-count`` (a click adds 2), ``reapply-duplicate`` (a duplicate event is applied again),
``stale-resync`` (resync answers the initial tree), ``wrong-close`` (4400 instead of 4406),
``no-replay`` (a resume is honoured but the missed messages are not re-sent).

Sessions outlive connections (resume by token, a replay buffer), events go through a token
bucket (50/s, bursts of 100) on a clock that ``control`` advances (sdk role; the server role
cannot control time), and in the server role the upgrade checks Origin and subprotocol.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import sys
import threading
import time
from typing import Any

MAX_FRAME = 65536
RATE, BURST = 50, 100
CLIENT_TYPES = {"hello", "event", "ack", "ping", "pong", "resync", "error"}
FIXTURES = {
    "counter": "/counter",
    "unknown-component": "/unknown-component",
    "dismiss": "/dismiss",
    "disabled-button": "/disabled-button",
    "failing-handler": "/failing-handler",
}


_ADVANCED = [0.0]  # seconds the `control` command moved the clock on (sdk role)


def now() -> float:
    return time.monotonic() + _ADVANCED[0]


class FakeSession:
    """What survives a dropped connection: state, sequence, replay buffer."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.seq = 0
        self.rev = 0
        self.count = 0
        self.highest_event = -1
        self.dismissed = False
        self.sent: list[tuple[int, dict[str, Any]]] = []  # replay buffer: (seq, body)


class FakeConnection:
    def __init__(self, fixture: str, bugs: set[str], sessions: dict[str, FakeSession] | None = None) -> None:
        self.fixture = fixture
        self.bugs = bugs
        self.sessions = {} if sessions is None else sessions
        self.session = FakeSession(f"fake-token-{len(self.sessions):04d}-0123456789")
        self.welcomed = False
        self.tokens = float(BURST)
        self.refilled = now()

    @property
    def seq(self) -> int:
        return self.session.seq

    @property
    def rev(self) -> int:
        return self.session.rev

    @rev.setter
    def rev(self, value: int) -> None:
        self.session.rev = value

    @property
    def count(self) -> int:
        return self.session.count

    @count.setter
    def count(self, value: int) -> None:
        self.session.count = value

    @property
    def highest_event(self) -> int:
        return self.session.highest_event

    @highest_event.setter
    def highest_event(self, value: int) -> None:
        self.session.highest_event = value

    # -- tree -------------------------------------------------------------------------------
    def root(self) -> dict[str, Any]:
        if self.fixture == "unknown-component":
            return {"id": "r", "type": "Column", "children": [
                {"id": "r.spark", "type": "Sparkline", "props": {"values": [1, 2, 3]},
                 "children": [{"id": "r.inside", "type": "Text", "props": {"text": "inside"}}]},
                {"id": "r.after", "type": "Text", "props": {"text": "after"}},
            ]}
        if self.fixture == "dismiss":
            button = [] if self.session.dismissed else [
                {"id": "d.dismiss", "type": "Button", "props": {"label": "Dismiss"}}]
            return {"id": "d", "type": "Column", "children": [
                {"id": "d.msg", "type": "Text", "props": {"text": "Hello"}}, *button]}
        if self.fixture == "failing-handler":
            return {"id": "f", "type": "Column", "children": [
                {"id": "f.count", "type": "Text", "props": {"text": "Count: 0"}},
                {"id": "f.fail", "type": "Button", "props": {"label": "Fail"}},
            ]}
        count = 0 if "stale-resync" in self.bugs else self.count
        button = {"label": "Increment", **({"disabled": True} if self.fixture == "disabled-button" else {})}
        return {"id": "c", "type": "Column", "children": [
            {"id": "c.count", "type": "Text", "props": {"text": f"Count: {count}"}},
            {"id": "c.inc", "type": "Button", "props": button},
        ]}

    def find(self, node_id: str) -> dict[str, Any] | None:
        stack = [self.root()]
        while stack:
            node = stack.pop()
            if node["id"] == node_id:
                return node
            stack.extend(node.get("children", []))
        return None

    # -- output -----------------------------------------------------------------------------
    def msg(self, body: dict[str, Any]) -> str:
        if self.welcomed or body["type"] == "welcome":
            self.session.seq += 1
            self.session.sent.append((self.session.seq, body))
            body = {**body, "seq": self.session.seq}
        return json.dumps(body)

    def error(self, code: str, **extra: Any) -> str:
        return self.msg({"type": "error", "code": code, "message": code.replace("_", " "), **extra})

    # -- input ------------------------------------------------------------------------------
    def receive(self, frame: str | bytes) -> tuple[list[str], int | None]:
        if isinstance(frame, bytes):
            return [self.error("malformed_frame")], None
        if len(frame.encode()) > MAX_FRAME:
            return [self.error("frame_too_large", limit=MAX_FRAME)], None
        try:
            message = json.loads(frame)
        except ValueError:
            return [self.error("malformed_frame")], None
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            return [self.error("malformed_frame")], None
        kind = message["type"]
        if not self.welcomed and kind != "hello":
            return [self.error("handshake_required")], None
        if kind not in CLIENT_TYPES:
            return [self.error("unknown_message_type")], None
        handler = getattr(self, "on_" + kind, None)
        return handler(message) if handler else ([], None)

    def on_hello(self, m: dict[str, Any]) -> tuple[list[str], int | None]:
        if self.welcomed:
            return [self.error("unexpected_message")], None
        if not isinstance(m.get("versions"), list):
            return [self.error("invalid_message")], None
        if "1.0" not in m["versions"]:
            return [self.error("version_unsupported", supported=["1.0"], fatal=True)], (
                4400 if "wrong-close" in self.bugs else 4406)
        resume = m.get("resume")
        old = self.sessions.get(resume.get("token")) if isinstance(resume, dict) else None
        if old is not None and isinstance(resume.get("seq"), int) and resume["seq"] <= old.seq:
            # PHL-DELIV-005: welcome at resume.seq + 1, then the missed messages renumbered.
            self.session, self.welcomed = old, True
            missed = [body for seq, body in old.sent if seq > resume["seq"]]
            old.seq = resume["seq"]
            old.sent = [(seq, body) for seq, body in old.sent if seq <= resume["seq"]]
            out = [self.msg(self.welcome_body(resumed=True))]
            if "no-replay" not in self.bugs:
                out += [self.msg(body) for body in missed]
            return out, None
        self.sessions[self.session.token] = self.session
        self.welcomed = True
        self.rev = 1
        return [self.msg(self.welcome_body()), self.snapshot()], None

    def welcome_body(self, resumed: bool = False) -> dict[str, Any]:
        return {"type": "welcome", "version": "1.0", "session": "fake-1", "token": self.session.token,
                "resumed": resumed, "limits": {"max_frame_bytes": MAX_FRAME, "max_events_per_second": RATE,
                                               "heartbeat_seconds": 20}}

    def take_token(self) -> bool:
        moment = now()
        self.tokens = min(BURST, self.tokens + (moment - self.refilled) * RATE)
        self.refilled = moment
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def snapshot(self) -> str:
        return self.msg({"type": "ui.snapshot", "rev": self.rev, "root": self.root()})

    def on_ping(self, m: dict[str, Any]) -> tuple[list[str], int | None]:
        return [json.dumps({"type": "pong", **({"id": m["id"]} if "id" in m else {})})], None

    def on_resync(self, m: dict[str, Any]) -> tuple[list[str], int | None]:
        if "rev" in m and not isinstance(m["rev"], int):
            return [self.error("invalid_message")], None
        return [self.snapshot()], None

    def on_ack(self, m: dict[str, Any]) -> tuple[list[str], int | None]:
        if not isinstance(m.get("seq"), int) or m["seq"] > self.seq:
            return [self.error("invalid_message")], None  # PHL-DELIV-014
        return [], None

    def on_event(self, m: dict[str, Any]) -> tuple[list[str], int | None]:
        if not (isinstance(m.get("id"), int) and isinstance(m.get("node"), str) and isinstance(m.get("name"), str)):
            return [self.error("invalid_message")], None
        if m["id"] <= self.highest_event and "reapply-duplicate" not in self.bugs:
            return [self.msg({"type": "ack", "event": m["id"]})], None
        if not self.take_token():
            return [self.error("rate_limited", event=m["id"], limit=RATE)], None
        node = self.find(m["node"])
        if node is None:
            stale = isinstance(m.get("rev"), int) and m["rev"] < self.rev
            return [self.error("stale_revision" if stale else "unknown_node", event=m["id"])], None
        self.highest_event = m["id"]
        if node["type"] != "Button" or m["name"] != "click":
            return [self.error("unknown_event", event=m["id"])], None
        if node.get("props", {}).get("disabled") is True:
            return [self.msg({"type": "ack", "event": m["id"]})], None
        if self.fixture == "failing-handler":
            return [self.error("handler_error", event=m["id"])], None
        if self.fixture == "dismiss":
            self.session.dismissed = True
            self.rev += 1
            return [self.msg({"type": "ui.patch", "base": self.rev - 1, "rev": self.rev, "event": m["id"],
                              "ops": [{"id": "d.dismiss", "remove": True}]})], None
        self.count += 2 if "double-count" in self.bugs else 1
        self.rev += 1
        patch = {"type": "ui.patch", "base": self.rev - 1, "rev": self.rev, "event": m["id"],
                 "ops": [{"id": "c.count", "set": {"text": f"Count: {self.count}"}}]}
        return [self.msg(patch)], None


class WsServer:
    """server role: each connection gets a FakeConnection for the fixture named by hello.path."""

    def __init__(self, bugs: set[str]) -> None:
        self.bugs = bugs
        self.sessions: dict[str, FakeSession] = {}
        self.loop = asyncio.new_event_loop()
        self.port: int | None = None
        ready = threading.Event()
        threading.Thread(target=self._thread, args=(ready,), daemon=True).start()
        ready.wait()

    def _thread(self, ready: threading.Event) -> None:
        from websockets.asyncio.server import serve

        async def start() -> None:
            server = await serve(self.handler, "127.0.0.1", 0, subprotocols=["phloem.v1"],
                                 max_size=2**20, ping_interval=None, process_request=self.check_upgrade)
            self.port = next(iter(server.sockets)).getsockname()[1]
            ready.set()
            await server.serve_forever()

        self.loop.run_until_complete(start())

    def check_upgrade(self, connection: Any, request: Any) -> Any:
        origin = request.headers.get("Origin")
        if origin is not None and origin != f"http://127.0.0.1:{self.port}":
            return connection.respond(403, "foreign origin\n")  # PHL-TRANSPORT-006
        offered = ",".join(request.headers.get_all("Sec-WebSocket-Protocol")).split(",")
        if "phloem.v1" not in [p.strip() for p in offered]:
            return connection.respond(400, "phloem.v1 not offered\n")  # PHL-TRANSPORT-003
        return None

    async def handler(self, ws: Any) -> None:
        conn: FakeConnection | None = None
        async for frame in ws:
            if conn is None:
                path = "/counter"
                with contextlib.suppress(ValueError, AttributeError, TypeError):
                    path = json.loads(frame).get("path", path)
                fixture = next((f for f, p in FIXTURES.items() if p == path), "counter")
                conn = FakeConnection(fixture, self.bugs, self.sessions)
            frames, close = conn.receive(frame)
            for out in frames:
                await ws.send(out)
            if close is not None:
                await ws.close(close)
                return


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--role", default="sdk", choices=["sdk", "server"])
    parser.add_argument("--bug", action="append", default=[])
    args = parser.parse_args()
    bugs = set(args.bug)
    server = WsServer(bugs) if args.role == "server" else None
    conn: FakeConnection | None = None
    sessions: dict[str, FakeSession] = {}
    for line in sys.stdin:
        cmd = json.loads(line)
        reply: dict[str, Any] = {"ok": True}
        if cmd["cmd"] == "hello":
            reply.update(role=args.role, fixtures=list(FIXTURES),
                         implementation={"name": "fake", "version": "0", "language": "python"})
        elif cmd["cmd"] == "open":
            sessions = {}
            conn = FakeConnection(cmd.get("fixture") or "counter", bugs, sessions)
            if server is not None:
                reply.update(url=f"ws://127.0.0.1:{server.port}/phloem/ws", path=FIXTURES[cmd["fixture"]],
                             origin=f"http://127.0.0.1:{server.port}")
        elif cmd["cmd"] == "send":
            assert conn is not None
            frame: str | bytes = cmd["frame"] if "frame" in cmd else base64.b64decode(cmd["binary"])
            frames, close = conn.receive(frame)
            reply.update(frames=frames, close=close)
        elif cmd["cmd"] == "control":  # sdk: a clock it can move; server: like a real server, none
            if args.role == "sdk" and cmd.get("op") == "advance":
                _ADVANCED[0] += cmd["seconds"]
            else:
                reply = {"ok": False, "unsupported": True, "error": "cannot control time"}
        elif cmd["cmd"] == "disconnect":  # the next send arrives on a new connection
            assert conn is not None
            conn = FakeConnection(conn.fixture, bugs, sessions)
        print(json.dumps(reply), flush=True)
        if cmd["cmd"] == "bye":
            return


if __name__ == "__main__":
    main()
