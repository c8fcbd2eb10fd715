"""Connection steps: ``connect`` (an upgrade probe, or a named connection of its own),
``reconnect``, ``close`` (the IUT closes) and ``c2s_close`` (the runner closes)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import inbound, registry
from .channels import SUBPROTOCOL, probe_upgrade
from .divergence import ControlUnsupported
from .link import Link
from .matching import CaseError, match
from .registry import Doc

if TYPE_CHECKING:
    from .session import Session


def _connect_roles(body: Any) -> tuple[str, ...]:
    """``connect: {as: NAME}`` (a named connection) is for server and sdk; ``connect: {status}``
    (an upgrade probe) for server."""
    return ("server", "sdk") if isinstance(body, dict) and "as" in body else ("server",)


@registry.step(
    "close",
    body={"type": "object", "properties": {"code": {}}, "additionalProperties": False},
    roles=("server", "sdk"),
    description="The implementation closes the connection; code is a pattern.",
    docs=[Doc("`close: {code: PATTERN}`", "the server closes the connection", "—")],
)
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


@registry.step(
    "c2s_close",
    body={
        "type": "object",
        "properties": {
            "code": {"type": "integer", "minimum": 1000, "maximum": 4999},
            "reason": {"type": "string", "maxLength": 123},
        },
        "additionalProperties": False,
    },
    roles=("server", "sdk"),
    description="Server/SDK role: the runner, as client, closes the connection with code (default 1000; 4000: presumed dead, PHL-TRANSPORT-009).",
    docs=[
        Doc(
            "`c2s_close: {code?, reason?}`",
            "server, sdk: the runner closes the connection with `code` (default 1000; `4000`: presumed dead, PHL-TRANSPORT-009)",
            "—",
        )
    ],
)
async def c2s_close(session: Session, step: dict[str, Any]) -> None:
    """The runner, as client, closes the connection with a code (4000: presumed dead,
    PHL-TRANSPORT-009; 1000: leaving). Later steps may resume the session elsewhere."""
    spec = step["c2s_close"]
    code = int(spec.get("code", 1000))
    session.transcript.add("close", {"code": code, "by": "client"})
    await session.channel.close_with(code, str(spec.get("reason", "")))


@registry.step(
    "reconnect",
    body={"type": "object", "maxProperties": 0},
    description="The transport drops (no close frame) and the session goes on over a new connection. sdk: the adapter's disconnect; server: the runner drops its WebSocket and opens a new one; renderer: the runner drops the renderer's WebSocket and waits for the renderer's new connection.",
    docs=[
        Doc(
            "`reconnect: {}`",
            "the transport drops and the session goes on over a new connection: sdk, the adapter's `disconnect`; server, the runner aborts its WebSocket (no close frame, the server sees 1006) and opens a new one",
            "the runner aborts the renderer's WebSocket (the renderer sees 1006) and waits for its new connection",
        )
    ],
)
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


@registry.step(
    "connect",
    body={
        "type": "object",
        "oneOf": [
            {"required": ["status"], "not": {"required": ["as"]}},
            {"required": ["as"], "not": {"required": ["status"]}},
        ],
        "properties": {
            "as": {"$ref": "#/$defs/connection", "not": {"const": "main"}},
            "origin": {"type": ["string", "null"]},
            "host": {
                "type": "string",
                "minLength": 1,
                "description": "The probe's Host header (default: the server's own host and port), e.g. a name the server does not serve, as a DNS-rebinding page would send.",
            },
            "subprotocols": {"type": "array", "items": {"type": "string"}},
            "status": {},
            "user": {
                "type": "string",
                "pattern": "^[a-z][a-z0-9_-]{0,31}$",
                "description": "With as: the connection is of an authenticated user, an opaque key the adapter maps to one user of its own (same key, same user, within a case).",
            },
        },
        "additionalProperties": False,
    },
    roles=_connect_roles,
    description="Server role: a WebSocket upgrade request that probes the server's handshake, outside the session (origin, subprotocols, status). Or, with `as`: a further connection of the case named NAME (server and sdk), on which later steps say `on: NAME`; origin as for the probe.",
    docs=[
        Doc(
            "`connect: {origin?, host?, subprotocols?, status: PATTERN}`",
            "server only: one raw WebSocket upgrade request to the server's `url`, outside the session; `origin` defaults to the adapter's (`null`: no header), `subprotocols` to `[phloem.v1]` (`[]`: no header); `status` matches the HTTP status of the answer",
            "—",
        ),
        Doc(
            "`connect: {as: NAME, origin?, user?}`",
            "server, sdk: a further connection of the case, named NAME, of an authenticated user when `user` (sdk: the adapter's `connect`; server: a new WebSocket, with the headers of the adapter's `login`). Steps say `\"on\": NAME` (quoted: bare `on` is YAML's `true`); the first connection is `main`. A `welcome` with `resumed: true` on NAME goes on from the history of the connection the token came from",
            "—",
        ),
    ],
)
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
