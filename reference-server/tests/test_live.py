"""Both ASGI servers, started by `phloem run`, over real loopback sockets: what the in-memory
communicator cannot show (HTTP 403 on refusal, the transport's frame-size limit)."""

import asyncio
import os
import signal
import urllib.error
import urllib.request

import orjson
import pytest
from conftest import FIXTURE_APPS
from live import phloem_run
from phloem_server.servers import SERVERS
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

pytestmark = pytest.mark.subprocess  # starts adapters, servers or tools: not in make test-fast


@pytest.fixture(scope="module", params=SERVERS)
def server(request, tmp_path_factory):
    with phloem_run(FIXTURE_APPS, tmp_path_factory.mktemp("data"), server=request.param) as running:
        yield running


async def test_handshake_click_and_oversized_frame_over_a_real_socket(server):
    async with connect(server.ws_url, subprotocols=["phloem.v1"], origin=server.url) as ws:
        assert ws.subprotocol == "phloem.v1"
        await ws.send('{"type":"hello","versions":["1.0"],"path":"/counter"}')
        welcome, snapshot = orjson.loads(await ws.recv()), orjson.loads(await ws.recv())
        assert welcome["type"] == "welcome" and snapshot["type"] == "ui.snapshot"
        # PHL-LIM-006: 200 KB passes the transport and gets the protocol's coded answer.
        await ws.send('{"type":"ping","pad":"' + "x" * 200_000 + '"}')
        error = orjson.loads(await ws.recv())
        assert error["code"] == "frame_too_large" and error["limit"] == 65536
        button = next(n for n in snapshot["root"]["children"] if n["type"] == "Button")
        event = {"type": "event", "id": 1, "node": button["id"], "name": "click"}
        await ws.send(orjson.dumps(event).decode())
        assert orjson.loads(await ws.recv())["type"] == "ui.patch"


async def test_foreign_origin_gets_http_403(server):
    with pytest.raises(InvalidStatus) as refused:
        async with connect(server.ws_url, subprotocols=["phloem.v1"], origin="http://evil.example"):
            pass
    assert refused.value.response.status_code == 403


async def test_missing_subprotocol_gets_http_403(server):
    with pytest.raises(InvalidStatus) as refused:
        async with connect(server.ws_url, origin=server.url):
            pass
    assert refused.value.response.status_code == 403


def test_page_path_is_served_over_http(server):
    # 200 with the renderer's index.html when it is built, else the 503 explanation page.
    try:
        with urllib.request.urlopen(server.url + "/counter") as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    assert status in (200, 503) and body.lower().startswith(b"<!doctype html>")


@pytest.mark.parametrize("name", SERVERS)
async def test_server_shutdown_closes_connections_with_1001(name, tmp_path):
    with phloem_run(FIXTURE_APPS, tmp_path, server=name) as running:
        async with connect(running.ws_url, subprotocols=["phloem.v1"], origin=running.url) as ws:
            await ws.send('{"type":"hello","versions":["1.0"],"path":"/counter"}')
            await ws.recv()
            await ws.recv()
            os.kill(running.pid, signal.SIGTERM)
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001


def _text_of(patch: dict) -> str:
    (op,) = [op for op in patch["ops"] if op.get("id") == "count"]
    return op["set"]["text"]


async def test_resume_after_an_abrupt_tcp_drop_replays_what_was_missed(server):
    """PHL-DELIV-004/005/009, PHL-EVT-005 over a real socket: the client processed up to seq 3,
    two more patches were sent but never processed when the TCP connection died without a
    close frame. The resume gets them renumbered; resending their events changes nothing."""
    hello = {"type": "hello", "versions": ["1.0"], "path": "/counter"}

    def event(i: int) -> str:
        return orjson.dumps({"type": "event", "id": i, "node": "inc", "name": "click"}).decode()

    ws = await connect(server.ws_url, subprotocols=["phloem.v1"], origin=server.url)
    await ws.send(orjson.dumps(hello).decode())
    welcome, _ = orjson.loads(await ws.recv()), orjson.loads(await ws.recv())
    await ws.send(event(1))
    first = orjson.loads(await ws.recv())
    assert first["seq"] == 3 and _text_of(first) == "Count: 1"  # processed
    await ws.send(event(2))
    await ws.send(event(3))
    lost = [orjson.loads(await ws.recv()) for _ in range(2)]  # sent, never processed
    assert [m["seq"] for m in lost] == [4, 5]
    ws.transport.abort()  # TCP reset: no close frame either way
    await ws.wait_closed()

    async with connect(server.ws_url, subprotocols=["phloem.v1"], origin=server.url) as ws:
        await ws.send(
            orjson.dumps({**hello, "resume": {"token": welcome["token"], "seq": 3}}).decode()
        )
        resumed = orjson.loads(await ws.recv())
        assert resumed["type"] == "welcome" and resumed["resumed"] is True
        assert resumed["seq"] == 4 and resumed["session"] == welcome["session"]
        replayed = [orjson.loads(await ws.recv()) for _ in range(2)]
        assert [(m["type"], m["seq"], m["event"]) for m in replayed] == [
            ("ui.patch", 5, 2),
            ("ui.patch", 6, 3),
        ]
        assert [_text_of(m) for m in replayed] == ["Count: 2", "Count: 3"]
        assert [m["ops"] for m in replayed] == [m["ops"] for m in lost]  # same content
        # The client resends its unanswered events (PHL-DELIV-009); it had processed no
        # answer to 2 and 3, and they were handled already: acked, not applied (PHL-EVT-005).
        await ws.send(event(2))
        await ws.send(event(3))
        acks = [orjson.loads(await ws.recv()) for _ in range(2)]
        assert acks == [
            {"type": "ack", "seq": 7, "event": 2},
            {"type": "ack", "seq": 8, "event": 3},
        ]
        await ws.send(event(4))
        after = orjson.loads(await ws.recv())
        assert after["seq"] == 9 and _text_of(after) == "Count: 4"  # nothing lost, nothing doubled
