"""A fake Phloem SDK/server for testing the runner itself (never a reference for anything else).

    python fake_sdk.py [--role sdk|server] [--bug NAME]

Bugs make it deliberately wrong so the tests can check the runner catches them:
``double-count`` (a click adds 2), ``reapply-duplicate`` (a duplicate event is applied again),
``stale-resync`` (resync answers the initial tree), ``wrong-close`` (4400 instead of 4406),
``no-replay`` (a resume is honoured but the missed messages are not re-sent).
``--rotate-tokens`` is conformant, not a bug: every resume gives the session a new token, which
the spec allows (delivery.md, "Resume"), so only the latest welcome's token resumes it.

Sessions outlive connections (resume by token, a replay buffer), events go through a token
bucket (50/s, bursts of 100) on a clock that stands still between commands and that only
``control`` advances (sdk role; the server role runs on real time and cannot control it), and in the server role the upgrade checks Origin and subprotocol.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import re
import threading
import time
from typing import Any

from phloem_conformance.stdio_adapter import StdioAdapter, Unsupported

MAX_FRAME = 65536
RATE, BURST = 50, 100
HEARTBEAT = 20
CLIENT_TYPES = {"hello", "event", "ack", "ping", "pong", "resync", "error"}
EVENT_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")  # event.schema.json: pattern and maxLength 64
MAX_EVENT_ID = 2**53 - 1


def _uint(value: Any) -> bool:
    return type(value) is int and value >= 0
FIXTURES = {
    "counter": "/counter",
    "unknown-component": "/unknown-component",
    "dismiss": "/dismiss",
    "disabled-button": "/disabled-button",
    "failing-handler": "/failing-handler",
    "tree-echo": "/tree-echo",
    "ledger": "/ledger",
    "input": "/input",
}


_ADVANCED = [0.0]  # seconds the `control` command moved the clock on (sdk role)
_REAL_TIME = [False]  # server role: the wall clock, as a real server has


def now() -> float:
    """sdk role: the suite's clock, standing still between commands and moved only by
    ``control`` (adapter protocol), so no case depends on how fast the commands come;
    server role: real time."""
    return (time.monotonic() if _REAL_TIME[0] else 0.0) + _ADVANCED[0]


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
        self.owner: FakeConnection | None = None  # the connection it is attached to
        self.echo: list[dict[str, Any]] = []  # tree-echo: the children last set
        self.ledger: list[str] = []  # ledger: the applied appends
        self.text = ""  # input: what the field holds


class FakeConnection:
    def __init__(self, fixture: str, bugs: set[str], sessions: dict[str, FakeSession] | None = None) -> None:
        self.fixture = fixture
        self.bugs = bugs
        self.sessions = {} if sessions is None else sessions
        self.session = FakeSession(f"fake-token-{len(self.sessions):04d}-{id(self) % 10**10:010d}")
        self.welcomed = False
        self.tokens = float(BURST)
        self.refilled = now()
        self.taken_over = False  # its session was resumed on another connection: close 4409
        self.heard = now()  # the last frame (or the opening): silent 3 heartbeats -> 4000

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
    def root(self, resync: bool = False) -> dict[str, Any]:
        if self.fixture == "tree-echo":
            children = self.session.echo
            if resync and "resync-reverses" in self.bugs and len(children) > 1:
                children = children[::-1]
            return {"id": "root", "type": "Probe", "children": children}
        if self.fixture == "ledger":
            entries = [{"id": f"e{i}", "type": "Text", "props": {"text": s}}
                       for i, s in enumerate(self.session.ledger, start=1)]
            return {"id": "ledger", "type": "Probe", "children": [
                {"id": "entries", "type": "Column", "children": entries}]}
        if self.fixture == "input":
            text = self.session.text
            return {"id": "in", "type": "Column", "children": [
                {"id": "name", "type": "TextInput", "props": {"label": "Name", "value": text}},
                {"id": "greeting", "type": "Text", "props": {"text": f"Hello, {text}!"}}]}
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
            if body["type"] != "welcome":  # a welcome is never replayed (PHL-DELIV-016)
                self.session.sent.append((self.session.seq, body))
            body = {**body, "seq": self.session.seq}
        return json.dumps(body)

    def error(self, code: str, **extra: Any) -> str:
        return self.msg({"type": "error", "code": code, "message": code.replace("_", " "), **extra})

    # -- input ------------------------------------------------------------------------------
    def silent(self) -> bool:
        """Nothing heard for three heartbeat intervals (PHL-PING-005), before the handshake
        too (PHL-LIM-013): the fake serves every page with the default heartbeat."""
        return now() - self.heard >= 3 * HEARTBEAT

    def receive(self, frame: str | bytes) -> tuple[list[str], int | None]:
        self.heard = now()
        if isinstance(frame, bytes):
            return [self.error("malformed_frame")], None
        if len(frame.encode()) > MAX_FRAME:
            return [self.error("frame_too_large", limit=MAX_FRAME)], None
        try:
            message = json.loads(frame)
        except ValueError:
            return [self.error("malformed_frame")], None
        if not isinstance(message, dict):
            return [self.error("malformed_frame")], None
        if not isinstance(message.get("type"), str):
            return [self.error("invalid_message")], None  # PHL-MSG-005
        kind = message["type"]
        if kind not in CLIENT_TYPES:  # PHL-MSG-006: server-only types too; before the handshake check
            return [self.error("unknown_message_type")], None
        if not self.welcomed and kind != "hello":
            return [self.error("handshake_required")], None
        handler = getattr(self, "on_" + kind, None)
        return handler(message) if handler else ([], None)

    def on_hello(self, m: dict[str, Any]) -> tuple[list[str], int | None]:
        if self.welcomed:
            return [self.error("unexpected_message")], None
        by_path = {p: f for f, p in FIXTURES.items()}
        if isinstance(m.get("path"), str) and m["path"] in by_path:
            self.fixture = by_path[m["path"]]
        if not isinstance(m.get("versions"), list):
            return [self.error("invalid_message")], None
        if "1.0" not in m["versions"]:
            return [self.error("version_unsupported", supported=["1.0"], fatal=True)], (
                4400 if "wrong-close" in self.bugs else 4406)
        resume = m.get("resume")
        old = self.sessions.get(resume.get("token")) if isinstance(resume, dict) else None
        if old is not None and isinstance(resume.get("seq"), int) and resume["seq"] <= old.seq:
            # PHL-DELIV-005: welcome at resume.seq + 1, then the missed messages renumbered.
            if old.owner is not None and old.owner is not self and "no-takeover-close" not in self.bugs:
                old.owner.taken_over = True
            old.owner = self
            self.session, self.welcomed = old, True
            if "rotate-tokens" in self.bugs:  # the old token is spent: only the new one resumes
                del self.sessions[old.token]
                old.token = f"{old.token[:15]}-r{old.seq:06d}-{id(self) % 10**10:010d}"
                self.sessions[old.token] = old
            missed = [body for seq, body in old.sent if seq > resume["seq"]]
            old.seq = resume["seq"]
            old.sent = [(seq, body) for seq, body in old.sent if seq <= resume["seq"]]
            out = [self.msg(self.welcome_body(resumed=True))]
            if "no-replay" not in self.bugs:
                out += [self.msg(body) for body in missed]
            return out, None
        self.sessions[self.session.token] = self.session
        self.session.owner = self
        self.welcomed = True
        self.rev = 1
        return [self.msg(self.welcome_body()), self.snapshot()], None

    def welcome_body(self, resumed: bool = False) -> dict[str, Any]:
        return {"type": "welcome", "version": "1.0", "session": "fake-" + self.session.token[-10:],
                "token": self.session.token,
                "resumed": resumed, "limits": {"max_frame_bytes": MAX_FRAME, "max_events_per_second": RATE,
                                               "heartbeat_seconds": HEARTBEAT, "max_tree_nodes": self.max_nodes(),
                                               "replay_messages": 256, "resume_seconds": 120}}

    def max_nodes(self) -> int:
        return 100 if self.fixture == "tree-echo" else 20000

    def take_token(self) -> bool:
        moment = now()
        self.tokens = min(BURST, self.tokens + (moment - self.refilled) * RATE)
        self.refilled = moment
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def snapshot(self, resync: bool = False) -> str:
        return self.msg({"type": "ui.snapshot", "rev": self.rev, "root": self.root(resync)})

    def on_set(self, m: dict[str, Any]) -> list[str]:
        value = m.get("value")
        if not _valid_nodes(value):
            return [self.error("handler_error", event=m["id"])]
        ids = [n["id"] for n in _all_nodes(value)]
        if len(ids) != len(set(ids)):  # the render would collide ids (PHL-TREE-002)
            return [self.error("handler_error", event=m["id"])]
        if len(ids) + 1 > self.max_nodes():  # PHL-LIM-009
            return [self.error("tree_too_large", event=m["id"], limit=self.max_nodes())]
        if value == self.session.echo:
            return [self.msg({"type": "ack", "event": m["id"]})]
        self.session.echo = value
        self.rev += 1
        root = self.root()
        if "echo-drops-disabled" in self.bugs:
            root = {**root, "children": _drop_nested_disabled(root["children"])}
        return [self.msg({"type": "ui.patch", "base": self.rev - 1, "rev": self.rev, "event": m["id"],
                          "ops": [{"id": "root", "replace": root}]})]

    def on_ping(self, m: dict[str, Any]) -> tuple[list[str], int | None]:
        if "id" in m and (isinstance(m["id"], bool) or not isinstance(m["id"], (str, int))):
            return [self.error("invalid_message")], None
        return [json.dumps({"type": "pong", **({"id": m["id"]} if "id" in m else {})})], None

    def on_resync(self, m: dict[str, Any]) -> tuple[list[str], int | None]:
        if "rev" in m and not isinstance(m["rev"], int):
            return [self.error("invalid_message")], None
        return [self.snapshot(resync=True)], None

    def on_ack(self, m: dict[str, Any]) -> tuple[list[str], int | None]:
        if not isinstance(m.get("seq"), int) or m["seq"] > self.seq:
            return [self.error("invalid_message")], None  # PHL-DELIV-014
        return [], None

    def on_event(self, m: dict[str, Any]) -> tuple[list[str], int | None]:
        if not (isinstance(m.get("id"), int) and isinstance(m.get("node"), str) and isinstance(m.get("name"), str)):
            return [self.error("invalid_message")], None
        if not (_uint(m["id"]) and m["id"] <= MAX_EVENT_ID and EVENT_NAME.fullmatch(m["name"])
                and all(_uint(m[k]) for k in ("ack", "rev") if k in m)):
            return [self.error("invalid_message")], None  # the event schema (PHL-MSG-004)
        if m["id"] <= self.highest_event and "reapply-duplicate" not in self.bugs:
            return [self.msg({"type": "ack", "event": m["id"]})], None  # no token (PHL-LIM-012)
        if not self.take_token():
            return [self.error("rate_limited", event=m["id"], limit=RATE)], None
        if isinstance(m.get("ack"), int) and m["ack"] > self.seq:  # PHL-DELIV-015
            self.highest_event = m["id"]
            return [self.error("invalid_message", event=m["id"])], None
        node = self.find(m["node"])
        if node is None:
            stale = isinstance(m.get("rev"), int) and m["rev"] < self.rev
            return [self.error("stale_revision" if stale else "unknown_node", event=m["id"])], None
        self.highest_event = m["id"]
        if self.fixture == "tree-echo" and m["node"] == "root" and m["name"] == "set":
            return self.on_set(m), None
        if self.fixture == "ledger" and m["node"] == "ledger" and m["name"] == "append":
            if not isinstance(m.get("value"), str) or len(m["value"]) > 64:
                return [self.error("handler_error", event=m["id"])], None
            self.session.ledger.append(m["value"])
            self.rev += 1
            entry = {"id": f"e{len(self.session.ledger)}", "type": "Text", "props": {"text": m["value"]}}
            return [self.msg({"type": "ui.patch", "base": self.rev - 1, "rev": self.rev, "event": m["id"],
                              "ops": [{"id": "entries", "insert": entry, "index": len(self.session.ledger) - 1}]})], None
        if self.fixture == "input" and m["node"] == "name" and m["name"] == "change":
            if not isinstance(m.get("value"), str):  # the component's value schema (PHL-EVT-014)
                return [self.error("invalid_message", event=m["id"])], None
            self.session.text = m["value"]
            self.rev += 1
            return [self.msg({"type": "ui.patch", "base": self.rev - 1, "rev": self.rev, "event": m["id"], "ops": [
                {"id": "name", "set": {"value": m["value"]}},
                {"id": "greeting", "set": {"text": f"Hello, {m['value']}!"}}]})], None
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


def _all_nodes(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [x for n in nodes for x in [n, *_all_nodes(n.get("children", []))]]


def _valid_nodes(value: Any) -> bool:
    if not isinstance(value, list):
        return False
    for node in value:
        if not (isinstance(node, dict) and isinstance(node.get("id"), str) and node["id"] != "root"
                and node.get("type") in ("Column", "Text", "Button") and isinstance(node.get("props", {}), dict)
                and _valid_nodes(node.get("children", []))):
            return False
    return True


def _drop_nested_disabled(nodes: list[dict[str, Any]], nested: bool = False) -> list[dict[str, Any]]:
    """The bug ``echo-drops-disabled``: a Button inside a Column loses ``disabled`` in patches."""
    out = []
    for node in nodes:
        node = {**node, "children": _drop_nested_disabled(node.get("children", []), node["type"] == "Column")}
        if nested and node["type"] == "Button" and "disabled" in node.get("props", {}):
            node["props"] = {k: v for k, v in node["props"].items() if k != "disabled"}
        out.append(node)
    return out


class WsServer:
    """server role: each connection gets a FakeConnection for the fixture named by hello.path."""

    def __init__(self, bugs: set[str]) -> None:
        self.bugs = bugs
        self.sessions: dict[str, FakeSession] = {}
        self.sockets: dict[int, tuple[FakeConnection, Any]] = {}
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
        try:
            await self._frames(ws)
        finally:
            for key, (conn, socket) in list(self.sockets.items()):
                if socket is ws:
                    del self.sockets[key]
                    if conn.session.owner is conn:
                        conn.session.owner = None  # detached: kept for a resume

    async def _frames(self, ws: Any) -> None:
        conn: FakeConnection | None = None
        async for frame in ws:
            if conn is None:
                path = "/counter"
                with contextlib.suppress(ValueError, AttributeError, TypeError):
                    path = json.loads(frame).get("path", path)
                fixture = next((f for f, p in FIXTURES.items() if p == path), "counter")
                conn = FakeConnection(fixture, self.bugs, self.sessions)
                self.sockets[id(conn)] = (conn, ws)
            frames, close = conn.receive(frame)
            for out in frames:
                await ws.send(out)
            for other in self.taken_over():
                await other.close(4409)
            if close is not None:
                await ws.close(close)
                return

    def taken_over(self) -> list[Any]:
        """Sockets whose session was resumed on another connection (closed with 4409)."""
        out = []
        for key, (conn, ws) in list(self.sockets.items()):
            if conn.taken_over:
                out.append(ws)
                del self.sockets[key]
        return out


class FakeAdapter(StdioAdapter):
    """The fake over the shared stdio helper; ``--bug no-connect`` leaves ``connect`` out of
    ``supports`` (an adapter without further connections)."""

    def __init__(self, role: str, bugs: set[str]) -> None:
        self.role = role
        self.implementation = {"name": "fake", "version": "0", "language": "python"}
        self.bugs = bugs
        self.server = WsServer(bugs) if role == "server" else None
        self.conns: dict[str, FakeConnection] = {}  # sdk role: the case's connections by name
        self.sessions: dict[str, FakeSession] = {}
        self.fixture = "counter"

    def fixtures(self) -> list[str]:
        return list(FIXTURES)

    def supports(self) -> list[str]:
        return [c for c in super().supports() if not (c == "connect" and "no-connect" in self.bugs)]

    def cmd_open(self, cmd: dict[str, Any]) -> dict[str, Any]:
        self.sessions = {}
        self.fixture = cmd.get("fixture") or "counter"
        self.conns = {"main": FakeConnection(self.fixture, self.bugs, self.sessions)}
        if self.server is None:
            return {}
        port = self.server.port
        return {
            "url": f"ws://127.0.0.1:{port}/phloem/ws",
            "path": FIXTURES[cmd["fixture"]],
            "origin": f"http://127.0.0.1:{port}",
        }

    def cmd_connect(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """A further connection to the app."""
        self.conns[cmd["connection"]] = FakeConnection(self.fixture, self.bugs, self.sessions)
        return {}

    def cmd_send(self, cmd: dict[str, Any]) -> dict[str, Any]:
        conn = self.conns[cmd.get("connection", "main")]
        frame: str | bytes = cmd["frame"] if "frame" in cmd else base64.b64decode(cmd["binary"])
        frames, close = conn.receive(frame)
        reply: dict[str, Any] = {"frames": frames, "close": close}
        elsewhere = {}
        for other_name, other in self.conns.items():
            if other.taken_over:
                other.taken_over = False
                elsewhere[other_name] = {"frames": [], "close": 4409}
        if elsewhere:
            reply["elsewhere"] = elsewhere
        return reply

    def cmd_control(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """sdk: a clock it can move; server: like a real server on the wall clock, none."""
        if self.role != "sdk" or cmd.get("op") != "advance":
            raise Unsupported("cannot control time")
        _ADVANCED[0] += cmd["seconds"]
        # What the connections did meanwhile: a silent one is closed with 4000, its session
        # kept (PHL-PING-005); the main one in the reply, others in elsewhere.
        reply: dict[str, Any] = {}
        for conn_name, conn in list(self.conns.items()):
            if conn.silent() and "no-silence" not in self.bugs:
                if conn.session.owner is conn:
                    conn.session.owner = None
                self.conns[conn_name] = FakeConnection(conn.fixture, self.bugs, self.sessions)
                if conn_name == "main":
                    reply.update(frames=[], close=4000)
                else:
                    reply.setdefault("elsewhere", {})[conn_name] = {"frames": [], "close": 4000}
        return reply

    def cmd_disconnect(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """The next send on that connection arrives on a new one."""
        name = cmd.get("connection", "main")
        conn = self.conns[name]
        if conn.session.owner is conn:
            conn.session.owner = None
        self.conns[name] = FakeConnection(conn.fixture, self.bugs, self.sessions)
        return {}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--role", default="sdk", choices=["sdk", "server"])
    parser.add_argument("--bug", action="append", default=[])
    parser.add_argument("--rotate-tokens", action="store_true")
    args = parser.parse_args()
    _REAL_TIME[0] = args.role == "server"
    FakeAdapter(args.role, set(args.bug) | ({"rotate-tokens"} if args.rotate_tokens else set())).serve()


if __name__ == "__main__":
    main()
