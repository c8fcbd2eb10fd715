"""Server memory per extra counter session, over real WebSockets, on uvicorn and Daphne.

    .venv/bin/python bench/bench_sessions.py [--sessions 200]

`phloem run` the counter example; open one session and let the server settle; read its RSS;
open N more sessions (each: hello, welcome + snapshot, one click and its patch, one ack) and
keep them all connected; read the RSS again. (RSS after - RSS before) / N is what an extra
live session costs the whole server process: the runtime's session, the Channels consumer,
the ASGI server's connection and buffers, the session's database row. The runtime's own share,
by tracemalloc in-process, is bench_wire.py's.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from _common import COUNTER, SERVERS, Row, Running, phloem_run, rss_bytes, vs_floor
from floors import floor_run

HELLO = '{"type":"hello","versions":["1.0"],"path":"/"}'
CLICK = '{"type":"event","id":1,"node":"inc","name":"click"}'
ACK = '{"type":"ack","seq":3}'


async def measure(server: Running, n: int) -> tuple[int, int]:
    from websockets.asyncio.client import ClientConnection, connect

    async def open_one() -> ClientConnection:
        ws = await connect(
            server.ws_url, subprotocols=["phloem.v1"], origin=server.url, compression=None
        )
        await ws.send(HELLO)
        await ws.recv()
        await ws.recv()
        await ws.send(CLICK)
        assert '"ui.patch"' in str(await ws.recv())
        await ws.send(ACK)
        return ws

    first = await open_one()
    await asyncio.sleep(0.5)
    before = rss_bytes(server.pid)
    conns = [first]
    for start in range(0, n, 20):  # 20 at a time: quick, without a thundering herd
        conns += await asyncio.gather(*(open_one() for _ in range(min(20, n - start))))
    await asyncio.sleep(0.5)  # the server finishes its records and settles
    after = rss_bytes(server.pid)
    await asyncio.gather(*(ws.close() for ws in conns))
    return before, after


async def floor_measure(server: Running, n: int) -> tuple[int, int]:
    """The same for the bare ASGI app: N more connections, each with one click answered."""
    from websockets.asyncio.client import ClientConnection, connect

    async def open_one() -> ClientConnection:
        ws = await connect(server.url.replace("http://", "ws://") + "/ws", compression=None)
        await ws.recv()
        await ws.send("click")
        await ws.recv()
        return ws

    conns = [await open_one()]
    await asyncio.sleep(0.5)
    before = rss_bytes(server.pid)
    for start in range(0, n, 20):
        conns += await asyncio.gather(*(open_one() for _ in range(min(20, n - start))))
    await asyncio.sleep(0.5)
    after = rss_bytes(server.pid)
    await asyncio.gather(*(ws.close() for ws in conns))
    return before, after


def run(n: int = 200) -> list[Row]:
    rows = []
    print(f"server memory per extra counter session ({n} live WebSocket sessions, RSS delta / N):")
    for server in SERVERS:
        with tempfile.TemporaryDirectory() as data, phloem_run(COUNTER, Path(data), server) as s:
            before, after = asyncio.run(measure(s, n))
        with floor_run("asgi", server) as f:
            f_before, f_after = asyncio.run(floor_measure(f, n))
        per, floor = (after - before) / n, (f_after - f_before) / n
        print(
            f"  {server:8} RSS {before / 2**20:.1f} MiB -> {after / 2**20:.1f} MiB: "
            f"{per / 1024:.1f} KiB per session; a bare ASGI app's connection {floor / 1024:.1f} KiB"
        )
        row = vs_floor(
            f"server RSS per extra session, {server}",
            per / 1024,
            floor / 1024,
            "KiB",
            f"bare ASGI app's connection, {server}",
        )
        # Memory per session does not depend on the machine's speed: the target stays absolute.
        rows.append(Row(row.what, row.measured, TARGET, row.ratio, row.floor))
    return rows


TARGET = "<= 0.05 MB (peer 0.08)"  # the brief's table, counter app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=200)
    run(parser.parse_args().sessions)


if __name__ == "__main__":
    main()
