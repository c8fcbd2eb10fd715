"""The message steps ``c2s``, ``c2s_raw``, ``s2c`` and ``s2c_raw``.

Direction in a case is absolute: the direction the runner plays is a stimulus it sends (checked
against the schema first, a suite bug if it fails), the other an expectation (expectations.py).
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from . import expectations, registry
from .matching import CaseError, concretize
from .registry import Doc

if TYPE_CHECKING:
    from .session import Session


@registry.step(
    "c2s",
    body={"$ref": "#/$defs/pattern"},
    docs=[
        Doc(
            "`c2s: MSG`",
            "stimulus: sent after substitution, must validate",
            "expectation: the next client message",
        )
    ],
)
async def c2s(session: Session, step: dict[str, Any]) -> None:
    if session.plays_server:
        await expectations.expect(session, step["c2s"], "c2s")
        return
    message = concretize(step["c2s"], session.bindings)
    if message.get("type") == "hello" and "path" not in message and session.hello_path:
        message["path"] = session.hello_path
    errors = session.schemas.client_errors(message)
    if errors:
        raise CaseError(f"step {session.step}: stimulus is not a valid client message: {errors[0]}")
    if message.get("type") == "hello":
        session.last_hello = message
    await session.send(message)


@registry.step(
    "c2s_raw",
    body={"type": ["string", "object"]},
    roles=("server", "sdk"),
    description="A raw frame stimulus (never validated): a string sent verbatim, an object serialised as JSON, {$binary: base64}, or {$pad_to_bytes: {message, bytes, plus?}}.",
    docs=[
        Doc(
            "`c2s_raw: X`",
            "stimulus, never validated: a string sent verbatim, an object sent as JSON, `{$binary: BASE64}`, `{$pad_to_bytes: {message, bytes, plus}}` (the message padded to `bytes + plus` UTF-8 bytes)",
            "—",
        )
    ],
)
async def c2s_raw(session: Session, step: dict[str, Any]) -> None:
    raw = step["c2s_raw"]
    if isinstance(raw, str):
        await session.send_text(raw)
    elif "$binary" in raw:
        data = base64.b64decode(raw["$binary"])
        session.transcript.add("c2s", {"$binary": raw["$binary"]})
        await session.channel.send_binary(data)
    elif "$pad_to_bytes" in raw:
        await session.send_text(_padded(concretize(raw["$pad_to_bytes"], session.bindings)))
    else:
        await session.send_text(json.dumps(concretize(raw, session.bindings)))


@registry.step(
    "s2c",
    body={"$ref": "#/$defs/pattern"},
    extra={
        "stimulus": {
            "$ref": "#/$defs/pattern",
            "description": "What the runner sends when it plays the server; default: s2c made concrete.",
        }
    },
    docs=[
        Doc(
            "`s2c: MSG` (+ `stimulus:`)",
            "expectation: the next server message",
            "stimulus: `stimulus` if given, else `s2c` made concrete; `seq` is filled in",
        )
    ],
)
async def s2c(session: Session, step: dict[str, Any]) -> None:
    if not session.plays_server:
        pattern = step["s2c"]
        if "$effect" in pattern:
            await expectations.expect_effect(session, pattern)
        elif "$reduced" in pattern:
            await expectations.expect_reduced(session, pattern)
        else:
            await expectations.expect(session, pattern, "s2c")
        return
    message = concretize(step.get("stimulus", step["s2c"]), session.bindings)
    if "$effect" in message:
        raise CaseError(f"step {session.step}: an $effect step needs a `stimulus` for renderers")
    _number(session, message)
    errors = session.schemas.server_errors(message)
    if errors:
        raise CaseError(f"step {session.step}: stimulus is not a valid server message: {errors[0]}")
    await session.send(message)


@registry.step(
    "s2c_raw",
    body={"type": ["string", "object"]},
    roles=("renderer",),
    description="Renderer role: a raw server frame stimulus (never validated): a string sent verbatim, an object serialised as JSON after its seq is filled in, or {$pad_to_bytes: {message, bytes, plus?}} (the message, seq filled in, padded to bytes + plus UTF-8 bytes).",
    docs=[
        Doc(
            "`s2c_raw: X`",
            "—",
            "stimulus, never validated (an unknown type or error code, a huge frame): a string sent verbatim, an object sent as JSON with `seq` filled in, `{$pad_to_bytes: {message, bytes, plus}}` (the message, `seq` filled in, padded to `bytes + plus` UTF-8 bytes)",
        )
    ],
)
async def s2c_raw(session: Session, step: dict[str, Any]) -> None:
    """Renderer role: a server frame the schema need not accept (an unknown type or error
    code, a padded frame). A string goes verbatim; an object gets its ``seq`` like ``s2c``."""
    raw = step["s2c_raw"]
    if isinstance(raw, str):
        await session.send_text(raw)
    elif "$pad_to_bytes" in raw:
        spec = concretize(raw["$pad_to_bytes"], session.bindings)
        spec["message"] = _number(session, dict(spec["message"]))
        await session.send_text(_padded(spec))
    else:
        message = _number(session, concretize(raw, session.bindings))
        await session.send_text(json.dumps(message, ensure_ascii=False))


def _number(session: Session, message: dict[str, Any]) -> dict[str, Any]:
    """As server: fill in ``seq`` (sequenced messages) and keep count."""
    kind = message.get("type")
    if kind != "pong" and not (kind == "error" and not session.welcomed) and "seq" not in message:
        message["seq"] = session.next_seq
    if isinstance(message.get("seq"), int):
        session.next_seq = message["seq"] + 1
    session.welcomed = session.welcomed or kind == "welcome"
    if kind == "welcome":
        announced = (message.get("limits") or {}).get("max_frame_bytes")
        session.link.max_frame_bytes = announced if isinstance(announced, int) else None
    return message


def _padded(spec: dict[str, Any]) -> str:
    """``{message, bytes, plus?}``: the message padded with a ``pad`` field to bytes + plus UTF-8 bytes."""
    target = int(spec["bytes"]) + int(spec.get("plus", 0))
    message = dict(spec["message"])
    message["pad"] = ""
    base = len(json.dumps(message, separators=(",", ":")).encode())
    if target < base:
        raise CaseError(f"$pad_to_bytes: {target} bytes is smaller than the message itself")
    message["pad"] = "x" * (target - base)
    return json.dumps(message, separators=(",", ":"))
