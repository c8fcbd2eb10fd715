"""Client frames in: size check, JSON parse, dispatch on ``type``, validation.

Everything here arrives from the network and is checked before use. The hot messages (event,
ack, ping) are checked by hand, which is several times faster than a model; the tests check the
hand-checks agree with the JSON Schemas. ``hello`` arrives once per connection and is validated
with the model generated from the schema. Unknown fields are ignored everywhere, never an error
(PHL-ERR-011). A message that fails its check is ``invalid_message`` (PHL-MSG-004).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import orjson
import pydantic

from phloem.protocol import _wire
from phloem.protocol._catalog import NODE_ID_PATTERN
from phloem.protocol._wire_1_1 import ADDED_CLIENT_TYPES, JOB_ID_PATTERN
from phloem.protocol.errors import ERROR_CODES, RemoteProtocolError

Message = dict[str, Any]

# 1.0's client messages and what 1.1 adds (job.cancel).
CLIENT_TYPES = frozenset(
    {"hello", "event", "ack", "ping", "pong", "resync", "error", *ADDED_CLIENT_TYPES}
)

_NODE_ID = re.compile(NODE_ID_PATTERN)
_EVENT_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
_MAX_SAFE_INT = 2**53 - 1  # ids must survive a JavaScript client (PHL-EVT-002)


def check_size(frame: str | bytes, limit: int) -> None:
    """Reject a frame over ``limit`` UTF-8 bytes before parsing it (PHL-LIM-003)."""
    if isinstance(frame, bytes):
        size = len(frame)
    elif len(frame) * 4 <= limit:  # a code point is at most 4 bytes: no need to encode
        return
    else:
        try:
            size = len(frame.encode("utf-8"))
        except UnicodeEncodeError:
            raise RemoteProtocolError("malformed_frame", "frame is not valid UTF-8") from None
    if size > limit:
        raise RemoteProtocolError(
            "frame_too_large", f"frame is {size} bytes; the limit is {limit}", limit=limit
        )


def parse(frame: str | bytes, known: frozenset[str] = CLIENT_TYPES) -> Message:
    """Parse one client frame into a validated message dict. ``known``: the client types the
    session's negotiated version and features define (a 1.0 session knows no ``job.cancel``)."""
    if isinstance(frame, bytes):
        # Binary frames are reserved for later versions (PHL-TRANSPORT-005).
        raise RemoteProtocolError("malformed_frame", "binary frames are not used in 1.0")
    try:
        msg = orjson.loads(frame)
    except orjson.JSONDecodeError:
        raise RemoteProtocolError(
            "malformed_frame", "frame is not valid JSON"
        ) from None  # PHL-MSG-003
    if not isinstance(msg, dict):
        raise RemoteProtocolError("malformed_frame", "frame does not hold a JSON object")
    kind = msg.get("type")
    if not isinstance(kind, str):
        raise RemoteProtocolError("invalid_message", "message has no string `type`")
    check = _CHECKS.get(kind) if kind in known else None
    if check is None:
        # A type this version does not define for clients is dropped (PHL-ERR-009). Server-only
        # types (welcome, ui.patch, ...) count as unknown: a client may not send them (PHL-MSG-001).
        raise RemoteProtocolError("unknown_message_type", f"unknown message type {kind[:64]!r}")
    try:
        check(msg)
    except RemoteProtocolError as exc:
        exc.message_type = kind
        raise
    return msg


def _invalid(field: str, rule: str) -> RemoteProtocolError:
    return RemoteProtocolError("invalid_message", f"`{field}` {rule}")


def _uint(msg: Message, field: str, required: bool = False, maximum: int | None = None) -> None:
    value = msg.get(field)
    if type(value) is int and value >= 0 and (maximum is None or value <= maximum):
        return  # the usual case, on every event: a plain non-negative int
    if value is None and field not in msg:
        if required:
            raise _invalid(field, "is required")
        return
    if type(value) is float and value.is_integer():
        # JSON Schema counts 1.0 as an integer; hand the runtime a real int.
        value = msg[field] = int(value)
    # bool is an int in Python but not in JSON.
    if type(value) is not int or value < 0 or (maximum is not None and value > maximum):
        raise _invalid(field, "must be a non-negative integer")


