from __future__ import annotations

import subprocess
import sys

import orjson
from sdk_support import REPO, assert_valid


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
