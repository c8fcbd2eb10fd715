"""Click round trip and server CPU per event, uvicorn vs Daphne, from a Python client over
loopback (no browser in the way).

    .venv/bin/python bench/bench_rtt.py [--events 300] [--rounds 1]

For each server: `phloem run` the counter fixture, handshake, then send click events paced
below the protocol's rate limit and time event → ui.patch at the client. Server CPU per event
is the server process's CPU time over the clicks (from /proc), divided by the count. Rounds
alternate the servers so drift on a shared machine hits both alike."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import orjson
from _common import REPO, SERVERS, Row, Running, cpu_seconds, phloem_run, quantile, vs_floor
from floors import floor_run

APP = REPO / "sdk-python" / "fixtures" / "apps.py"
PACE = 0.025  # 40 events/s: under the 50/s sustained limit, like a fast human
WARMUP = 20


async def clicks(server: Running, n: int) -> tuple[list[float], float]:
    from websockets.asyncio.client import connect

    async with connect(
        server.ws_url, subprotocols=["phloem.v1"], origin=server.url, compression=None
    ) as ws:
        await ws.send('{"type":"hello","versions":["1.0"],"path":"/counter"}')
        await ws.recv()
        snapshot = orjson.loads(await ws.recv())
        button = next(c for c in snapshot["root"]["children"] if c["type"] == "Button")["id"]
        rtts = []
        for i in range(1, n + WARMUP + 1):
            if i == WARMUP + 1:  # the first clicks warm caches
                rtts.clear()
                cpu0 = cpu_seconds(server.pid)
            frame = orjson.dumps({"type": "event", "id": i, "node": button, "name": "click"})
            t0 = time.perf_counter()
            await ws.send(frame.decode())
            reply = await ws.recv()
            rtts.append((time.perf_counter() - t0) * 1000)
            assert '"ui.patch"' in str(reply)[:30], reply
            await asyncio.sleep(PACE)
        cpu = (cpu_seconds(server.pid) - cpu0) * 1000 / n
    return rtts, cpu


async def floor_clicks(server: Running, n: int) -> tuple[list[float], float]:
    """The same paced clicks against the bare ASGI app (bench/floors.py): one message each way."""
    from websockets.asyncio.client import connect

    async with connect(server.url.replace("http://", "ws://") + "/ws", compression=None) as ws:
        await ws.recv()  # Count: 0
        rtts = []
        for i in range(1, n + WARMUP + 1):
            if i == WARMUP + 1:
                rtts.clear()
                cpu0 = cpu_seconds(server.pid)
            t0 = time.perf_counter()
            await ws.send('{"type":"click"}')
            await ws.recv()
            rtts.append((time.perf_counter() - t0) * 1000)
            await asyncio.sleep(PACE)
        cpu = (cpu_seconds(server.pid) - cpu0) * 1000 / n
    return rtts, cpu


def run(events: int = 300, rounds: int = 1) -> list[Row]:
    results: dict[str, tuple[list[float], list[float]]] = {s: ([], []) for s in SERVERS}
    floors: dict[str, tuple[list[float], list[float]]] = {s: ([], []) for s in SERVERS}
    for _ in range(rounds):
        for server in results:
            with tempfile.TemporaryDirectory() as data, phloem_run(APP, Path(data), server) as s:
                rtts, cpu = asyncio.run(clicks(s, events))
                results[server][0].extend(rtts)
                results[server][1].append(cpu)
            with floor_run("asgi", server) as f:
                rtts, cpu = asyncio.run(floor_clicks(f, events))
                floors[server][0].extend(rtts)
                floors[server][1].append(cpu)
    print(
        f"event -> ui.patch at a Python client, {rounds} x {events} events paced {PACE * 1000:.0f} ms"
    )
    rows = []
    for server, (rtts, cpus) in results.items():
        p50, p95 = quantile(rtts, 0.5), quantile(rtts, 0.95)
        cpu = statistics.median(cpus)
        f_rtts, f_cpus = floors[server]
        f50, f_cpu = quantile(f_rtts, 0.5), statistics.median(f_cpus)
        print(
            f"  {server:8} p50 {p50:.3f} ms  p95 {p95:.3f} ms  mean {statistics.fmean(rtts):.3f} ms"
            f"  server CPU/event {cpu:.3f} ms;  bare ASGI app: p50 {f50:.3f} ms, CPU {f_cpu:.3f} ms"
        )
        floor = f"bare ASGI app, {server}"
        rows.append(
            vs_floor(
                f"event -> ui.patch p50 (Python client), {server}",
                p50,
                f50,
                "ms",
                floor,
                TARGET_RTT,
            )
        )
        rows.append(
            vs_floor(
                f"server CPU per event (Python client), {server}",
                cpu,
                f_cpu,
                "ms",
                floor,
                TARGET_CPU,
            )
        )
    return rows


# Ratios to a bare ASGI app on the same server, same client, same pacing (bench/floors.py).
TARGET_RTT = 2.5  # Phloem's parse, handler, render, diff and serialise on top of the transport
TARGET_CPU = 2.0  # as bench_click's


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    run(args.events, args.rounds)


if __name__ == "__main__":
    main()
