"""Server messages out: plain dicts serialised with orjson.

What we build ourselves is trusted, not validated at run time; the tests validate every kind
of message built here against the JSON Schemas. ``seq`` is passed in: numbering is the
session's business (PHL-DELIV-001).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson

from phloem.protocol.errors import ErrorCode
from phloem.protocol.tree import Node, Op

Message = dict[str, Any]


def dumps(msg: Mapping[str, Any]) -> str:
    return orjson.dumps(msg).decode()


def welcome(
    seq: int,
    version: str,
    session: str,
    token: str,
    limits: Mapping[str, Any],
    resumed: bool = False,
    features: Sequence[str] = (),
    components: Mapping[str, int] | None = None,
) -> Message:
    msg: Message = {
        "type": "welcome",
        "seq": seq,
        "version": version,
        "session": session,
        "token": token,
        "limits": limits,
    }
    if resumed:
        msg["resumed"] = True
    if features:
        msg["features"] = list(features)
    if components is not None:  # PHL-HS-016: absent when the hello declared none
        msg["components"] = dict(components)
    return msg


def snapshot(seq: int, rev: int, root: Node) -> Message:
    return {"type": "ui.snapshot", "seq": seq, "rev": rev, "root": root.to_wire()}


def patch(seq: int, base: int, rev: int, ops: Sequence[Op], event: int | None = None) -> Message:
    msg: Message = {"type": "ui.patch", "seq": seq, "base": base, "rev": rev}
    if event is not None:
        msg["event"] = event
    msg["ops"] = ops
    return msg


def ack(seq: int, event: int) -> Message:
    return {"type": "ack", "seq": seq, "event": event}


def error(
    code: ErrorCode,
    message: str,
    seq: int | None = None,
    *,
    fatal: bool = False,
    event: int | None = None,
    supported: Iterable[str] | None = None,
    limit: int | None = None,
) -> Message:
    msg: Message = {"type": "error"}
    if seq is not None:  # no seq before the handshake (PHL-ERR-001)
        msg["seq"] = seq
    msg["code"] = code
    msg["message"] = message[:1024]  # PHL-ERR-004: bounded, never a stack trace
    if fatal:
        msg["fatal"] = True
    if event is not None:
        msg["event"] = event
    if supported is not None:
        msg["supported"] = list(supported)
    if limit is not None:
        msg["limit"] = limit
    return msg


def pong(ping_id: str | int | None = None) -> Message:
    return {"type": "pong"} if ping_id is None else {"type": "pong", "id": ping_id}
