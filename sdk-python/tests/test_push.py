"""Server-initiated updates (design §5): ``Hub.push``/``Hub.post`` change a session outside
any event; the patch is sequenced, replayed on resume, and never lost while detached."""

from __future__ import annotations

import orjson
import phloem as ph
import pytest
from phloem.protocol.tree import Node, apply
from phloem.runtime import TreeTooLarge, UnknownSession
from phloem.testing import TestClient
from sdk_support import Wire, assert_valid, counter_app


def bump(ui: ph.UI) -> None:
    count = ui.state("count", 0)
    count.set(count.value + 1)


def test_post_sends_a_sequenced_patch_without_event_to_the_attached_connection() -> None:
    w = Wire()
    welcome, _ = w.hello()
    out = w.hub.post(welcome["session"], bump, w.now)
    assert out.close is None
    (patch,) = (orjson.loads(f) for f in out.frames)
    assert_valid("messages/ui.patch", patch)
    assert patch == {
        "type": "ui.patch", "seq": 3, "base": 1, "rev": 2,
        "ops": [{"id": "count", "set": {"text": "Count: 1"}}],
    }  # fmt: skip
    assert w.conn.drain().frames == []  # post took them already


def test_pushed_frames_wait_in_the_outbox_and_lead_the_next_receive() -> None:
    w = Wire()
    welcome, _ = w.hello()
    w.hub.push(welcome["session"], bump, w.now)
    w.hub.push(welcome["session"], bump, w.now)
    replies = w.click(1)
    assert [(m["type"], m["seq"], m.get("event")) for m in replies] == [
        ("ui.patch", 3, None),
        ("ui.patch", 4, None),
        ("ui.patch", 5, 1),
    ]
    assert replies[-1]["ops"] == [{"id": "count", "set": {"text": "Count: 3"}}]


def test_a_push_that_changes_nothing_sends_nothing() -> None:
    w = Wire()
    welcome, _ = w.hello()
    assert w.hub.post(welcome["session"], lambda ui: None, w.now).frames == []
    assert w.click(1)[0]["seq"] == 3


def test_pushes_to_a_detached_session_are_replayed_on_resume() -> None:
    w = Wire()
    welcome, snapshot = w.hello()
    w.reconnect()
    for _ in range(3):
        assert w.hub.post(welcome["session"], bump, w.now).frames == []
    replies = w.hello(resume={"token": welcome["token"], "seq": 2})
    assert [m["type"] for m in replies] == ["welcome", "ui.patch", "ui.patch", "ui.patch"]
    tree = Node.from_wire(snapshot["root"])
    for patch in replies[1:]:
        assert "event" not in patch
        tree = apply(tree, patch["ops"])
    assert tree.find("count").props["text"] == "Count: 3"  # type: ignore[union-attr]


def test_pushes_past_a_small_replay_buffer_resume_with_a_snapshot() -> None:
    app = ph.App("Small")
    app.page("/", limits={"replay_messages": 2})(counter_app().pages["/"])
    w = Wire(app)
    welcome, _ = w.hello()
    w.reconnect()
    for _ in range(5):
        w.hub.push(welcome["session"], bump, w.now)
    replies = w.hello(resume={"token": welcome["token"], "seq": 2})
    assert [m["type"] for m in replies] == ["welcome", "ui.snapshot"]
    assert replies[1]["root"]["children"][0]["props"]["text"] == "Count: 5"


def test_frames_queued_for_a_dropped_connection_are_not_sent_twice() -> None:
    w = Wire()
    welcome, _ = w.hello()
    w.hub.push(welcome["session"], bump, w.now)  # queued, never drained: the socket dropped
    old = w.conn
    w.reconnect()
    replies = w.hello(resume={"token": welcome["token"], "seq": 2})
    assert [m["type"] for m in replies] == ["welcome", "ui.patch"]
    assert old.drain().frames == [] and w.conn.drain().frames == []


def test_a_failing_update_raises_and_keeps_nothing() -> None:
    w = Wire()
    welcome, _ = w.hello()

    def broken(ui: ph.UI) -> None:
        bump(ui)
        raise RuntimeError("job failed")

    with pytest.raises(RuntimeError, match="job failed"):
        w.hub.post(welcome["session"], broken, w.now)
    (patch,) = w.click(1)
    assert patch["seq"] == 3 and patch["ops"] == [{"id": "count", "set": {"text": "Count: 1"}}]


def test_an_update_that_grows_the_tree_past_the_limit_is_refused() -> None:
    app = ph.App("Grows")

    @app.page("/", limits={"max_tree_nodes": 4})
    def home(ui: ph.UI) -> ph.Element:
        n = ui.state("n", 1)
        return ph.Column(*(ph.Text(str(i), id=f"t{i}") for i in range(n.value)))

    w = Wire(app)
    welcome, _ = w.hello()
    with pytest.raises(TreeTooLarge):
        w.hub.post(welcome["session"], lambda ui: ui.state("n", 1).set(10), w.now)
    (snapshot,) = w.send({"type": "resync"})
    assert len(snapshot["root"]["children"]) == 1


def test_posting_to_an_unknown_or_expired_session_raises() -> None:
    w = Wire()
    welcome, _ = w.hello()
    with pytest.raises(UnknownSession):
        w.hub.post("s999", bump, w.now)
    w.reconnect()
    with pytest.raises(UnknownSession):
        w.hub.post(welcome["session"], bump, w.now + w.hub.limits.resume_seconds)


def test_the_test_client_applies_posted_updates() -> None:
    client = TestClient(counter_app())
    client.post(bump)
    client.click("inc")
    assert client.text("count") == "Count: 2"


def test_a_handler_hands_its_session_id_to_work_that_pushes_later() -> None:
    later: list[str] = []  # what a job started by the handler would hold
    app = ph.App("started")

    @app.page("/")
    def page(ui: ph.UI) -> ph.Element:
        status = ui.state("status", "idle")

        def start(event: ph.Event) -> None:
            later.append(ui.session)
            status.set("running")

        return ph.Column(
            ph.Text(status.value, id="status"), ph.Button("Start", id="start", on_click=start)
        )

    client = TestClient(app)
    client.click("start")
    assert later == [client.session]
    client.post(lambda ui: ui.state("status", "").set("done"))  # the job, finishing
    assert client.text("status") == "done"
