"""PHL-PING-005 over a real WebSocket, on both ASGI servers: a connection silent for three
heartbeat intervals is closed with 4000 and its session resumes; one that keeps pinging stays."""

import asyncio
import time

import orjson
import pytest
from conftest import FIXTURE_APPS
from live import phloem_run
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

pytestmark = pytest.mark.subprocess  # starts adapters, servers or tools: not in make test-fast

HEARTBEAT = 1  # seconds: fixture fast-heartbeat


async def _hello(ws, **extra):
    await ws.send(
        orjson.dumps(
            {"type": "hello", "versions": ["1.0"], "path": "/fast-heartbeat", **extra}
        ).decode()
    )
    return orjson.loads(await ws.recv())


@pytest.mark.parametrize("server", ["uvicorn", "daphne"])
async def test_silent_connection_closed_with_4000_and_resumed(tmp_path, server):
    with phloem_run(FIXTURE_APPS, tmp_path, server=server) as running:
        async with connect(running.ws_url, subprotocols=["phloem.v1"], origin=running.url) as ws:
            welcome = await _hello(ws)
            assert welcome["limits"]["heartbeat_seconds"] == HEARTBEAT
            snapshot = orjson.loads(await ws.recv())
            silent_since = time.monotonic()
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 3 * HEARTBEAT + 5)
            waited = time.monotonic() - silent_since
            assert ws.close_code == 4000
            assert 3 * HEARTBEAT - 0.2 <= waited <= 3 * HEARTBEAT + 1.5
        async with connect(running.ws_url, subprotocols=["phloem.v1"], origin=running.url) as ws:
            again = await _hello(ws, resume={"token": welcome["token"], "seq": snapshot["seq"]})
            assert again["resumed"] is True and again["session"] == welcome["session"]


async def test_a_connection_that_pings_is_never_closed(tmp_path):
    with phloem_run(FIXTURE_APPS, tmp_path) as running:
        async with connect(running.ws_url, subprotocols=["phloem.v1"], origin=running.url) as ws:
            await _hello(ws)
            await ws.recv()  # snapshot
            for n in range(8):  # 4 s: past three intervals, with a ping every half second
                await ws.send(orjson.dumps({"type": "ping", "id": f"p{n}"}).decode())
                assert orjson.loads(await ws.recv()) == {"type": "pong", "id": f"p{n}"}
                await asyncio.sleep(HEARTBEAT / 2)
            assert ws.close_code is None
