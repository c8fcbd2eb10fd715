"""Daphne closes every WebSocket after `websocket_timeout` (86400 s by default); a client
resumes its session over a new one, nothing lost and nothing doubled (design §5)."""

import asyncio
import time

import orjson
import pytest
from conftest import FIXTURE_APPS
from live import phloem_run
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

pytestmark = pytest.mark.subprocess  # starts adapters, servers or tools: not in make test-fast

TIMEOUT = 2  # seconds; Daphne checks its timeouts about once a second


async def test_clicks_before_and_after_daphnes_forced_close_count_exactly(tmp_path):
    args = ("--websocket-timeout", str(TIMEOUT))
    with phloem_run(FIXTURE_APPS, tmp_path, server="daphne", args=args) as server:
        async with connect(server.ws_url, subprotocols=["phloem.v1"], origin=server.url) as ws:
            opened = time.monotonic()
            await ws.send('{"type":"hello","versions":["1.0"],"path":"/counter"}')
            welcome, snapshot = orjson.loads(await ws.recv()), orjson.loads(await ws.recv())
            button = next(n for n in snapshot["root"]["children"] if n["type"] == "Button")
            click = {"type": "event", "id": 1, "node": button["id"], "name": "click"}
            await ws.send(orjson.dumps(click).decode())
            patch = orjson.loads(await ws.recv())
            assert patch["seq"] == 3 and patch["event"] == 1
            try:  # nothing more comes: Daphne closes the idle connection on its own
                await asyncio.wait_for(ws.recv(), TIMEOUT + 5)
                raise AssertionError("a frame arrived instead of Daphne's close")
            except ConnectionClosed:
                pass
            assert time.monotonic() - opened >= TIMEOUT
            assert ws.close_code in (1000, 1005, None)  # a normal close, not an error
        async with connect(server.ws_url, subprotocols=["phloem.v1"], origin=server.url) as ws:
            resume = {"token": welcome["token"], "seq": patch["seq"]}
            hello = {"type": "hello", "versions": ["1.0"], "path": "/counter", "resume": resume}
            await ws.send(orjson.dumps(hello).decode())
            again = orjson.loads(await ws.recv())
            assert again["resumed"] is True and again["session"] == welcome["session"]
            await ws.send(orjson.dumps({**click, "id": 2}).decode())
            second = orjson.loads(await ws.recv())
            assert second["event"] == 2
            assert second["ops"][0]["set"] == {"text": "Count: 2"}  # exact
