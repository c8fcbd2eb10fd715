"""Runs one case's steps over a channel and finds the first divergence.

The runner plays the client when it judges a server or SDK, and the server when it judges a
renderer. Direction in a case is absolute, so the same steps swap between stimulus and
expectation by role.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import copy
import json
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from . import compound
from .cases import Case
from .channels import SUBPROTOCOL, Channel, Incoming, probe_upgrade
from .matching import Bindings, CaseError, Mismatch, concretize, match, pointer_get
from .schemas import ProtocolSchemas
from .tree import PatchError, Tree, normalize

_TRANSCRIPT_TEXT_CAP = 2000
MAIN = "main"  # the name of the case's first connection (`on: main`)


@dataclass
class Divergence:
    step: int  # index into the case's steps; -1 for the connection itself
    kind: str
    pointer: str
    expected: Any
    actual: Any
    reason: str
    received: Any = None
    within: str = ""  # inside a compound step: "/any_order/1", "/repeat/steps/0 (iteration 3)"...
    connection: str | None = None  # the connection (`on:`) the step was on, when the case has several

    def to_json(self, bindings: Bindings | None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "step": self.step,
            "kind": self.kind,
            "pointer": self.pointer,
            "expected": self.expected,
            "actual": self.actual,
            "reason": self.reason,
            "bindings": dict(bindings.values) if bindings else {},
        }
        if self.received is not None:
            out["received"] = self.received
        if self.within:
            out["within"] = self.within
        if self.connection is not None:
            out["connection"] = self.connection
        return out


class ControlUnsupported(Exception):
    """The adapter cannot perform a ``control`` step (e.g. it cannot move the IUT's clock), or
    open a second connection: the case cannot be run against this adapter, which says nothing
    about the IUT."""



@dataclass
class Link:
    """One connection of the case and what the runner knows of the session behind it."""

    name: str
    channel: Channel
    tree: Tree = field(default_factory=Tree)
    next_seq: int = 1  # the server's next seq (checked as client, assigned as server)
    last_hello: dict[str, Any] | None = None  # the runner's latest hello on it (as client)
    history: dict[int, tuple[Any, Any]] = field(default_factory=dict)  # seq -> tree after it (resume)
    welcomed: bool = False
    before: Any = None  # the reference tree before the latest message (for `$reduced`)
    token: str | None = None  # the resume token of the session it is attached to (as client)
    max_frame_bytes: int | None = None  # announced to a renderer in the runner's welcome
    # Messages already received, checked and applied, but not yet consumed by a step (the
    # look-ahead of a `repeat` with a range).
    pending: collections.deque[dict[str, Any]] = field(default_factory=collections.deque)


class Diverged(Exception):
    def __init__(self, divergence: Divergence) -> None:
        super().__init__(divergence.reason)
        self.divergence = divergence


@dataclass
class Transcript:
    start: float = field(default_factory=time.monotonic)
    entries: list[dict[str, Any]] = field(default_factory=list)
    on: str = "main"  # the connection of the entries being added (named when not the first)

    def add(self, direction: str, payload: Any) -> None:
        if isinstance(payload, str) and len(payload) > _TRANSCRIPT_TEXT_CAP:
            payload = payload[:_TRANSCRIPT_TEXT_CAP] + f"... ({len(payload)} chars)"
        ms = round((time.monotonic() - self.start) * 1000, 1)
        entry: dict[str, Any] = {"t_ms": ms, "dir": direction, "data": payload}
        if self.on != "main":
            entry["on"] = self.on
        self.entries.append(entry)


Act = Callable[[dict[str, Any]], Awaitable[None]]
Snapshot = Callable[[], Awaitable[Any]]
# A control step's operation ({"advance": SECONDS}) -> False when the adapter does not support it.
Control = Callable[[dict[str, Any]], Awaitable[bool]]
# `connect: {as: NAME, ...}`: a new connection to the IUT, named NAME (server, sdk).
OpenConnection = Callable[[str, dict[str, Any]], Awaitable[Channel]]
# `audit: {...}`: the renderer adapter's `audit` reply (page URL, console, storage, cookies).
Audit = Callable[[], Awaitable[dict[str, Any]]]


class Session:
    """One case against one connection. ``run`` returns None or the first divergence."""

    def __init__(
        self,
        case: Case,
        role: str,
        channel: Channel,
        schemas: ProtocolSchemas,
        timeout: float,
        *,
        hello_path: str | None = None,
        act: Act | None = None,
        snapshot: Snapshot | None = None,
        endpoint: tuple[str, str | None] | None = None,
        control: Control | None = None,
        open_connection: OpenConnection | None = None,
        audit: Audit | None = None,
    ) -> None:
        self.case = case
        self.role = role
        self.plays_server = role == "renderer"
        self.schemas = schemas
        self.timeout = timeout
        self.hello_path = hello_path
        self.act = act
        self.snapshot = snapshot
        self.endpoint = endpoint  # (url, origin) of a server under test, for `connect` probes
        self.control = control  # operations on the IUT through its adapter (`control` steps)
        self.open_connection = open_connection
        self.audit = audit
        self.bindings = Bindings()
        self.transcript = Transcript()
        self.links: dict[str, Link] = {MAIN: Link(MAIN, channel)}
        self.link = self.links[MAIN]  # the connection the current step is on (`on:`)
        self.barriers = 0
        self.present_barrier: str | None = None  # a barrier's ping sent ahead (repeat look-ahead)
        self.step = -1
        self.within = ""  # where inside a compound step (any_order, interleave, repeat)
        self.upcoming: list[tuple[int, str, dict[str, Any]]] = []  # the top-level steps still to run

    # The current connection's view; steps read and write these as if there were one.
    @property
    def channel(self) -> Channel:
        return self.link.channel

    @property
    def tree(self) -> Tree:
        return self.link.tree

    @tree.setter
    def tree(self, value: Tree) -> None:
        self.link.tree = value

    @property
    def next_seq(self) -> int:
        return self.link.next_seq

    @next_seq.setter
    def next_seq(self, value: int) -> None:
        self.link.next_seq = value

    @property
    def last_hello(self) -> dict[str, Any] | None:
        return self.link.last_hello

    @last_hello.setter
    def last_hello(self, value: dict[str, Any] | None) -> None:
        self.link.last_hello = value

    @property
    def history(self) -> dict[int, tuple[Any, Any]]:
        return self.link.history

    @history.setter
    def history(self, value: dict[int, tuple[Any, Any]]) -> None:
        self.link.history = value

    @property
    def welcomed(self) -> bool:
        return self.link.welcomed

    @welcomed.setter
    def welcomed(self, value: bool) -> None:
        self.link.welcomed = value

    # ---- driver -------------------------------------------------------------------------

    async def run(self) -> Divergence | None:
        steps = self.case.steps_for(self.role)
        try:
            for position, (index, kind, step) in enumerate(steps):
                self.step, self.within = index, ""
                self.upcoming = steps[position + 1:]
                await self.run_step(kind, step)
        except Diverged as exc:
            return exc.divergence
        return None

    async def run_step(self, kind: str, step: dict[str, Any]) -> None:
        """One step (top-level or inside a compound step), on the connection its ``on`` names."""
        name = step.get("on", MAIN)
        if name not in self.links:
            if kind == "connect" and step["connect"].get("as") == name:
                pass  # the step that opens it
            else:
                raise CaseError(f"step {self.step}: no connection named {name!r} (open it with connect: {{as: {name}}})")
        else:
            self.link = self.links[name]
        self.transcript.on = name
        await getattr(self, f"_step_{kind}")(step)

    def diverge(self, kind: str, reason: str, *, pointer: str = "", expected: Any = None,
                actual: Any = None, received: Any = None) -> Diverged:
        divergence = Divergence(self.step, kind, pointer, expected, actual, reason, received)
        divergence.within = self.within
        divergence.connection = self.link.name if len(self.links) > 1 else None
        return Diverged(divergence)

    # ---- steps --------------------------------------------------------------------------

    async def _step_c2s(self, step: dict[str, Any]) -> None:
        if self.plays_server:
            await self._expect(step["c2s"], "c2s")
            return
        message = concretize(step["c2s"], self.bindings)
        if message.get("type") == "hello" and "path" not in message and self.hello_path:
            message["path"] = self.hello_path
        errors = self.schemas.client_errors(message)
        if errors:
            raise CaseError(f"step {self.step}: stimulus is not a valid client message: {errors[0]}")
        if message.get("type") == "hello":
            self.last_hello = message
        await self._send(message)

    async def _step_c2s_raw(self, step: dict[str, Any]) -> None:
        raw = step["c2s_raw"]
        if isinstance(raw, str):
            await self._send_text(raw)
        elif "$binary" in raw:
            data = base64.b64decode(raw["$binary"])
            self.transcript.add("c2s", {"$binary": raw["$binary"]})
            await self.channel.send_binary(data)
        elif "$pad_to_bytes" in raw:
            await self._send_text(_padded(concretize(raw["$pad_to_bytes"], self.bindings)))
        else:
            await self._send_text(json.dumps(concretize(raw, self.bindings)))

    async def _step_s2c(self, step: dict[str, Any]) -> None:
        if not self.plays_server:
            pattern = step["s2c"]
            if "$effect" in pattern:
                await self._expect_effect(pattern)
            elif "$reduced" in pattern:
                await self._expect_reduced(pattern)
            else:
                await self._expect(pattern, "s2c")
            return
        message = concretize(step.get("stimulus", step["s2c"]), self.bindings)
        if "$effect" in message:
            raise CaseError(f"step {self.step}: an $effect step needs a `stimulus` for renderers")
        self._number(message)
        errors = self.schemas.server_errors(message)
        if errors:
            raise CaseError(f"step {self.step}: stimulus is not a valid server message: {errors[0]}")
        await self._send(message)

    async def _step_s2c_raw(self, step: dict[str, Any]) -> None:
        """Renderer role: a server frame the schema need not accept (an unknown type or error
        code, a padded frame). A string goes verbatim; an object gets its ``seq`` like ``s2c``."""
        raw = step["s2c_raw"]
        if isinstance(raw, str):
            await self._send_text(raw)
        elif "$pad_to_bytes" in raw:
            spec = concretize(raw["$pad_to_bytes"], self.bindings)
            spec["message"] = self._number(dict(spec["message"]))
            await self._send_text(_padded(spec))
        else:
            await self._send_text(json.dumps(self._number(concretize(raw, self.bindings)), ensure_ascii=False))

    def _number(self, message: dict[str, Any]) -> dict[str, Any]:
        """As server: fill in ``seq`` (sequenced messages) and keep count."""
        kind = message.get("type")
        if kind != "pong" and not (kind == "error" and not self.welcomed) and "seq" not in message:
            message["seq"] = self.next_seq
        if isinstance(message.get("seq"), int):
            self.next_seq = message["seq"] + 1
        self.welcomed = self.welcomed or kind == "welcome"
        if kind == "welcome":
            announced = (message.get("limits") or {}).get("max_frame_bytes")
            self.link.max_frame_bytes = announced if isinstance(announced, int) else None
        return message

    async def _step_user(self, step: dict[str, Any]) -> None:
        action = concretize(step["user"], self.bindings)
        if self.act is None:
            raise CaseError("user step without a renderer")
        self.transcript.add("user", action)
        await self.act(action)

    async def _step_render(self, step: dict[str, Any]) -> None:
        if self.snapshot is None:
            raise CaseError("render step without a renderer")
        # A retried assertion with a deadline (like Playwright's expect), not a sleep: the
        # renderer may commit the DOM a frame after it handled the message.
        deadline = time.monotonic() + self.timeout
        while True:
            tree = await self.snapshot()
            mismatch = match(step["render"], tree, self.bindings)
            if mismatch is None:
                self.transcript.add("render", tree)
                return
            if time.monotonic() >= deadline:
                self.transcript.add("render", tree)
                raise self._mismatch("render", mismatch, tree)
            await asyncio.sleep(0.05)

    async def send_barrier_ping(self) -> str:
        self.barriers += 1
        token = f"barrier-{self.barriers}"
        ping: dict[str, Any] = {"type": "ping", "id": token}
        if self.plays_server:
            ping["seq"] = self.next_seq
            self.next_seq += 1
        await self._send(ping)
        return token

    async def _step_barrier(self, step: dict[str, Any]) -> None:
        token, self.present_barrier = self.present_barrier or await self.send_barrier_ping(), None
        while True:
            message = await self._receive("barrier", {"type": "pong", "id": token})
            if message.get("type") == "pong" and message.get("id") == token:
                return
            raise self.diverge("barrier", "unexpected message before the barrier's pong",
                               expected={"type": "pong", "id": token}, actual=message)

    async def _step_close(self, step: dict[str, Any]) -> None:
        expected = step["close"].get("code", {"$any": True})
        if self.link.pending:
            raise self.diverge("close", "expected the connection to close", expected={"close": expected},
                               actual=self.link.pending[0])
        while True:
            incoming = await self._next("close", {"close": expected})
            if incoming.kind == "close":
                mismatch = match(expected, incoming.code, self.bindings)
                if mismatch is not None:
                    raise self.diverge("close", f"close code {incoming.code}: {mismatch.reason}",
                                       pointer="/code", expected=expected, actual=incoming.code)
                return
            message = self._decode(incoming, "close")
            if not self._ignorable(message, {}):
                raise self.diverge("close", "expected the connection to close",
                                   expected={"close": expected}, actual=message)

    async def _step_control(self, step: dict[str, Any]) -> None:
        """Act on the IUT itself (advance its clock). Nothing is received: a later step judges
        what the IUT does after it. Unsupported: the case cannot run against this adapter."""
        operation = dict(step["control"])
        self.transcript.add("control", operation)
        if self.control is None or not await self.control(operation):
            what = ", ".join(f"{k} {v}" for k, v in operation.items())
            raise ControlUnsupported(f"adapter cannot control time (control {what} unsupported)")

    async def _step_reconnect(self, step: dict[str, Any]) -> None:
        self.transcript.add("reconnect", {})
        try:
            await self.channel.reconnect(self.timeout)
        except (OSError, TimeoutError) as exc:
            raise self.diverge("reconnect", f"no new connection: {exc}", expected="a new connection",
                               actual=None) from None
        subprotocol = getattr(self.channel, "subprotocol", SUBPROTOCOL)
        if subprotocol != SUBPROTOCOL:
            raise self.diverge("reconnect", f"the new connection did not negotiate {SUBPROTOCOL}",
                               expected=SUBPROTOCOL, actual=subprotocol)
        if self.plays_server:
            self.welcomed = False  # the renderer's hello comes first on the new connection

    async def _step_connect(self, step: dict[str, Any]) -> None:
        if "as" in step["connect"]:
            await self._open_named(step["connect"])
            return
        if self.endpoint is None:
            raise CaseError("connect step without a server endpoint")
        spec = step["connect"]
        url, own_origin = self.endpoint
        origin = spec.get("origin", own_origin)
        offered = list(spec.get("subprotocols", [SUBPROTOCOL]))
        answer = await probe_upgrade(url, origin, offered, self.timeout)
        self.transcript.add("connect", {"origin": origin, "subprotocols": offered, "status": answer.status,
                                        "subprotocol": answer.headers.get("sec-websocket-protocol")})
        mismatch = match(spec["status"], answer.status, self.bindings)
        if mismatch is not None:
            raise self.diverge("connect", f"upgrade answered HTTP {answer.status}: {mismatch.reason}",
                               pointer="/status", expected=spec["status"], actual=answer.status)

    async def _open_named(self, spec: dict[str, Any]) -> None:
        """``connect: {as: NAME, origin?, subprotocols?}``: a second (third...) connection to the
        IUT, a session of its own until its hello resumes another one (takeover, isolation)."""
        name = spec["as"]
        if name in self.links:
            raise CaseError(f"step {self.step}: connection {name!r} is already open")
        if self.open_connection is None:
            raise ControlUnsupported("adapter cannot open another connection (connect as)")
        self.transcript.on = name
        self.transcript.add("connect", {k: v for k, v in spec.items() if k != "status"})
        try:
            channel = await self.open_connection(name, spec)
        except (OSError, TimeoutError) as exc:
            raise self.diverge("connect", f"connection {name!r} could not be opened: {exc}",
                               expected="a new connection", actual=None) from None
        self.link = self.links[name] = Link(name, channel)
        subprotocol = getattr(channel, "subprotocol", SUBPROTOCOL)
        if subprotocol != SUBPROTOCOL:
            raise self.diverge("connect", f"connection {name!r} did not negotiate {SUBPROTOCOL}",
                               expected=SUBPROTOCOL, actual=subprotocol)

    async def _step_c2s_close(self, step: dict[str, Any]) -> None:
        """The runner, as client, closes the connection with a code (4000: presumed dead,
        PHL-TRANSPORT-009; 1000: leaving). Later steps may resume the session elsewhere."""
        spec = step["c2s_close"]
        code = int(spec.get("code", 1000))
        self.transcript.add("close", {"code": code, "by": "client"})
        await self.channel.close_with(code, str(spec.get("reason", "")))

    async def _step_audit(self, step: dict[str, Any]) -> None:
        """Renderer: what the page keeps and logs (URL, console, storage, cookies) holds none of
        the secrets (PHL-SEC-006)."""
        if self.audit is None:
            raise ControlUnsupported("adapter cannot audit the page (audit unsupported)")
        report = await self.audit()
        self.transcript.add("audit", report)
        secrets = concretize(step["audit"].get("absent", []), self.bindings)
        places = step["audit"].get("in")  # which parts of the reply (url, console, cookies...); all by default
        judged = report if places is None else {k: v for k, v in report.items() if k in places}
        for secret in secrets if isinstance(secrets, list) else [secrets]:
            if not isinstance(secret, str) or not secret:
                raise CaseError(f"step {self.step}: audit secrets are non-empty strings, not {secret!r}")
            for where, value in _places(judged):
                if secret in value:
                    raise self.diverge("audit", f"the secret appears in the page's {where} (PHL-SEC-006)",
                                       pointer=where, expected={"$not": {"$contains": secret}}, actual=value)

    async def _step_any_order(self, step: dict[str, Any]) -> None:
        await compound.any_order(self, step["any_order"])

    async def _step_interleave(self, step: dict[str, Any]) -> None:
        await compound.interleave(self, step["interleave"])

    async def _step_repeat(self, step: dict[str, Any]) -> None:
        await compound.repeat(self, step["repeat"])

    async def _step_burst(self, step: dict[str, Any]) -> None:
        spec = step["burst"]
        count = spec["count"]
        if isinstance(count, dict):
            base = concretize(count["of"], self.bindings)
            if not isinstance(base, (int, float)) or isinstance(base, bool):
                raise CaseError(f"step {self.step}: burst count of a non-number {base!r}")
            count = math.ceil(base * count["times"]) + int(count.get("plus", 0))
        fields = concretize(spec["event"], self.bindings)
        ids = [spec["first_id"] + i for i in range(count)]
        for event_id in ids:
            message = {"type": "event", "id": event_id, **{k: v for k, v in fields.items() if k not in ("type", "id")}}
            errors = self.schemas.client_errors(message)
            if errors:
                raise CaseError(f"step {self.step}: burst event is not a valid client message: {errors[0]}")
            await self._send(message)
        self.barriers += 1
        token = f"burst-{self.barriers}"
        await self._send({"type": "ping", "id": token})
        answered: set[Any] = set()
        found = False
        wanted = {"type": "pong", "id": token}
        while True:
            message = await self._receive("burst", wanted)
            if message.get("type") == "pong" and message.get("id") == token:
                break
            if "event" in message:
                if message["event"] not in ids:
                    raise self.diverge("burst", "an answer names an event the burst did not send",
                                       pointer="/event", expected=f"{ids[0]}..{ids[-1]}",
                                       actual=message["event"], received=message)
                if message["event"] in answered:
                    raise self.diverge("burst", "an event of the burst is answered twice (PHL-EVT-004)",
                                       pointer="/event", actual=message["event"], received=message)
                answered.add(message["event"])
            if not found and match(spec["some"], message, self.bindings) is None:
                found = message.get("event", ids[0]) in ids
        if not found:
            raise self.diverge("burst", f"none of the answers to {count} events matches", expected=spec["some"],
                               actual=None)

    # ---- expectations -------------------------------------------------------------------

    async def _expect(self, pattern: dict[str, Any], kind: str) -> dict[str, Any]:
        message = await self._receive(kind, pattern)
        mismatch = match(pattern, message, self.bindings)
        if mismatch is not None:
            raise self._mismatch(kind, mismatch, message)
        return message

    async def _expect_effect(self, pattern: dict[str, Any]) -> None:
        """Accept ui.patch messages until the reduced tree matches (their effect, not encoding)."""
        effect = pattern["$effect"]
        rest = {k: v for k, v in pattern.items() if k != "$effect"}
        rest.setdefault("type", "ui.patch")
        short: Mismatch | None = None  # how far the tree still is from the effect
        while True:
            try:
                message = await self._receive("s2c", rest)
            except Diverged:
                if short is None:
                    raise
                raise self.diverge("effect", f"the tree after the patches does not match: {short.reason}",
                                   pointer=short.pointer, expected=short.expected, actual=short.actual,
                                   received=self.tree.root) from None
            if message.get("type") not in ("ui.patch", "ui.snapshot"):
                raise self.diverge("s2c", "expected a ui.patch", pointer="/type",
                                   expected=rest.get("type"), actual=message.get("type"), received=message)
            assert self.tree.root is not None
            short = match(effect, self.tree.root, self.bindings.copy())
            if short is not None:
                continue  # not there yet: a server may split the change over several patches
            mismatch = match(rest, message, self.bindings)
            if mismatch is not None:
                raise self._mismatch("s2c", mismatch, message)
            match(effect, self.tree.root, self.bindings)
            return

    async def _expect_reduced(self, pattern: dict[str, Any]) -> None:
        """``$reduced: true``: a ui.snapshot whose root equals, exactly, the tree the runner built
        from the snapshots and patches before it (metamorphic: patched result = fresh snapshot)."""
        rest = {k: v for k, v in pattern.items() if k != "$reduced"}
        rest.setdefault("type", "ui.snapshot")
        message = await self._expect(rest, "s2c")
        if message.get("type") != "ui.snapshot":
            raise CaseError(f"step {self.step}: $reduced judges a ui.snapshot")
        difference = first_difference(self.link.before, normalize(message["root"]))
        if difference is not None:
            pointer, expected, actual = difference
            raise self.diverge("reduced", "the snapshot differs from the tree the patches built: at "
                               f"{pointer or '/'} expected {json.dumps(expected, ensure_ascii=False)[:80]}, "
                               f"got {json.dumps(actual, ensure_ascii=False)[:80]}",
                               pointer="/root" + pointer, expected=expected, actual=actual, received=message)

    def _mismatch(self, kind: str, mismatch: Mismatch, received: Any) -> Diverged:
        return self.diverge(kind, mismatch.reason, pointer=mismatch.pointer, expected=mismatch.expected,
                            actual=mismatch.actual, received=received)

    async def _receive(self, kind: str, pattern: dict[str, Any] | list[dict[str, Any]]) -> dict[str, Any]:
        """The next message that the step does not ignore, checked against the schema.
        ``pattern`` may be several (a compound step waits for any of them)."""
        patterns = pattern if isinstance(pattern, list) else [pattern]
        expected: Any = pattern
        if self.link.pending:
            return self.link.pending.popleft()
        while True:
            incoming = await self._next(kind, expected)
            if incoming.kind == "close":
                raise self.diverge(kind, f"connection closed (code {incoming.code})",
                                   expected=expected, actual={"close": incoming.code})
            message = self._decode(incoming, kind)
            if not all(self._ignorable(message, p) for p in patterns):
                return message
            if message.get("type") == "ping":
                pong = {"type": "pong", **({"id": message["id"]} if "id" in message else {})}
                await self._send(pong)

    async def receive(self, kind: str, patterns: list[dict[str, Any]]) -> dict[str, Any]:
        return await self._receive(kind, patterns)

    async def peek(self, kind: str, patterns: list[dict[str, Any]]) -> dict[str, Any] | None:
        """The next message, left for the next step to consume; None when none comes (an SDK
        has nothing pending, a socket stays silent for the step timeout, or it closes)."""
        if self.link.pending:
            return self.link.pending[0]
        try:
            message = await self._receive(kind, patterns)
        except Diverged:
            return None
        self.link.pending.append(message)
        return message

    async def _next(self, kind: str, expected: Any) -> Incoming:
        incoming = await self.channel.next(self.timeout)
        if incoming is None:
            why = f"nothing received within {self.timeout:g} s" if self.channel.live else "no message pending"
            raise self.diverge(kind, why, expected=expected, actual=None)
        if incoming.kind == "close":
            self.transcript.add("close", {"code": incoming.code})
        return incoming

    def _decode(self, incoming: Incoming, kind: str) -> dict[str, Any]:
        peer = "client" if self.plays_server else "server"
        arrow = "c2s" if self.plays_server else "s2c"
        if incoming.kind == "binary":
            self.transcript.add(arrow, {"$binary": base64.b64encode(incoming.data).decode()})
            raise self.diverge(kind, f"{peer} sent a binary frame (reserved in 1.0)", actual="binary frame")
        limit = self.link.max_frame_bytes
        if self.plays_server and limit is not None and len(incoming.text.encode()) > limit:
            self.transcript.add(arrow, incoming.text)
            size = len(incoming.text.encode())
            raise self.diverge(kind, f"client sent a frame of {size} bytes, over the max_frame_bytes {limit} "
                               "the runner announced (PHL-LIM-001)", expected={"$num": [0, limit]}, actual=size)
        try:
            message: dict[str, Any] = json.loads(incoming.text)
        except ValueError:
            self.transcript.add(arrow, incoming.text)
            raise self.diverge(kind, f"{peer} sent a frame that is not JSON", actual=incoming.text) from None
        self.transcript.add(arrow, message)
        errors = (self.schemas.client_errors if self.plays_server else self.schemas.server_errors)(message)
        if errors:
            pointer, _, why = errors[0].partition(": ")
            raise self.diverge(kind, f"{peer} message fails the schema: {why}", pointer=pointer,
                               actual=pointer_get(message, pointer), received=message)
        if self.plays_server:
            self._check_client_acks(message, kind)
        else:
            self._check_server_invariants(message, kind)
        return message

    def _check_client_acks(self, message: dict[str, Any], kind: str) -> None:
        """PHL-DELIV-002: a client never acknowledges a seq it has not received."""
        acked = message.get("seq") if message.get("type") == "ack" else None
        pointer = "/seq"
        if message.get("type") == "event" and "ack" in message:
            acked, pointer = message["ack"], "/ack"
        last = self.next_seq - 1
        if isinstance(acked, int) and acked > last:
            raise self.diverge(kind, f"acknowledges seq {acked}, but the last seq sent is {last} (PHL-DELIV-002)",
                               pointer=pointer, expected={"$num": [0, last]}, actual=acked, received=message)

    def _check_server_invariants(self, message: dict[str, Any], kind: str) -> None:
        if message.get("type") == "welcome":
            self._start_session_view(message)
            self.link.token = message.get("token", self.link.token)
        if "seq" in message:
            if message["seq"] != self.next_seq:  # PHL-DELIV-001: seq increases by exactly 1
                raise self.diverge(kind, f"seq {message['seq']}, expected {self.next_seq}",
                                   pointer="/seq", expected=self.next_seq, actual=message["seq"],
                                   received=message)
            self.next_seq += 1
        self.link.before = self.tree.root  # never mutated in place: apply and snapshot make new roots
        try:
            if message["type"] == "ui.snapshot":
                self.tree.snapshot(message["root"], message["rev"])
            elif message["type"] == "ui.patch":
                self.tree.apply(message)
        except PatchError as exc:
            raise self.diverge(kind, f"{message['type']} does not apply: {exc}", received=message) from None
        if "seq" in message:
            self.history[message["seq"]] = (copy.deepcopy(self.tree.root), self.tree.rev)

    def _start_session_view(self, welcome: dict[str, Any]) -> None:
        """What the runner, as client, expects after its latest hello: a resumed session goes on
        from ``resume.seq`` with the tree it had processed then (PHL-DELIV-005); any other
        welcome starts a new session at seq 1 (PHL-DELIV-007)."""
        resume = (self.last_hello or {}).get("resume")
        if welcome.get("resumed") is True and isinstance(resume, dict) and isinstance(resume.get("seq"), int):
            # The session may have lived on another connection of the case (takeover, a resume
            # after a client close): its history is the view to go on from.
            owner = next((link for link in self.links.values()
                          if link.token is not None and link.token == resume.get("token")), self.link)
            self.history = dict(owner.history)
            self.next_seq = resume["seq"] + 1
            root, rev = self.history.get(resume["seq"], (None, None))
            self.tree.root, self.tree.rev = copy.deepcopy(root), rev
        elif self.last_hello is not None and self.history:
            self.next_seq = 1
            self.tree = Tree()
            self.history = {}

    def _ignorable(self, message: dict[str, Any], pattern: dict[str, Any]) -> bool:
        """Unsolicited pings (answered) and a renderer's batched acks, unless the step wants them."""
        kind = message.get("type")
        if self.plays_server and kind == "ack" and "event" not in message and pattern.get("type") == "ack":
            # Acks are cumulative and batched: a step expecting one skips the earlier, lower ones.
            return match(pattern, message, self.bindings.copy()) is not None
        if kind == pattern.get("type"):
            return False
        if kind == "ping":
            return True
        return self.plays_server and kind == "ack" and "event" not in message

    # ---- sending ------------------------------------------------------------------------

    async def _send(self, message: dict[str, Any]) -> None:
        self.transcript.add("s2c" if self.plays_server else "c2s", message)
        await self.channel.send_text(json.dumps(message, ensure_ascii=False))

    async def _send_text(self, text: str) -> None:
        self.transcript.add("s2c" if self.plays_server else "c2s", text)
        await self.channel.send_text(text)


def first_difference(expected: Any, actual: Any, pointer: str = "") -> tuple[str, Any, Any] | None:
    """(JSON pointer, expected, actual) of the first place two JSON values differ, or None."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in [*expected, *(k for k in actual if k not in expected)]:
            here = f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}"
            if key not in actual or key not in expected:
                return here, expected.get(key), actual.get(key)
            found = first_difference(expected[key], actual[key], here)
            if found is not None:
                return found
        return None
    if isinstance(expected, list) and isinstance(actual, list):
        for i, (a, b) in enumerate(zip(expected, actual, strict=False)):
            found = first_difference(a, b, f"{pointer}/{i}")
            if found is not None:
                return found
        if len(expected) != len(actual):
            return pointer, f"{len(expected)} items", f"{len(actual)} items"
        return None
    same = (expected == actual and type(expected) is type(actual)) or (
        isinstance(expected, (int, float)) and isinstance(actual, (int, float))
        and not isinstance(expected, bool) and not isinstance(actual, bool) and expected == actual)
    return None if same else (pointer, expected, actual)


def _places(value: Any, pointer: str = "") -> list[tuple[str, str]]:
    """(JSON pointer, string) for every string, key included, in an audit reply."""
    if isinstance(value, str):
        return [(pointer, value)]
    out: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for key, sub in value.items():
            here = f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}"
            out += [(here, str(key)), *_places(sub, here)]
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            out += _places(sub, f"{pointer}/{i}")
    return out


def _padded(spec: dict[str, Any]) -> str:
    """``{message, bytes, plus?}``: the message padded with a ``pad`` field to bytes + plus UTF-8 bytes."""
    target = int(spec["bytes"]) + int(spec.get("plus", 0))
    message = dict(spec["message"])
    message["pad"] = ""
    base = len(json.dumps(message, separators=(",", ":")).encode())
    if target < base:
        raise CaseError(f"$pad_to_bytes: {target} bytes is smaller than the message itself")
    message["pad"] = "x" * (target - base)
    return json.dumps(message, separators=(",", ":"))
