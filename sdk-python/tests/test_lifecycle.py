"""The session lifecycle (attached, detached, expired) over every state × input, in the table and
through a live hub driven by random sequences of connections, resumes, disconnects and time."""

from __future__ import annotations

import itertools

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from phloem.protocol.errors import LocalProtocolError
from phloem.runtime import Hub, Life, Limits, Opened, Resumed, Run, Superseded
from phloem.runtime.lifecycle import INPUTS, LIFECYCLE, life_transition
from sdk_support import counter_app

CASES = list(itertools.product(Life, INPUTS))


@pytest.mark.parametrize(("state", "event"), CASES, ids=[f"{s.value}-{e}" for s, e in CASES])
def test_every_state_handles_every_input_except_attaching_an_expired_session(
    state: Life, event: str
) -> None:
    if (state, event) == (Life.EXPIRED, "attach"):
        with pytest.raises(LocalProtocolError):
            life_transition(state, event)
        return
    action, next_state = life_transition(state, event)
    assert action in {"supersede", "attach", "detach", "forget", "nothing"}
    assert next_state in Life


def test_expired_is_final_and_only_forgetting_reaches_it() -> None:
    assert all(nxt is Life.EXPIRED for (s, _), (_, nxt) in LIFECYCLE.items() if s is Life.EXPIRED)
    assert {a for (_, _), (a, nxt) in LIFECYCLE.items() if nxt is Life.EXPIRED} >= {"forget"}
    forgetting = {(s, e) for (s, e), (a, _) in LIFECYCLE.items() if a == "forget"}
    assert forgetting == {
        (Life.ATTACHED, "fail"),
        (Life.DETACHED, "expire"),
        (Life.DETACHED, "fail"),
    }


def test_an_unknown_input_is_a_local_error() -> None:
    with pytest.raises(LocalProtocolError):
        life_transition(Life.ATTACHED, "hibernate")


HELLO = '{"type":"hello","versions":["1.0"]}'
TTL = Limits().resume_seconds


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["open", "resume", "disconnect", "advance", "expire", "click"]),
            st.integers(0, 3),
        ),
        max_size=40,
    )
)
def test_a_hub_keeps_every_session_where_its_lifecycle_says(steps: list[tuple[str, int]]) -> None:
    tokens = itertools.count(1)
    hub = Hub(counter_app(), new_token=lambda: f"token-{next(tokens):012d}", offload=True)
    now = 0.0
    conns: list = []  # every connection opened, by index
    made: list = []  # every session ever opened, with its token and last seq
    for op, pick in steps:
        now += 1.0
        if op == "open":
            conn = hub.connect(now)
            out = conn.receive(HELLO, now)
            (run,) = out.effects  # app code: the page function, off the loop
            assert type(run) is Run and out.frames == []
            done = run.call()
            assert type(done.effects[0]) is Opened
            conns.append(conn)
            made.append(conn.session)
        elif op == "resume" and made:
            session = made[pick % len(made)]
            before, was, since = session.conn, session.life, session.detached_at
            conn = hub.connect(now)
            hello = {"type": "hello", "versions": ["1.0"]}
            hello["resume"] = {"token": session.token, "seq": session.seq}
            out = conn.receive(orjson.dumps(hello).decode(), now)
            done = out.effects[0].call()  # type: ignore[union-attr]
            conns.append(conn)
            if was is Life.EXPIRED or (was is Life.DETACHED and now - since >= TTL):
                assert type(done.effects[0]) is Opened  # a new session instead (PHL-DELIV-007)
                made.append(conn.session)
            else:
                kinds = [type(e) for e in done.effects]
                assert kinds == ([Superseded] if before is not None else []) + [Resumed]
                assert session.conn is conn
                assert before is None or before.closed
        elif op == "disconnect" and conns:
            conns[pick % len(conns)].disconnect(now)
        elif op == "advance":
            now += TTL / 2
        elif op == "expire":
            hub.expire(now)
        elif op == "click" and conns:
            conn = conns[pick % len(conns)]
            if not conn.closed and conn.session is not None:
                msg = {"type": "event", "id": int(now), "node": "inc", "name": "click"}
                out = conn.receive(orjson.dumps(msg).decode(), now)
                for effect in out.effects:
                    effect.call()  # type: ignore[union-attr]
        for session in made:
            # One fact, three views of it: the lifecycle state, the attached connection, and
            # whether a resume can still find the session.
            attached = session.conn is not None
            assert (session.life is Life.ATTACHED) == attached
            assert (session.life is Life.EXPIRED) == (
                hub.sessions.get(session.token) is not session
            )
            if attached:
                assert session.conn.session is session and not session.conn.closed


def test_a_resume_whose_session_expires_while_it_waits_for_its_turn_opens_a_new_one() -> None:
    tokens = itertools.count(1)
    hub = Hub(counter_app(), new_token=lambda: f"token-{next(tokens):012d}", offload=True)
    first = hub.connect(0.0)
    (run,) = first.receive(HELLO, 0.0).effects
    run.call()  # type: ignore[union-attr]
    old = first.session
    assert old is not None
    first.disconnect(1.0)
    again = hub.connect(2.0)
    hello = {"type": "hello", "versions": ["1.0"], "resume": {"token": old.token, "seq": 2}}
    (take_over,) = again.receive(orjson.dumps(hello).decode(), 2.0).effects
    assert hub.expire(1.0 + TTL) == 1  # the reaper runs before the lane gets to the resume
    out = take_over.call()  # type: ignore[union-attr]
    assert [type(e) for e in out.effects] == [Opened]
    welcome = orjson.loads(out.frames[0])
    assert "resumed" not in welcome and welcome["session"] != old.id  # PHL-DELIV-007
    assert old.life is Life.EXPIRED and again.session is not old
