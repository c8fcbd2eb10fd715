"""Session isolation: an event reaches only its own session's nodes, and a resume token
resumes only its own session."""

from __future__ import annotations

import phloem as ph
from sdk_support import Wire


def two_pages() -> ph.App:
    app = ph.App("Two")

    @app.page("/a")
    def a(ui: ph.UI) -> ph.Element:
        count = ui.state("count", 0)
        return ph.Column(
            ph.Text(f"A {count.value}", id="a-count"),
            ph.Button("A+", id="a-inc", on_click=lambda e: count.set(count.value + 1)),
        )

    @app.page("/b")
    def b(ui: ph.UI) -> ph.Element:
        count = ui.state("count", 0)
        return ph.Column(
            ph.Text(f"B {count.value}", id="b-count"),
            ph.Button("B+", id="b-inc", on_click=lambda e: count.set(count.value + 1)),
        )

    return app


def test_an_event_naming_another_sessions_node_is_unknown_node() -> None:
    alice = Wire(two_pages())
    alice.hello(path="/a")
    bob = alice.other()
    bob.hello(path="/b")
    (error,) = alice.click(1, node="b-inc")
    assert error["code"] == "unknown_node"
    (snapshot,) = bob.send({"type": "resync"})
    assert snapshot["root"]["children"][0]["props"]["text"] == "B 0"


def test_two_sessions_of_one_page_share_node_ids_but_not_state() -> None:
    alice = Wire(two_pages())
    alice.hello(path="/a")
    bob = alice.other()
    bob.hello(path="/a")
    for event in range(1, 4):
        alice.click(event, node="a-inc")
    (patch,) = bob.click(1, node="a-inc")
    assert patch["ops"] == [{"id": "a-count", "set": {"text": "A 1"}}]
    (snapshot,) = alice.send({"type": "resync"})
    assert snapshot["root"]["children"][0]["props"]["text"] == "A 3"


def test_a_resume_token_resumes_its_own_session_only() -> None:
    alice = Wire(two_pages())
    a_welcome, _ = alice.hello(path="/a")
    bob = alice.other()
    b_welcome, _ = bob.hello(path="/b")
    alice.click(1, node="a-inc")
    bob.reconnect()
    # Bob's token with Alice's seq: Bob's session only ever sent 2, so this is a new session.
    fresh = bob.hello(resume={"token": b_welcome["token"], "seq": 3}, path="/b")
    assert "resumed" not in fresh[0] and fresh[0]["session"] not in (
        a_welcome["session"], b_welcome["session"],
    )  # fmt: skip
    bob.reconnect()
    # A token is the session: presenting Bob's brings Bob's page back, never Alice's state,
    # whatever path the hello names.
    back = bob.hello(resume={"token": b_welcome["token"], "seq": 2}, path="/a")
    assert back[0]["resumed"] is True and back[0]["session"] == b_welcome["session"]
    (snapshot,) = bob.send({"type": "resync"})
    assert snapshot["root"]["children"][0]["props"]["text"] == "B 0"


def test_a_guessed_or_altered_token_is_unknown() -> None:
    alice = Wire(two_pages())
    welcome, _ = alice.hello(path="/a")
    alice.reconnect()
    altered = welcome["token"][:-1] + ("x" if welcome["token"][-1] != "x" else "y")
    replies = alice.hello(resume={"token": altered, "seq": 2}, path="/a")
    assert "resumed" not in replies[0] and replies[0]["session"] != welcome["session"]
