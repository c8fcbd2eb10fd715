"""Bytes on the wire and runtime CPU per counter click, and memory per counter session.

Frames are counted as UTF-8 JSON payload, and with WebSocket framing: a server frame is
unmasked (2-byte header below 126 bytes of payload, 4 below 64 KiB), a client frame is masked
(+4 bytes of mask: 6 and 8). CPU is the sans-IO runtime only (parse, handler, render, diff,
serialise), not the network stack or the ASGI server.

    .venv/bin/python bench/bench_wire.py
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from itertools import count
from pathlib import Path

import orjson
import phloem as ph
from _common import Row, vs_floor
from phloem.runtime import Hub, Run, settle

COUNTER = Path(__file__).resolve().parent.parent / "sdk-python" / "examples" / "counter.py"
CLICKS = 20_000
SESSIONS = 1_000


def ws_bytes(payload: int, masked: bool) -> int:
    header = 2 if payload < 126 else 4 if payload < 65536 else 10
    return payload + header + (4 if masked else 0)


def new_hub(app: ph.App, offload: bool = False) -> Hub:
    tokens = count(1)
    return Hub(app, new_token=lambda: f"bench-token-{next(tokens):010d}", offload=offload)


def wire_bytes(app: ph.App) -> None:
    conn = new_hub(app).connect(0.0)
    conn.receive('{"type":"hello","versions":["1.0"]}', 0.0)
    variants = {
        "minimal event": {"type": "event", "id": 7, "node": "inc", "name": "click"},
        "event with rev + ack": {
            "type": "event",
            "id": 8,
            "node": "inc",
            "name": "click",
            "rev": 2,
            "ack": 3,
        },
    }
    for name, event in variants.items():
        up = orjson.dumps(event)
        (down,) = conn.receive(up.decode(), 1.0 + event["id"]).frames
        down_b = down.encode()
        payload = len(up) + len(down_b)
        framed = ws_bytes(len(up), masked=True) + ws_bytes(len(down_b), masked=False)
        print(f"{name}:")
        print(
            f"  client -> server: {len(up)} B payload, {ws_bytes(len(up), True)} B framed   {up.decode()}"
        )
        print(
            f"  server -> client: {len(down_b)} B payload, {ws_bytes(len(down_b), False)} B framed   {down}"
        )
        print(f"  both ways: {payload} B payload, {framed} B with WebSocket framing")


def cpu_per_click(app: ph.App, offload: bool = False) -> float:
    """Mean CPU per click. ``offload``: the server's path, where each click's handler comes
    back as a Run effect that the shell calls (here, at once, in this thread: the lane's
    thread hop is bench_rtt's to measure)."""
    conn = new_hub(app, offload).connect(0.0)
    settle(conn.receive('{"type":"hello","versions":["1.0"]}', 0.0))
    frames = [
        orjson.dumps(
            {"type": "event", "id": i, "node": "inc", "name": "click", "ack": i + 1}
        ).decode()
        for i in range(1, CLICKS + 1)
    ]
    now = 0.0
    gc.collect()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for frame in frames:
        now += 0.03  # under the 50 events/s limit, so every click is handled
        out = conn.receive(frame, now)
        for effect in out.effects:  # offload: the Run of the click's handler, as a lane runs it
            if type(effect) is Run:
                settle(effect.call())
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    path = "handler as a Run effect (the server's path)" if offload else "handler inline"
    print(
        f"runtime per click event, {path}: {cpu / CLICKS * 1e6:.1f} us CPU, "
        f"{wall / CLICKS * 1e6:.1f} us wall (mean of {CLICKS:,}; receive -> handler -> render -> "
        "diff -> ui.patch frame)"
    )
    return cpu / CLICKS


def floor_cpu_per_click() -> float:
    """The floor: parse each event frame and serialise a patch of the same shape with orjson,
    the least a JSON-over-WebSocket server does per event."""
    frames = [
        orjson.dumps({"type": "event", "id": i, "node": "inc", "name": "click", "ack": i + 1})
        for i in range(1, CLICKS + 1)
    ]
    gc.collect()
    cpu0 = time.process_time()
    for i, frame in enumerate(frames):
        event = orjson.loads(frame)
        orjson.dumps(
            {
                "type": "ui.patch",
                "seq": i + 3,
                "base": i + 1,
                "rev": i + 2,
                "event": event["id"],
                "ops": [{"id": "count", "set": {"text": f"Count: {i + 1}"}}],
            }
        ).decode()
    return (time.process_time() - cpu0) / CLICKS


def memory_per_session(app: ph.App) -> float:
    hub = new_hub(app)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    conns = []
    for _ in range(SESSIONS):
        conn = hub.connect(0.0)
        conn.receive('{"type":"hello","versions":["1.0"]}', 0.0)
        conn.receive('{"type":"event","id":1,"node":"inc","name":"click"}', 0.1)
        conns.append(conn)
    gc.collect()
    unacked = tracemalloc.get_traced_memory()[0] - before
    for conn in conns:
        conn.receive('{"type":"ack","seq":3}', 0.2)
    gc.collect()
    acked = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    print(
        f"memory per counter session (hub + connection, {SESSIONS:,} sessions): "
        f"{unacked / SESSIONS / 1e6:.4f} MB with 2 unacknowledged messages buffered, "
        f"{acked / SESSIONS / 1e6:.4f} MB after the client acks"
    )
    return unacked / SESSIONS


def run() -> list[Row]:
    app = ph.load_app(COUNTER)
    wire_bytes(app)
    cpu = cpu_per_click(app)
    offloaded = cpu_per_click(app, offload=True)
    floor = floor_cpu_per_click()
    print(f"floor (orjson parse + serialise of the same frames): {floor * 1e6:.2f} us CPU")
    memory = memory_per_session(app)
    return [
        vs_floor(
            "sans-IO runtime CPU per click",
            cpu * 1e6,
            floor * 1e6,
            "us",
            "orjson parse + serialise of the same frames",
        ),
        vs_floor(
            "sans-IO runtime CPU per click, offload (server's path)",
            offloaded * 1e6,
            floor * 1e6,
            "us",
            "orjson parse + serialise of the same frames",
        ),
        Row("runtime memory per session (tracemalloc)", f"{memory / 1024:.1f} KiB"),
    ]


def main() -> None:
    run()


if __name__ == "__main__":
    main()
