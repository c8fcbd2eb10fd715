"""Random sessions: whatever a client sends, in whatever order, the server's answers keep the
delivery invariants."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st
from phloem.protocol.tree import Node, apply
from sdk_support import Wire

actions = st.lists(
    st.one_of(
        st.tuples(st.just("click"), st.integers(0, 12), st.sampled_from(["inc", "count", "gone"])),
        st.tuples(st.just("ack"), st.integers(0, 30)),
        st.tuples(
            st.just("raw"),
            st.sampled_from(
                ['{"type":"ping","id":1}', '{"type":"resync"}', "{", '{"type":"x"}', b"\x00"]
            ),
        ),
        st.tuples(st.just("hello")),
        st.tuples(st.just("reconnect"), st.booleans()),
    ),
    max_size=25,
)


class Client:
    """A minimal well-behaved client: counts seq, applies patches, resumes after a drop."""

    def __init__(self, wire: Wire) -> None:
        self.wire = wire
        self.seq = 0
        self.tree: Node | None = None
        self.rev = 0
        self.token = ""
        self.history: dict[int, tuple[Node | None, int]] = {}  # seq -> (tree, rev) after it

    def take(self, messages: list[dict[str, Any]], resumed_from: int | None = None) -> None:
        for msg in messages:
            if "seq" not in msg:
                assert msg["type"] == "pong" or (msg["type"] == "error" and self.seq == 0)
                continue
            if msg["type"] == "welcome":
                expected = (
                    1 if resumed_from is None else resumed_from + 1
                )  # PHL-HS-008, PHL-DELIV-005
                assert msg["seq"] == expected and msg.get("resumed", False) == (
                    resumed_from is not None
                )
                self.token = msg["token"]
            else:
                assert msg["seq"] == self.seq + 1  # PHL-DELIV-001: no gap, no repeat
            self.seq = msg["seq"]
            if msg["type"] == "ui.snapshot":
                self.tree, self.rev = Node.from_wire(msg["root"]), msg["rev"]
            elif msg["type"] == "ui.patch":
                assert (
                    self.tree is not None and msg["base"] == self.rev and msg["rev"] == self.rev + 1
                )
                self.tree, self.rev = apply(self.tree, msg["ops"]), msg["rev"]
            self.history[self.seq] = (self.tree, self.rev)

    def lose_last(self) -> None:
        """Forget the last message, as if the connection dropped before it was processed."""
        if self.seq > 0:
            self.seq -= 1
            self.tree, self.rev = self.history.get(self.seq, (None, 0))


@given(actions)
def test_random_sessions_keep_seq_unbroken_answer_each_event_once_and_mirror_the_tree(
    steps: list[tuple[Any, ...]],
) -> None:
    wire = Wire()
    client = Client(wire)
    client.take(wire.hello())
    for step in steps:
        kind = step[0]
        if kind == "click":
            replies = wire.send(
                {
                    "type": "event",
                    "id": step[1],
                    "node": step[2],
                    "name": "click",
                    "rev": client.rev,
                }
            )
            answers = [m for m in replies if m.get("event") == step[1]]
            assert len(answers) == 1 == len(replies)  # PHL-EVT-004
            client.take(replies)
        elif kind == "ack":
            replies = wire.send({"type": "ack", "seq": step[1]})
            assert (
                replies == []
                if step[1] <= client.seq
                else [r["code"] for r in replies] == ["invalid_message"]
            )
            client.take(replies)
        elif kind == "raw":
            client.take(wire.raw(step[1]))
        elif kind == "hello":
            client.take(wire.hello())
        else:
            wire.reconnect()
            if step[1]:
                client.lose_last()  # the server replays it under a new number
            seq = client.seq
            client.take(wire.hello(resume={"token": client.token, "seq": seq}), resumed_from=seq)
        session = wire.conn.session
        assert session is not None
        if client.tree is not None:
            assert client.tree == session.tree and client.rev == session.rev
    assert orjson.dumps(wire.conn.session.tree.to_wire())  # type: ignore[union-attr]
