"""The connection state machine over every state × input, in the table and through a live
connection."""

from __future__ import annotations

import itertools
from typing import Any

import orjson
import pytest
from phloem.protocol.errors import LocalProtocolError
from phloem.protocol.state import INPUTS, MESSAGE_INPUTS, TRANSITIONS, State, transition
from sdk_support import Wire

CASES = list(itertools.product(State, INPUTS))


@pytest.mark.parametrize(("state", "event"), CASES, ids=[f"{s.value}-{e}" for s, e in CASES])
def test_every_open_state_handles_every_input_and_a_closed_one_none(
    state: State, event: str
) -> None:
    if state is State.CLOSED:
        with pytest.raises(LocalProtocolError):
            transition(state, event)
    else:
        action, next_state = transition(state, event)
        assert isinstance(action, str) and next_state in State


def test_the_table_names_only_known_inputs() -> None:
    assert {event for _, event in TRANSITIONS} == set(INPUTS)


def test_only_an_accepted_hello_opens_and_only_an_ending_closes() -> None:
    opening = {
        k for k, (_, nxt) in TRANSITIONS.items() if k[0] is State.AWAIT_HELLO and nxt is State.OPEN
    }
    assert opening == {(State.AWAIT_HELLO, "hello")}
    closing = {e for (s, e), (_, nxt) in TRANSITIONS.items() if nxt is State.CLOSED}
    assert closing == {
        "hello.unsupported",
        "hello.unauthorized",
        "disconnect",
        "superseded",
        "failure",
    }


SAMPLES: dict[str, dict[str, Any]] = {
    "hello": {"type": "hello", "versions": ["1.0"]},
    "event": {"type": "event", "id": 1, "node": "inc", "name": "click"},
    "ack": {"type": "ack", "seq": 1},
    "ping": {"type": "ping", "id": 7},
    "pong": {"type": "pong"},
    "resync": {"type": "resync"},
    "error": {"type": "error", "code": "internal_error", "message": "client broke"},
    "job.cancel": {"type": "job.cancel", "id": 1, "job": "j1"},
}
# What the server answers each message with, per state: list of (type, code-or-None).
EXPECTED = {
    State.AWAIT_HELLO: {
        "hello": [("welcome", None), ("ui.snapshot", None)],
        "event": [("error", "handshake_required")],
        "ack": [("error", "handshake_required")],
        "ping": [("error", "handshake_required")],
        "pong": [("error", "handshake_required")],
        "resync": [("error", "handshake_required")],
        "error": [],
        "job.cancel": [("error", "handshake_required")],
    },
    State.OPEN: {
        "hello": [("error", "unexpected_message")],
        "event": [("ui.patch", None)],
        "ack": [],
        "ping": [("pong", None)],
        "pong": [],
        "resync": [("ui.snapshot", None)],
        "error": [],
        # A 1.0 session has no jobs feature: the type is not one it knows (PHL-JOB-002).
        "job.cancel": [("error", "unknown_message_type")],
    },
}
LIVE = [(s, k) for s in (State.AWAIT_HELLO, State.OPEN) for k in MESSAGE_INPUTS]


@pytest.mark.parametrize(("state", "kind"), LIVE, ids=[f"{s.value}-{k}" for s, k in LIVE])
def test_each_message_in_each_state_gets_its_answer(state: State, kind: str) -> None:
    w = Wire()
    if state is State.OPEN:
        w.hello()
    answers = w.send(SAMPLES[kind])
    assert [(m["type"], m.get("code")) for m in answers] == EXPECTED[state][kind]
    expected_state = State.OPEN if kind == "hello" else state
    assert w.conn.state is expected_state


@pytest.mark.parametrize("kind", MESSAGE_INPUTS)
def test_a_closed_connection_refuses_every_message(kind: str) -> None:
    w = Wire()
    w.hello()
    w.conn.disconnect(w.now)
    with pytest.raises(LocalProtocolError):
        w.conn.receive(orjson.dumps(SAMPLES[kind]).decode(), w.now)
