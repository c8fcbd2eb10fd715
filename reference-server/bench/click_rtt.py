"""Click round trip and server CPU per event, Daphne vs uvicorn, over loopback.

    .venv/bin/python reference-server/bench/click_rtt.py [--events 400] [--rounds 3]

For each server: `phloem run` the counter fixture, handshake, then send click events paced
below the protocol's rate limit and time event → ui.patch at the client. Server CPU per event
is the server process's user+system time over the clicks (from /proc), divided by the count.
Rounds alternate the servers so drift on a shared machine hits both alike."""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import orjson
from websockets.asyncio.client import connect

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from live import Running, phloem_run  # noqa: E402

REPO = HERE.parents[1]
APP = REPO / "sdk-python" / "fixtures" / "apps.py"
PACE = 0.025  # 40 events/s: under the 50/s sustained limit, like a fast human


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def clicks(server: Running, n: int) -> tuple[list[float], float]:
    async with connect(
        server.ws_url, subprotocols=["phloem.v1"], origin=server.url, compression=None
    ) as ws:
        await ws.send('{"type":"hello","versions":["1.0"],"path":"/counter"}')
        await ws.recv()
        snapshot = orjson.loads(await ws.recv())
        button = next(c for c in snapshot["root"]["children"] if c["type"] == "Button")["id"]
        rtts = []
        cpu0 = cpu_seconds(server.pid)
        for i in range(1, n + 1):
            frame = orjson.dumps({"type": "event", "id": i, "node": button, "name": "click"})
            t0 = time.perf_counter()
            await ws.send(frame.decode())
            reply = await ws.recv()
            rtts.append((time.perf_counter() - t0) * 1000)
            assert b'"ui.patch"' in reply.encode()[:30], reply
            await asyncio.sleep(PACE)
        cpu = (cpu_seconds(server.pid) - cpu0) * 1000 / n
    return rtts, cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--app", type=Path, default=APP)
    args = parser.parse_args()
    results: dict[str, tuple[list[float], list[float]]] = {"daphne": ([], []), "uvicorn": ([], [])}
    for _ in range(args.rounds):
        for server in results:
            with (
                tempfile.TemporaryDirectory() as data,
                phloem_run(args.app, Path(data), server) as running,
            ):
                rtts, cpu = asyncio.run(clicks(running, args.events))
                results[server][0].extend(rtts[20:])  # the first clicks warm caches
                results[server][1].append(cpu)
    print(f"click round trip, {args.rounds} x {args.events} events paced {PACE * 1000:.0f} ms")
    for server, (rtts, cpus) in results.items():
        q = statistics.quantiles(rtts, n=100)
        print(
            f"{server:8} p50 {q[49]:.3f} ms  p95 {q[94]:.3f} ms  mean {statistics.fmean(rtts):.3f} ms"
            f"  server CPU/event {statistics.median(cpus):.3f} ms"
        )


if __name__ == "__main__":
    main()
