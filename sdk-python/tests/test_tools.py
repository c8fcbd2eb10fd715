from __future__ import annotations

import subprocess
import sys
from typing import Any

import orjson
import pytest
from sdk_support import REPO, assert_valid

pytestmark = pytest.mark.subprocess  # starts adapters, servers or tools: not in make test-fast


def test_generated_wire_types_match_the_schemas() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "tools" / "gen_python_types.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


def test_the_conformance_adapter_speaks_the_adapter_protocol() -> None:
    hello = {"type": "hello", "versions": ["1.0"], "path": "/counter"}
    click = {"type": "event", "id": 1, "node": "inc", "name": "click"}
    commands = [
        {"cmd": "hello", "adapter_protocol": 1},
        {"cmd": "open", "case": "c1", "fixture": "counter"},
        {"cmd": "send", "frame": orjson.dumps(hello).decode()},
        {"cmd": "send", "frame": orjson.dumps(click).decode()},
        {"cmd": "send", "binary": "AAE="},
        {"cmd": "disconnect"},
        {
            "cmd": "send",
            "frame": orjson.dumps(
                {**hello, "resume": {"token": "conformance-token-000001", "seq": 3}}
            ).decode(),
        },
        {"cmd": "frobnicate"},
        {"cmd": "close"},
        {"cmd": "bye"},
    ]
    stdin = "".join(orjson.dumps(c).decode() + "\n" for c in commands)
    result = subprocess.run(
        [sys.executable, str(REPO / "sdk-python" / "conformance_adapter.py")],
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    replies = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert len(replies) == len(commands)
    assert replies[0]["role"] == "sdk" and replies[0]["fixtures"] == [
        "counter",
        "disabled-button",
        "dismiss",
        "failing-handler",
        "fallback",
        "fast-heartbeat",
        "input",
        "input-upper",
        "jobs-grace",
        "jobs-long",
        "jobs-retry",
        "jobs-small-buffer",
        "ledger",
        "long-input",
        "private",
        "server-push",
        "small-buffer",
        "tree-echo",
        "unknown-component",
    ]
    frames = [orjson.loads(f) for r in replies if "frames" in r for f in r["frames"]]
    for frame in frames:
        assert_valid("messages/server-message", frame)
    assert [f["type"] for f in frames] == [
        "welcome",
        "ui.snapshot",
        "ui.patch",
        "error",
        "welcome",
        "error",
    ]
    # The resume processed seq 3, so the error (seq 4) is replayed after the welcome, renumbered.
    assert frames[-2]["resumed"] is True and frames[-2]["seq"] == 4 and frames[-1]["seq"] == 5
    assert replies[7] == {"ok": False, "error": "unknown command 'frobnicate'"}
    assert replies[-1] == {"ok": True}


def _run_adapter(commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
    stdin = "".join(orjson.dumps(c).decode() + "\n" for c in commands)
    result = subprocess.run(
        [sys.executable, str(REPO / "sdk-python" / "conformance_adapter.py")],
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    replies = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert len(replies) == len(commands)
    return replies


def _frame(msg: dict[str, Any]) -> str:
    return orjson.dumps(msg).decode()


def test_the_sdk_adapter_serves_named_connections_and_reports_a_takeover() -> None:
    hello = {"type": "hello", "versions": ["1.0"]}
    resume = {**hello, "resume": {"token": "conformance-token-000001", "seq": 2}}
    replies = _run_adapter(
        [
            {"cmd": "hello", "adapter_protocol": 1},
            {"cmd": "open", "case": "c1", "fixture": "counter"},
            {"cmd": "send", "frame": _frame(hello)},
            {"cmd": "connect", "connection": "second"},
            {"cmd": "send", "connection": "second", "frame": _frame(resume)},
            {
                "cmd": "send",
                "connection": "second",
                "frame": _frame({"type": "event", "id": 1, "node": "inc", "name": "click"}),
            },
            {"cmd": "connect", "connection": "second"},
            {"cmd": "bye"},
        ]
    )
    welcome = orjson.loads(replies[2]["frames"][0])
    taken = replies[4]
    assert orjson.loads(taken["frames"][0])["resumed"] is True
    assert orjson.loads(taken["frames"][0])["session"] == welcome["session"]
    assert taken["elsewhere"] == {"main": {"frames": [], "close": 4409}}
    assert "elsewhere" not in replies[5] and orjson.loads(replies[5]["frames"][0])["event"] == 1
    assert replies[6]["ok"] is False


def test_the_sdk_adapter_connects_named_users_to_private_pages() -> None:
    hello = _frame({"type": "hello", "versions": ["1.0"]})
    replies = _run_adapter(
        [
            {"cmd": "hello", "adapter_protocol": 1},
            {"cmd": "open", "case": "c1", "fixture": "private"},
            {"cmd": "send", "frame": hello},
            {"cmd": "connect", "connection": "alice", "user": "alice"},
            {"cmd": "send", "connection": "alice", "frame": hello},
            {"cmd": "bye"},
        ]
    )
    (refused,) = (orjson.loads(f) for f in replies[2]["frames"])
    assert refused["code"] == "unauthorized" and replies[2]["close"] == 4401
    assert [orjson.loads(f)["type"] for f in replies[4]["frames"]] == ["welcome", "ui.snapshot"]