def _check_event(msg: Message) -> None:
    _uint(msg, "id", required=True, maximum=_MAX_SAFE_INT)
    node = msg.get("node")
    if type(node) is not str or not _NODE_ID.fullmatch(node):
        raise _invalid("node", "must be a node id")
    name = msg.get("name")
    if type(name) is not str or not _EVENT_NAME.fullmatch(name):
        raise _invalid("name", "must be an event name")
    _uint(msg, "rev")
    _uint(msg, "ack")


def _check_ack(msg: Message) -> None:
    # One schema serves both directions: at least one of seq (client → server, the one we
    # use) and event (server → client; from a client it is valid and means nothing).
    if "seq" not in msg and "event" not in msg:
        raise _invalid("seq", "is required")
    _uint(msg, "seq")
    _uint(msg, "event")


def _check_ping(msg: Message) -> None:
    ping_id = msg.get("id", "")
    if type(ping_id) is float and ping_id.is_integer():
        ping_id = msg["id"] = int(ping_id)  # 1.0 is an integer to JSON Schema
    if type(ping_id) not in (str, int):
        raise _invalid("id", "must be a string or an integer")


def _check_resync(msg: Message) -> None:
    _uint(msg, "rev")


_JOB_ID = re.compile(JOB_ID_PATTERN)


def _check_job_cancel(msg: Message) -> None:
    _uint(msg, "id", required=True, maximum=_MAX_SAFE_INT)
    job = msg.get("job")
    if type(job) is not str or not _JOB_ID.fullmatch(job):
        raise _invalid("job", "must be a job id")
    _uint(msg, "ack")


_VERSION = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")


def _check_error(msg: Message) -> None:
    code = msg.get("code")
    if type(code) is not str or code not in ERROR_CODES:
        raise _invalid("code", "must be an error code")
    message = msg.get("message")
    if type(message) is not str or len(message) > 1024:
        raise _invalid("message", "must be a string of at most 1024 characters")
    _uint(msg, "event")
    if "seq" in msg:
        _uint(msg, "seq")
        if msg["seq"] < 1:
            raise _invalid("seq", "must be at least 1")
    if "fatal" in msg and type(msg["fatal"]) is not bool:
        raise _invalid("fatal", "must be a boolean")
    limit = msg.get("limit", 0)
    if type(limit) is not int and not (type(limit) is float and limit.is_integer()):
        raise _invalid("limit", "must be an integer")
    supported = msg.get("supported", [])
    if type(supported) is not list or not all(
        type(v) is str and _VERSION.fullmatch(v) for v in supported
    ):
        raise _invalid("supported", "must be a list of versions")


def _check_hello(msg: Message) -> None:
    try:
        # strict: JSON has no "1" → 1 coercion; the schema is the contract.
        _wire.Hello.model_validate(msg, strict=True)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "hello"
        raise RemoteProtocolError("invalid_message", f"`{where}`: {first['msg']}"[:1024]) from None


_CHECKS: dict[str, Callable[[Message], None]] = {
    "hello": _check_hello,
    "event": _check_event,
    "ack": _check_ack,
    "ping": _check_ping,
    "pong": _check_ping,
    "resync": _check_resync,
    "error": _check_error,
    "job.cancel": _check_job_cancel,  # since 1.1 (PHL-JOB-060)
}
assert set(_CHECKS) == CLIENT_TYPES
#: Client types of a session without the jobs feature (1.0, or 1.1 without ``jobs``).
CLIENT_TYPES_WITHOUT_JOBS = CLIENT_TYPES - set(ADDED_CLIENT_TYPES)
