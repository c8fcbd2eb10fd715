"""Connection steps: ``connect`` (an upgrade probe, or a named connection of its own),
``reconnect``, ``close`` (the IUT closes) and ``c2s_close`` (the runner closes)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import inbound
from .channels import SUBPROTOCOL, probe_upgrade
from .divergence import ControlUnsupported
from .link import Link
from .matching import CaseError, match

if TYPE_CHECKING:
    from .session import Session


async def close(session: Session, step: dict[str, Any]) -> None:
    expected = step["close"].get("code", {"$any": True})
    if session.link.pending:
        raise session.diverge(
            "close",
            "expected the connection to close",
            expected={"close": expected},
            actual=session.link.pending[0],
        )
    while True:
        incoming = await inbound.next_incoming(session, "close", {"close": expected})
        if incoming.kind == "close":
            mismatch = match(expected, incoming.code, session.bindings)
            if mismatch is not None:
                raise session.diverge(
                    "close",
                    f"close code {incoming.code}: {mismatch.reason}",
                    pointer="/code",
                    expected=expected,
                    actual=incoming.code,
                )
            return
        message = inbound.decode(session, incoming, "close")
        if not inbound.ignorable(session, message, {}):
            raise session.diverge(
                "close",
                "expected the connection to close",
                expected={"close": expected},
                actual=message,
            )


async def c2s_close(session: Session, step: dict[str, Any]) -> None:
    """The runner, as client, closes the connection with a code (4000: presumed dead,
    PHL-TRANSPORT-009; 1000: leaving). Later steps may resume the session elsewhere."""
    spec = step["c2s_close"]
    code = int(spec.get("code", 1000))
    session.transcript.add("close", {"code": code, "by": "client"})
    await session.channel.close_with(code, str(spec.get("reason", "")))


async def reconnect(session: Session, step: dict[str, Any]) -> None:
    session.transcript.add("reconnect", {})
    try:
        await session.channel.reconnect(session.timeout)
    except (OSError, TimeoutError) as exc:
        raise session.diverge(
            "reconnect", f"no new connection: {exc}", expected="a new connection", actual=None
        ) from None
    subprotocol = getattr(session.channel, "subprotocol", SUBPROTOCOL)
    if subprotocol != SUBPROTOCOL:
        raise session.diverge(
            "reconnect",
            f"the new connection did not negotiate {SUBPROTOCOL}",
            expected=SUBPROTOCOL,
            actual=subprotocol,
        )
    if session.plays_server:
        session.welcomed = False  # the renderer's hello comes first on the new connection


async def connect(session: Session, step: dict[str, Any]) -> None:
    if "as" in step["connect"]:
        await _open_named(session, step["connect"])
        return
    if session.endpoint is None:
        raise CaseError("connect step without a server endpoint")
    spec = step["connect"]
    url, own_origin = session.endpoint
    origin = spec.get("origin", own_origin)
    offered = list(spec.get("subprotocols", [SUBPROTOCOL]))
    answer = await probe_upgrade(url, origin, offered, session.timeout, spec.get("host"))
    session.transcript.add(
        "connect",
        {
            "origin": origin,
            **({"host": spec["host"]} if "host" in spec else {}),
            "subprotocols": offered,
            "status": answer.status,
            "subprotocol": answer.headers.get("sec-websocket-protocol"),
        },
    )
    mismatch = match(spec["status"], answer.status, session.bindings)
    if mismatch is not None:
        raise session.diverge(
            "connect",
            f"upgrade answered HTTP {answer.status}: {mismatch.reason}",
            pointer="/status",
            expected=spec["status"],
            actual=answer.status,
        )


async def _open_named(session: Session, spec: dict[str, Any]) -> None:
    """``connect: {as: NAME, origin?, subprotocols?}``: a second (third...) connection to the
    IUT, a session of its own until its hello resumes another one (takeover, isolation)."""
    name = spec["as"]
    if name in session.links:
        raise CaseError(f"step {session.step}: connection {name!r} is already open")
    if session.open_connection is None:
        raise ControlUnsupported("adapter cannot open another connection (connect as)")
    session.transcript.on = name
    session.transcript.add("connect", {k: v for k, v in spec.items() if k != "status"})
    try:
        channel = await session.open_connection(name, spec)
    except (OSError, TimeoutError) as exc:
        raise session.diverge(
            "connect",
            f"connection {name!r} could not be opened: {exc}",
            expected="a new connection",
            actual=None,
        ) from None
    session.link = session.links[name] = Link(name, channel)
    subprotocol = getattr(channel, "subprotocol", SUBPROTOCOL)
    if subprotocol != SUBPROTOCOL:
        raise session.diverge(
            "connect",
            f"connection {name!r} did not negotiate {SUBPROTOCOL}",
            expected=SUBPROTOCOL,
            actual=subprotocol,
        )
