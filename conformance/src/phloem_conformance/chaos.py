"""Chaos: a long ledger session, its connection dropped at random points, resumed like a
correct client would; the final tree and the applied events must equal an undisturbed run's.

    phloem-conformance chaos --target sdk|server --adapter CMD --seed S --runs N [--out FILE]

Fixture ``ledger`` (conformance/fixtures/ledger.md): each applied ``append`` adds one Text at
the end of ``entries``, so a lost event is a missing line and a doubled one a repeated line.
A run sends ``--appends`` events (values ``v0``, ``v1``... all distinct) in batches of 1-4;
the connection drops before an event is sent, after a batch is sent (its answers are lost), or
between answer frames. The client then resumes as the spec says (PHL-DELIV-005): ``hello``
with the token and the last seq it processed, takes the replay (everything before the pong of
a ping sent after the hello), and resends every event still unanswered with its original id
(PHL-DELIV-009). The runner keeps its own reference tree from the snapshots and patches.

Counted: runs, drops, seq gaps (server messages lost: a seq that is not the last + 1),
events lost (appends missing from the final tree), events doubled (appends in it twice), and
mismatches (runs whose final tree or applied list differs from the undisturbed run's).
The client never imports an implementation; it speaks the protocol through the adapter.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import copy
import json
import random
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from .adapter import Adapter, AdapterError
from .channels import ClientSocketChannel
from .tree import PatchError, Tree

P_DROP = 0.03  # per opportunity (~3 per event): about 4 drops in a 40-append run
TIMEOUT = 5.0


class ChaosFailure(Exception):
    """The implementation broke the protocol in a way the run cannot go on from."""


@dataclass
class Stats:
    target: str
    seed: int
    runs: int = 0
    appends: int = 0
    drops: int = 0
    seq_gaps: int = 0  # server messages lost
    events_lost: int = 0
    events_doubled: int = 0
    mismatches: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        rate = self.runs / self.seconds if self.seconds else 0.0
        return (
            f"chaos ({self.target}, seed {self.seed}): {self.runs} runs of {self.appends} appends, "
            f"{self.drops} drops · messages lost {self.seq_gaps} · events lost {self.events_lost} · "
            f"events doubled {self.events_doubled} · mismatches {self.mismatches} · "
            f"{self.seconds:.1f} s ({rate:.0f} runs/s)"
        )


class Transport:
    """One connection at a time to the ledger; ``drop`` loses it and what it had not delivered."""

    async def connect(self) -> None:
        raise NotImplementedError

    async def send(self, message: dict[str, Any]) -> None:
        raise NotImplementedError

    async def receive(self) -> dict[str, Any] | None:
        raise NotImplementedError

    async def drop(self) -> None:
        raise NotImplementedError

    async def finish(self) -> None:
        pass


class SdkTransport(Transport):
    def __init__(self, adapter: Adapter) -> None:
        self.adapter = adapter
        self.inbox: collections.deque[str] = collections.deque()

    async def connect(self) -> None:
        self.inbox.clear()

    async def send(self, message: dict[str, Any]) -> None:
        reply = await self.adapter.request({"cmd": "send", "frame": json.dumps(message)}, TIMEOUT)
        self.inbox.extend(reply.get("frames", []))
        if reply.get("close") is not None:
            raise ChaosFailure(f"the SDK closed the connection ({reply['close']})")

    async def receive(self) -> dict[str, Any] | None:
        return json.loads(self.inbox.popleft()) if self.inbox else None

    async def drop(self) -> None:
        await self.adapter.request({"cmd": "disconnect"}, TIMEOUT)
        self.inbox.clear()


class SocketTransport(Transport):
    def __init__(self, url: str, origin: str | None) -> None:
        self.url, self.origin = url, origin
        self.channel: ClientSocketChannel | None = None

    async def connect(self) -> None:
        self.channel = await ClientSocketChannel.open(self.url, self.origin, TIMEOUT)

    async def send(self, message: dict[str, Any]) -> None:
        assert self.channel is not None
        await self.channel.send_text(json.dumps(message))

    async def receive(self) -> dict[str, Any] | None:
        assert self.channel is not None
        incoming = await self.channel.next(TIMEOUT)
        if incoming is None:
            raise ChaosFailure(f"nothing received within {TIMEOUT:g} s")
        if incoming.kind != "text":
            raise ChaosFailure(f"the server sent {incoming.kind} {incoming.code or ''}")
        message: dict[str, Any] = json.loads(incoming.text)
        return message

    async def drop(self) -> None:
        if self.channel is not None:
            await self.channel._drop()  # no close frame: the server sees 1006
        await self.connect()

    async def finish(self) -> None:
        if self.channel is not None:
            await self.channel.close()


class Client:
    """A correct client of the ledger: tracks seq, applies patches, resumes, resends."""

    def __init__(
        self, transport: Transport, rng: random.Random | None, stats: Stats, path: str | None
    ) -> None:
        self.t = transport
        self.rng = rng  # None: the undisturbed run
        self.stats = stats
        self.path = path
        self.tree = Tree()
        self.last_seq = 0
        self.token: str | None = None
        self.pending: dict[int, str] = {}  # event id -> value, sent and not yet answered
        self.pings = 0

    def chance(self) -> bool:
        if self.rng is not None and self.rng.random() < P_DROP:
            self.stats.drops += 1
            return True
        return False

    def hello(self, resume: bool) -> dict[str, Any]:
        message: dict[str, Any] = {"type": "hello", "versions": ["1.0"]}
        if self.path:
            message["path"] = self.path
        if resume:
            message["resume"] = {"token": self.token, "seq": self.last_seq}
        return message

    def process(self, message: dict[str, Any]) -> None:
        if "seq" in message:
            if message["seq"] != self.last_seq + 1:
                self.stats.seq_gaps += abs(message["seq"] - self.last_seq - 1)
                raise ChaosFailure(f"seq {message['seq']} after {self.last_seq}")
            self.last_seq = message["seq"]
        kind = message.get("type")
        try:
            if kind == "ui.snapshot":
                self.tree.snapshot(message["root"], message["rev"])
            elif kind == "ui.patch":
                self.tree.apply(message)
        except PatchError as exc:
            raise ChaosFailure(f"{kind} does not apply: {exc}") from None
        if kind == "welcome":
            self.token = message.get("token", self.token)
        if kind == "error" and message.get("fatal"):
            raise ChaosFailure(f"fatal error {message.get('code')}")
        if "event" in message:
            self.pending.pop(message["event"], None)

    async def until_pong(self) -> None:
        """Process everything up to the pong of a ping sent now (what is in flight arrives first)."""
        self.pings += 1
        token = f"chaos-{self.pings}"
        await self.t.send({"type": "ping", "id": token})
        while True:
            message = await self.t.receive()
            if message is None:
                raise ChaosFailure("no pong")
            if message.get("type") == "pong" and message.get("id") == token:
                return
            self.process(message)

    async def start(self) -> None:
        await self.t.connect()
        await self.t.send(self.hello(resume=False))
        await self.until_pong()
        if self.tree.root is None:
            raise ChaosFailure("no snapshot after the hello")

    async def resume(self) -> None:
        await self.t.drop()
        await self.t.send(self.hello(resume=True))
        welcome = await self.t.receive()
        if welcome is None or welcome.get("type") != "welcome":
            raise ChaosFailure(f"expected a welcome, got {welcome}")
        if welcome.get("resumed") is not True:
            raise ChaosFailure("the session was not resumed")
        self.process(
            welcome
        )  # PHL-DELIV-005: welcome at resume.seq + 1, our tree is the one at resume.seq
        await self.until_pong()  # the replay
        for event_id, value in sorted(
            self.pending.items()
        ):  # resent with their ids (PHL-DELIV-009)
            await self.t.send(self.event(event_id, value))

    @staticmethod
    def event(event_id: int, value: str) -> dict[str, Any]:
        return {"type": "event", "id": event_id, "node": "ledger", "name": "append", "value": value}

    async def run(self, appends: int) -> tuple[Any, list[str]]:
        await self.start()
        values = [f"v{k}" for k in range(appends)]
        next_id = 1
        rng = self.rng or random.Random(0)
        while values or self.pending:
            for _ in range(rng.randint(1, 4) if values else 0):
                if not values:
                    break
                if self.chance():  # dropped before the event goes out: it is sent on resume
                    self.pending[next_id] = values.pop(0)
                    next_id += 1
                    await self.resume()
                    continue
                self.pending[next_id] = value = values.pop(0)
                await self.t.send(self.event(next_id, value))
                next_id += 1
            if self.chance():  # the batch went out, its answers are lost with the connection
                await self.resume()
            while self.pending:
                message = await self.t.receive()
                if message is None:
                    break  # sans-IO: nothing more came for what was sent
                self.process(message)
                if self.chance():  # between answer frames
                    await self.resume()
            if self.pending and not values:
                await self.until_pong()
                if self.pending:
                    raise ChaosFailure(f"events never answered: {sorted(self.pending)}")
            await self.t.send({"type": "ack", "seq": self.last_seq})
        await self.until_pong()
        return copy.deepcopy(self.tree.root), _applied(self.tree.root)


def _applied(root: Any) -> list[str]:
    for node in root.get("children", []) if isinstance(root, dict) else []:
        if node.get("id") == "entries":
            return [c.get("props", {}).get("text") for c in node["children"]]
    return []


async def chaos(target: str, command: str, seed: int, runs: int, appends: int) -> Stats:
    stats = Stats(target, seed, appends=appends)
    adapter = Adapter(command)
    hello = await adapter.start()
    started = time.monotonic()
    try:
        if hello.get("role") != target:
            raise AdapterError(f"adapter role is {hello.get('role')!r}, not {target!r}")
        if "ledger" not in hello.get("fixtures", []):
            raise AdapterError("the adapter does not provide fixture 'ledger'")
        reference = await _one(adapter, target, None, stats, appends)
        for run in range(runs):
            stats.runs += 1
            try:
                final = await _one(adapter, target, random.Random(f"{seed}/{run}"), stats, appends)
            except (ChaosFailure, AdapterError, OSError, TimeoutError) as exc:
                stats.mismatches += 1
                if len(stats.failures) < 20:
                    stats.failures.append({"run": run, "reason": str(exc)})
                continue
            _, applied = final
            expected = [f"v{k}" for k in range(appends)]
            stats.events_doubled += len(applied) - len(set(applied))
            stats.events_lost += len(set(expected) - set(applied))
            if final != reference or applied != expected:
                stats.mismatches += 1
                if len(stats.failures) < 20:
                    stats.failures.append(
                        {
                            "run": run,
                            "reason": "final tree differs from the undisturbed run's",
                            "applied": applied,
                        }
                    )
    finally:
        stats.seconds = round(time.monotonic() - started, 3)
        await adapter.stop()
    return stats


async def _one(
    adapter: Adapter, target: str, rng: random.Random | None, stats: Stats, appends: int
) -> tuple[Any, list[str]]:
    reply = await adapter.request({"cmd": "open", "case": "chaos", "fixture": "ledger"}, 30)
    transport: Transport
    if target == "sdk":
        transport = SdkTransport(adapter)
    else:
        transport = SocketTransport(reply["url"], reply.get("origin"))
    try:
        return await Client(
            transport, rng, stats, reply.get("path") if target == "server" else None
        ).run(appends)
    finally:
        await transport.finish()
        with contextlib.suppress(AdapterError):
            await adapter.request({"cmd": "close"}, 30)


def main(args: argparse.Namespace) -> int:
    try:
        stats = asyncio.run(chaos(args.target, args.adapter, args.seed, args.runs, args.appends))
    except AdapterError as exc:
        print(f"adapter: {exc}")
        return 2
    print(stats.summary())
    for failure in stats.failures[:5]:
        print(f"  run {failure['run']}: {failure['reason']}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(asdict(stats), indent=1) + "\n", encoding="utf-8")
    ok = not (stats.mismatches or stats.events_lost or stats.events_doubled or stats.seq_gaps)
    return 0 if ok else 1
