import json
import select
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from websockets.asyncio.client import connect

pytestmark = pytest.mark.subprocess  # starts adapters, servers or tools: not in make test-fast

ADAPTER = Path(__file__).resolve().parents[1] / "conformance_adapter.py"
REPLY_TIMEOUT = 60  # the first open starts a server


class Adapter:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(ADAPTER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def __call__(self, **command: object) -> dict:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        # One reply per command, so nothing is read ahead: select sees the next line.
        ready, _, _ = select.select([self.proc.stdout], [], [], REPLY_TIMEOUT)
        assert ready, f"no reply to {command} within {REPLY_TIMEOUT} s"
        return json.loads(self.proc.stdout.readline())


async def test_adapter_serves_fixtures_across_cases_until_bye():
    adapter = Adapter()
    try:
        hello = adapter(cmd="hello", adapter_protocol=1)
        assert hello["ok"] and hello["role"] == "server"
        assert set(hello["fixtures"]) == {
            "counter", "disabled-button", "dismiss", "failing-handler", "unknown-component",
            "input", "input-upper", "tree-echo", "ledger", "small-buffer", "private", "fallback", "fast-heartbeat",
            "long-input", "server-push",
        }  # fmt: skip
        for case, fixture in enumerate(["counter", "unknown-component"]):
            opened = adapter(cmd="open", case=str(case), fixture=fixture)
            assert opened["ok"] and opened["path"] == f"/{fixture}", opened
            async with connect(
                opened["url"], subprotocols=["phloem.v1"], origin=opened["origin"]
            ) as ws:
                hello_msg = {"type": "hello", "versions": ["1.0"], "path": opened["path"]}
                await ws.send(orjson.dumps(hello_msg).decode())
                assert orjson.loads(await ws.recv())["type"] == "welcome"
                assert orjson.loads(await ws.recv())["rev"] == 1  # a fresh session each case
            assert adapter(cmd="close") == {"ok": True}
        assert adapter(cmd="open", case="x", fixture="nope")["ok"] is False
        assert adapter(cmd="bye") == {"ok": True}
        assert adapter.proc.wait(15) == 0
    finally:
        adapter.proc.kill()
        adapter.proc.communicate()  # closes the pipes


async def test_adapter_logs_users_in_for_the_private_fixture():
    adapter = Adapter()
    try:
        assert adapter(cmd="hello", adapter_protocol=1)["ok"]
        opened = adapter(cmd="open", case="p", fixture="private")
        hello_msg = orjson.dumps(
            {"type": "hello", "versions": ["1.0"], "path": "/private"}
        ).decode()
        async with connect(
            opened["url"], subprotocols=["phloem.v1"], origin=opened["origin"]
        ) as ws:
            await ws.send(hello_msg)
            error = orjson.loads(await ws.recv())
            assert error["code"] == "unauthorized" and error["fatal"] is True
            await ws.wait_closed()
            assert ws.close_code == 4401
        login = adapter(cmd="login", user="alice")
        assert login["ok"] and login["headers"]["Cookie"].startswith("sessionid=")
        async with connect(
            opened["url"],
            subprotocols=["phloem.v1"],
            origin=opened["origin"],
            additional_headers=login["headers"],
        ) as ws:
            await ws.send(hello_msg)
            assert orjson.loads(await ws.recv())["type"] == "welcome"
            assert orjson.loads(await ws.recv())["type"] == "ui.snapshot"
        assert adapter(cmd="login", user="")["ok"] is False
        assert adapter(cmd="bye") == {"ok": True}
        assert adapter.proc.wait(15) == 0
    finally:
        adapter.proc.kill()
        adapter.proc.communicate()
