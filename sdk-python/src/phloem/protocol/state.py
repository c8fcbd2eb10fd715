"""The connection state machine, as one table.

Everything that moves a connection between states lives in :data:`TRANSITIONS` (as in h11's
``_state.py``): the runtime looks up ``(state, input)``, runs the named action and enters the
next state; it never decides a transition on its own. Inputs are the client message types plus
a few outcomes the runtime detects: ``hello.unsupported`` (no common version),
``hello.unauthorized`` (a page that requires a user, and none is signed in), ``bad_frame``
(a frame rejected with a coded error before dispatch), ``disconnect`` (transport gone),
``superseded`` (the session resumed on another connection) and ``failure`` (internal error).
"""

from __future__ import annotations

from enum import Enum

from phloem.protocol.errors import LocalProtocolError


class State(Enum):
    AWAIT_HELLO = "await_hello"
    OPEN = "open"
    CLOSED = "closed"


AWAIT_HELLO, OPEN, CLOSED = State.AWAIT_HELLO, State.OPEN, State.CLOSED

MESSAGE_INPUTS = ("hello", "event", "ack", "ping", "pong", "resync", "error", "job.cancel")
INPUTS = (
    *MESSAGE_INPUTS,
    "hello.unsupported",
    "hello.unauthorized",
    "bad_frame",
    "disconnect",
    "superseded",
    "failure",
)

# PHL-HS-009; but an error is never answered with an error (PHL-ERR-007).
_BEFORE_HELLO = {kind: ("require_handshake", AWAIT_HELLO) for kind in MESSAGE_INPUTS}
_BEFORE_HELLO["error"] = ("peer_error", AWAIT_HELLO)
_ALWAYS = {
    "disconnect": ("detach", CLOSED),
    "superseded": ("nothing", CLOSED),
    "failure": ("fail", CLOSED),
}

# (state, input) -> (action, next state). A pair missing from the table is a local misuse.
TRANSITIONS: dict[tuple[State, str], tuple[str, State]] = {
    **{(AWAIT_HELLO, kind): step for kind, step in _BEFORE_HELLO.items()},
    (AWAIT_HELLO, "hello"): ("welcome", OPEN),  # PHL-HS-003, PHL-HS-008
    (AWAIT_HELLO, "hello.unsupported"): ("refuse_version", CLOSED),  # PHL-HS-004
    (AWAIT_HELLO, "hello.unauthorized"): ("refuse_user", CLOSED),  # PHL-SEC-007
    (AWAIT_HELLO, "bad_frame"): ("reject", AWAIT_HELLO),
    **{(AWAIT_HELLO, kind): step for kind, step in _ALWAYS.items()},
    (OPEN, "hello"): ("unexpected", OPEN),  # PHL-HS-010: a second hello is dropped, not fatal
    (OPEN, "hello.unsupported"): ("unexpected", OPEN),
    (OPEN, "hello.unauthorized"): ("unexpected", OPEN),
    (OPEN, "event"): ("event", OPEN),
    (OPEN, "ack"): ("ack", OPEN),
    (OPEN, "ping"): ("pong", OPEN),  # PHL-PING-002
    (OPEN, "pong"): ("nothing", OPEN),
    (OPEN, "resync"): ("resync", OPEN),  # PHL-PATCH-011
    (OPEN, "job.cancel"): ("job_cancel", OPEN),  # PHL-JOB-060
    (OPEN, "error"): ("peer_error", OPEN),  # logged, never answered (PHL-ERR-007)
    (OPEN, "bad_frame"): ("reject", OPEN),
    **{(OPEN, kind): step for kind, step in _ALWAYS.items()},
}


def transition(state: State, event: str) -> tuple[str, State]:
    """The action to run and the next state, or :class:`LocalProtocolError` if the caller
    feeds a closed connection (or an input that is not one of :data:`INPUTS`)."""
    step = TRANSITIONS.get((state, event))
    if step is None:
        raise LocalProtocolError(
            "unexpected_message", f"{event!r} is not allowed on a {state.value} connection"
        )
    return step
