"""The **malformed** generator (sdk and server roles, fixture ``counter``): plain data only.

A session is a few frames that are not JSON, JSON of the wrong shape, an unknown type, or a
frame over ``max_frame_bytes``; each must be answered with its error code (not fatal) and the
session must still answer a ping afterwards. :mod:`.generate` wraps the frames in a ``Script``.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

Frame = tuple[Any, str]  # (raw frame or message, the error code it must get)
REQUIREMENTS = ["PHL-ERR-001", "PHL-ERR-002"]


def generate(seed: int, index: int) -> list[Frame]:
    """The frames of one session; the same seed and index give the same."""
    rng = random.Random(f"malformed/{seed}/{index}")
    return [_malformed(rng) for _ in range(rng.randrange(1, 6))]


def steps(frames: list[Frame]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"c2s": {"type": "hello", "versions": ["1.0"]}},
        {
            "s2c": {
                "type": "welcome",
                "version": "1.0",
                "limits": {"max_frame_bytes": "$bind:max_frame"},
            }
        },
        {"s2c": {"type": "ui.snapshot"}},
    ]
    for frame, code in frames:
        out.append({"c2s_raw": frame})
        out.append({"s2c": {"type": "error", "code": code, "fatal": {"$not": True}}})
    out += [
        {"c2s": {"type": "ping", "id": "alive"}},
        {"s2c": {"type": "pong", "id": "alive"}},
    ]
    return out


def smaller(frames: list[Frame]) -> Iterator[list[Frame]]:
    """One frame fewer (at least one stays)."""
    if len(frames) > 1:
        for i in range(len(frames)):
            yield frames[:i] + frames[i + 1 :]


def _malformed(rng: random.Random) -> Frame:
    valid = rng.choice([{"type": "ping", "id": "m"}, {"type": "resync"}, {"type": "ack", "seq": 1}])
    text = json.dumps(valid)
    choice = rng.randrange(9)
    if choice == 0:
        return text[: rng.randrange(1, len(text))], "malformed_frame"  # truncated JSON
    if choice == 1:
        return rng.choice(
            ["[]", "42", '"hello"', "null", "{", "}{", "\u00e9t\u00e9", "{'type': 'ping'}"]
        ), "malformed_frame"
    if choice == 2:
        return {
            "type": rng.choice(["pong.pong", "job.cancel", "x", "PING", "hello2"])
        }, "unknown_message_type"
    if choice == 3:
        return {
            "type": "event",
            "id": rng.choice(["1", 1.5, None, [1]]),
            "node": "n",
            "name": "click",
        }, "invalid_message"
    if choice == 4:
        return {
            "type": "event",
            "id": rng.randrange(1000, 2000),
            "name": "click",
        }, "invalid_message"  # no node
    if choice == 5:
        return {"type": "ack", "seq": rng.choice(["1", None, [], {}])}, "invalid_message"
    if choice == 6:
        return {"type": "resync", "rev": rng.choice(["1", [], {}, 1.5])}, "invalid_message"
    if choice == 7:
        return {"type": "ping", "id": rng.choice([[1], {"x": 1}, True])}, "invalid_message"
    return {
        "$pad_to_bytes": {
            "message": {"type": "ping", "id": "big"},
            "bytes": "$ref:max_frame",
            "plus": rng.randrange(1, 64),
        }
    }, "frame_too_large"
