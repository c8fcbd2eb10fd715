"""Runs one case's steps over a channel and finds the first divergence.

The runner plays the client when it judges a server or SDK, and the server when it judges a
renderer. Direction in a case is absolute, so the same steps swap between stimulus and
expectation by role.

The session holds the state the steps share (bindings, transcript, connections) and the
send/receive path; the steps themselves are in one module per family, each kind a function
registered with ``@registry.step`` (registry.py): messages.py (``c2s``, ``s2c`` and their raw
forms), sync.py (``barrier``, ``burst``), connections.py (``connect``, ``reconnect``,
``close``, ``c2s_close``), actions.py (``user``, ``render``, ``control``, ``audit``) and
compound.py (``any_order``, ``interleave``, ``repeat``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from . import inbound, registry
from .cases import Case
from .channels import Channel
from .divergence import ControlUnsupported, Diverged, Divergence, Silence
from .expectations import first_difference
from .link import MAIN, Link
from .matching import Bindings, CaseError, Mismatch
from .schemas import ProtocolSchemas
from .transcript import Transcript
from .tree import Tree

__all__ = [
    "MAIN",
    "ControlUnsupported",
    "Diverged",
    "Divergence",
    "Link",
    "Session",
    "Transcript",
    "first_difference",
]

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
        self.upcoming: list[
            tuple[int, str, dict[str, Any]]
        ] = []  # the top-level steps still to run

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
                self.upcoming = steps[position + 1 :]
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
                raise CaseError(
                    f"step {self.step}: no connection named {name!r} (open it with connect: {{as: {name}}})"
                )
        else:
            self.link = self.links[name]
        self.transcript.on = name
        await registry.run(self, kind, step)

    def diverge(
        self,
        kind: str,
        reason: str,
        *,
        pointer: str = "",
        expected: Any = None,
        actual: Any = None,
        received: Any = None,
    ) -> Diverged:
        divergence = Divergence(self.step, kind, pointer, expected, actual, reason, received)
        divergence.within = self.within
        divergence.connection = self.link.name if len(self.links) > 1 else None
        return Diverged(divergence)

    def mismatch(self, kind: str, mismatch: Mismatch, received: Any) -> Diverged:
        return self.diverge(
            kind,
            mismatch.reason,
            pointer=mismatch.pointer,
            expected=mismatch.expected,
            actual=mismatch.actual,
            received=received,
        )

    # ---- receiving ----------------------------------------------------------------------

    async def receive(
        self, kind: str, pattern: dict[str, Any] | list[dict[str, Any]]
    ) -> dict[str, Any]:
        """The next message that the step does not ignore, checked against the schema.
        ``pattern`` may be several (a compound step waits for any of them)."""
        patterns = pattern if isinstance(pattern, list) else [pattern]
        expected: Any = pattern
        if self.link.pending:
            return self.link.pending.popleft()
        while True:
            incoming = await inbound.next_incoming(self, kind, expected)
            if incoming.kind == "close":
                closed = self.diverge(
                    kind,
                    f"connection closed (code {incoming.code})",
                    expected=expected,
                    actual={"close": incoming.code},
                )
                raise Silence(closed.divergence)
            message = inbound.decode(self, incoming, kind)
            if not all(inbound.ignorable(self, message, p) for p in patterns):
                return message
            if message.get("type") == "ping":
                pong = {"type": "pong", **({"id": message["id"]} if "id" in message else {})}
                await self.send(pong)

    async def peek(self, kind: str, patterns: list[dict[str, Any]]) -> dict[str, Any] | None:
        """The next message, left for the next step to consume; None when none comes (an SDK
        has nothing pending, a socket stays silent for the step timeout, or it closes)."""
        if self.link.pending:
            return self.link.pending[0]
        try:
            message = await self.receive(kind, patterns)
        except Silence:
            return None  # a bad frame is not silence: its divergence stands
        self.link.pending.append(message)
        return message

    # ---- sending ------------------------------------------------------------------------

    async def send(self, message: dict[str, Any]) -> None:
        self.transcript.add("s2c" if self.plays_server else "c2s", message)
        await self.channel.send_text(json.dumps(message, ensure_ascii=False))

    async def send_text(self, text: str) -> None:
        self.transcript.add("s2c" if self.plays_server else "c2s", text)
        await self.channel.send_text(text)
