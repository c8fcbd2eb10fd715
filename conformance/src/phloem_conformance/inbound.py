"""What the runner receives: each frame decoded, checked against the schema and the invariants
of its direction, and folded into the connection's view (seq, reference tree, history)."""

from __future__ import annotations

import base64
import copy
import json
from typing import TYPE_CHECKING, Any

from .channels import Incoming
from .divergence import Silence
from .matching import match, pointer_get
from .tree import PatchError, Tree

if TYPE_CHECKING:
    from .session import Session


async def next_incoming(session: Session, kind: str, expected: Any) -> Incoming:
    incoming = await session.channel.next(session.timeout)
    if incoming is None:
        why = (
            f"nothing received within {session.timeout:g} s"
            if session.channel.live
            else "no message pending"
        )
        raise Silence(session.diverge(kind, why, expected=expected, actual=None).divergence)
    if incoming.kind == "close":
        session.transcript.add("close", {"code": incoming.code})
    return incoming


def decode(session: Session, incoming: Incoming, kind: str) -> dict[str, Any]:
    peer = "client" if session.plays_server else "server"
    arrow = "c2s" if session.plays_server else "s2c"
    if incoming.kind == "binary":
        session.transcript.add(arrow, {"$binary": base64.b64encode(incoming.data).decode()})
        raise session.diverge(
            kind, f"{peer} sent a binary frame (reserved in 1.0)", actual="binary frame"
        )
    limit = session.link.max_frame_bytes
    if session.plays_server and limit is not None and len(incoming.text.encode()) > limit:
        session.transcript.add(arrow, incoming.text)
        size = len(incoming.text.encode())
        raise session.diverge(
            kind,
            f"client sent a frame of {size} bytes, over the max_frame_bytes {limit} "
            "the runner announced (PHL-LIM-001)",
            expected={"$num": [0, limit]},
            actual=size,
        )
    try:
        message: dict[str, Any] = json.loads(incoming.text)
    except ValueError:
        session.transcript.add(arrow, incoming.text)
        raise session.diverge(
            kind, f"{peer} sent a frame that is not JSON", actual=incoming.text
        ) from None
    session.transcript.add(arrow, message)
    errors = (
        session.schemas.client_errors if session.plays_server else session.schemas.server_errors
    )(message)
    if errors:
        pointer, _, why = errors[0].partition(": ")
        raise session.diverge(
            kind,
            f"{peer} message fails the schema: {why}",
            pointer=pointer,
            actual=pointer_get(message, pointer),
            received=message,
        )
    if session.plays_server:
        _check_client_acks(session, message, kind)
    else:
        _check_server_invariants(session, message, kind)
    return message


def ignorable(session: Session, message: dict[str, Any], pattern: dict[str, Any]) -> bool:
    """Unsolicited pings (answered) and a renderer's batched acks, unless the step wants them."""
    kind = message.get("type")
    if (
        session.plays_server
        and kind == "ack"
        and "event" not in message
        and pattern.get("type") == "ack"
    ):
        # Acks are cumulative and batched: a step expecting one skips the earlier, lower ones.
        return match(pattern, message, session.bindings.copy()) is not None
    if kind == pattern.get("type"):
        return False
    if kind == "ping":
        return True
    return session.plays_server and kind == "ack" and "event" not in message


def _check_client_acks(session: Session, message: dict[str, Any], kind: str) -> None:
    """PHL-DELIV-002: a client never acknowledges a seq it has not received."""
    acked = message.get("seq") if message.get("type") == "ack" else None
    pointer = "/seq"
    if message.get("type") == "event" and "ack" in message:
        acked, pointer = message["ack"], "/ack"
    last = session.next_seq - 1
    if isinstance(acked, int) and acked > last:
        raise session.diverge(
            kind,
            f"acknowledges seq {acked}, but the last seq sent is {last} (PHL-DELIV-002)",
            pointer=pointer,
            expected={"$num": [0, last]},
            actual=acked,
            received=message,
        )


def _check_server_invariants(session: Session, message: dict[str, Any], kind: str) -> None:
    if message.get("type") == "welcome":
        _start_session_view(session, message)
        session.link.token = message.get("token", session.link.token)
    if "seq" in message:
        if message["seq"] != session.next_seq:  # PHL-DELIV-001: seq increases by exactly 1
            raise session.diverge(
                kind,
                f"seq {message['seq']}, expected {session.next_seq}",
                pointer="/seq",
                expected=session.next_seq,
                actual=message["seq"],
                received=message,
            )
        session.next_seq += 1
    # Never mutated in place: apply and snapshot make new roots.
    session.link.before = session.tree.root
    try:
        if message["type"] == "ui.snapshot":
            session.tree.snapshot(message["root"], message["rev"])
        elif message["type"] == "ui.patch":
            session.tree.apply(message)
    except PatchError as exc:
        raise session.diverge(
            kind, f"{message['type']} does not apply: {exc}", received=message
        ) from None
    if "seq" in message:
        session.history[message["seq"]] = (copy.deepcopy(session.tree.root), session.tree.rev)


def _start_session_view(session: Session, welcome: dict[str, Any]) -> None:
    """What the runner, as client, expects after its latest hello: a resumed session goes on
    from ``resume.seq`` with the tree it had processed then (PHL-DELIV-005); any other
    welcome starts a new session at seq 1 (PHL-DELIV-007)."""
    resume = (session.last_hello or {}).get("resume")
    if (
        welcome.get("resumed") is True
        and isinstance(resume, dict)
        and isinstance(resume.get("seq"), int)
    ):
        # The session may have lived on another connection of the case (takeover, a resume
        # after a client close): its history is the view to go on from.
        owner = next(
            (
                link
                for link in session.links.values()
                if link.token is not None and link.token == resume.get("token")
            ),
            session.link,
        )
        session.history = dict(owner.history)
        session.next_seq = resume["seq"] + 1
        root, rev = session.history.get(resume["seq"], (None, None))
        session.tree.root, session.tree.rev = copy.deepcopy(root), rev
    elif session.last_hello is not None and session.history:
        session.next_seq = 1
        session.tree = Tree()
        session.history = {}
