"""Session B clicks while session A's handler blocks, over real WebSockets (issue 7 §1).

Shared by test_blocking_over_ws.py (which asserts relations that hold on a loaded machine) and
bench/bench_blocking.py (which prints the numbers)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from live import Running
from websockets.asyncio.client import ClientConnection, connect

APP = Path(__file__).with_name("blocking_app.py")
PACE = 0.025  # seconds between B's clicks: 40/s, under the 50/s rate limit
PING_EVERY = 0.25  # seconds between B's pings: four per heartbeat interval


@dataclass
class Blocked:
    """What B saw while A's handler ran."""

    rtts: list[float] = field(default_factory=list)  # B's click -> ui.patch, seconds
    pongs: list[float] = field(default_factory=list)  # B's ping -> pong, seconds
    a_answer: float = 0.0  # A's event -> its answer, seconds
    clicks_before_a: int = 0  # B's clicks answered before A's answer arrived
    closed: list[int | None] = field(default_factory=list)  # close codes seen (none expected)


async def _open(server: Running, path: str) -> ClientConnection:
    ws = await connect(
        server.ws_url, subprotocols=["phloem.v1"], origin=server.url, compression=None
    )
    await ws.send(orjson.dumps({"type": "hello", "versions": ["1.0"], "path": path}).decode())
    await ws.recv()  # welcome
    await ws.recv()  # snapshot
    return ws


async def idle(server: Running, clicks: int) -> list[float]:
    """B's click round trips with nothing else running."""
    ws = await _open(server, "/counter")
    try:
        out = []
        for i in range(1, clicks + 1):
            out.append(await _click(ws, i))
            await asyncio.sleep(PACE)
        return out
    finally:
        await ws.close()


async def _click(ws: ClientConnection, event_id: int) -> float:
    frame = orjson.dumps({"type": "event", "id": event_id, "node": "inc", "name": "click"})
    t0 = time.perf_counter()
    await ws.send(frame.decode())
    reply = orjson.loads(await ws.recv())
    assert reply["type"] == "ui.patch" and reply["event"] == event_id, reply
    return time.perf_counter() - t0


async def while_blocked(server: Running, what: str, seconds: float) -> Blocked:
    """A sends one event whose handler does ``what`` (burn, sleep, io) for ``seconds``; B
    clicks every 25 ms and pings every 250 ms until A's answer arrives."""
    a = await _open(server, "/work")
    b = await _open(server, "/counter")
    seen = Blocked()
    try:
        event = {"type": "event", "id": 1, "node": "work", "name": what, "value": seconds}
        t0 = time.perf_counter()
        await a.send(orjson.dumps(event).decode())
        answer = asyncio.ensure_future(a.recv())
        event_id, next_ping = 0, time.perf_counter()
        while not answer.done():
            if time.perf_counter() >= next_ping:
                p0 = time.perf_counter()
                await b.send(orjson.dumps({"type": "ping", "id": event_id}).decode())
                pong = orjson.loads(await b.recv())
                assert pong == {"type": "pong", "id": event_id}, pong
                seen.pongs.append(time.perf_counter() - p0)
                next_ping += PING_EVERY
            event_id += 1
            seen.rtts.append(await _click(b, event_id))
            if not answer.done():
                seen.clicks_before_a = len(seen.rtts)
            await asyncio.sleep(PACE)
        reply = orjson.loads(answer.result())
        seen.a_answer = time.perf_counter() - t0
        assert reply["type"] == "ui.patch" and reply["event"] == 1, reply
        seen.closed = [ws.close_code for ws in (a, b) if ws.close_code is not None]
        return seen
    finally:
        await a.close()
        await b.close()
