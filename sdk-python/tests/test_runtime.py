from __future__ import annotations

import logging
from typing import Any

import phloem as ph
import pytest
from phloem.protocol.errors import LocalProtocolError
from phloem.runtime import Limits
from sdk_support import Wire, counter_app

# --- handshake ------------------------------------------------------------------------------


def test_hello_gets_welcome_seq_1_then_snapshot_seq_2_rev_1(wire: Wire) -> None:
    welcome, snapshot = wire.hello()
    assert welcome["type"] == "welcome" and welcome["seq"] == 1 and welcome["version"] == "1.0"
    assert welcome["limits"] == {
        "max_frame_bytes": 65536,
        "max_events_per_second": 50,
        "heartbeat_seconds": 20,
        "max_tree_nodes": 20000,
        "replay_messages": 256,
        "resume_seconds": 120,
    }
    assert "resumed" not in welcome
    assert snapshot["type"] == "ui.snapshot" and snapshot["seq"] == 2 and snapshot["rev"] == 1
    assert snapshot["root"]["children"][0] == {
        "id": "count",
        "type": "Text",
        "props": {"text": "Count: 0"},
    }
    assert wire.last.close is None


def test_server_picks_the_first_offered_version_it_supports(wire: Wire) -> None:
    assert wire.send({"type": "hello", "versions": ["7.3", "1.0", "1.1"]})[0]["version"] == "1.0"


def test_no_common_version_is_a_fatal_unsequenced_error_then_close_4406(wire: Wire) -> None:
    (error,) = wire.send({"type": "hello", "versions": ["2.0", "0.9"]})
    assert error == {
        "type": "error",
        "code": "version_unsupported",
        "message": error["message"],
        "fatal": True,
        "supported": ["1.1", "1.0"],
    }
    assert wire.last.close == 4406
    with pytest.raises(LocalProtocolError):
        wire.send({"type": "ping"})


@pytest.mark.parametrize("kind", ["event", "ack", "ping", "pong", "resync"])
def test_a_message_before_hello_gets_unsequenced_handshake_required(wire: Wire, kind: str) -> None:
    msg: dict[str, Any] = {"type": kind}
    msg.update(
        {"event": {"id": 1, "node": "inc", "name": "click"}, "ack": {"seq": 1}}.get(kind, {})
    )
    (error,) = wire.send(msg)
    assert error["code"] == "handshake_required" and "seq" not in error and "fatal" not in error
    assert wire.hello()[0]["seq"] == 1  # and the handshake still works


def test_a_second_hello_is_unexpected_and_the_session_lives(opened: Wire) -> None:
    (error,) = opened.hello()
    assert error["code"] == "unexpected_message" and error["seq"] == 3
    assert opened.click(1)[0]["type"] == "ui.patch"


def test_an_unknown_page_path_shows_a_not_found_page(wire: Wire) -> None:
    snapshot = wire.hello(path="/nope")[1]
    assert snapshot["root"]["children"][0]["props"]["text"] == "No page at /nope"


# --- events ---------------------------------------------------------------------------------


def test_click_is_answered_by_one_patch_carrying_the_event(opened: Wire) -> None:
    (patch,) = opened.click(1, rev=1, ack=2)
    assert patch == {
        "type": "ui.patch",
        "seq": 3,
        "base": 1,
        "rev": 2,
        "event": 1,
        "ops": [{"id": "count", "set": {"text": "Count: 1"}}],
    }


def test_an_event_that_changes_nothing_is_answered_by_ack() -> None:
    app = ph.App("noop")

    @app.page("/")
    def page(ui: ph.UI) -> ph.Element:
        return ph.Column(ph.Button("Nothing", id="b", on_click=lambda e: None))

    w = Wire(app)
    w.hello()
    assert w.click(5, node="b") == [{"type": "ack", "seq": 3, "event": 5}]


def test_duplicate_event_is_acked_and_applied_once(opened: Wire) -> None:
    opened.click(1)
    assert opened.click(1) == [{"type": "ack", "seq": 4, "event": 1}]
    assert opened.click(0) == [{"type": "ack", "seq": 5, "event": 0}]
    assert opened.click(2)[0]["ops"] == [{"id": "count", "set": {"text": "Count: 2"}}]


def test_event_for_a_missing_node_is_unknown_node(opened: Wire) -> None:
    (error,) = opened.click(1, node="ghost", rev=1)
    assert error == {
        "type": "error",
        "seq": 3,
        "code": "unknown_node",
        "message": error["message"],
        "event": 1,
    }


def test_event_for_a_node_gone_since_its_revision_is_stale_revision() -> None:
    app = ph.App("vanishing")

    @app.page("/")
    def page(ui: ph.UI) -> ph.Element:
        shown = ui.state("shown", True)
        once = ph.Button("Once", id="once", on_click=lambda e: shown.set(False))
        return ph.Column(*([once] if shown.value else []), ph.Text("x", id="t"))

    w = Wire(app)
    w.hello()
    assert w.click(1, node="once", rev=1)[0]["ops"] == [{"id": "once", "remove": True}]
    (error,) = w.click(2, node="once", rev=1)
    assert error["code"] == "stale_revision" and error["event"] == 2
    assert w.click(3, node="once", rev=2)[0]["code"] == "unknown_node"


def test_event_name_the_component_does_not_define_is_unknown_event(opened: Wire) -> None:
    (error,) = opened.send({"type": "event", "id": 1, "node": "count", "name": "click"})
    assert error["code"] == "unknown_event" and error["event"] == 1
    (error,) = opened.send({"type": "event", "id": 2, "node": "inc", "name": "hover"})
    assert error["code"] == "unknown_event"


def test_click_on_a_disabled_button_is_acked_without_running_the_handler() -> None:
    ran: list[int] = []
    app = ph.App("disabled")

    @app.page("/")
    def page(ui: ph.UI) -> ph.Element:
        return ph.Column(ph.Button("No", id="b", disabled=True, on_click=lambda e: ran.append(1)))

    w = Wire(app)
    w.hello()
    assert w.click(1, node="b")[0]["type"] == "ack" and ran == []


def test_custom_component_events_are_the_ones_with_handlers() -> None:
    app = ph.App("custom")

    @app.page("/")
    def page(ui: ph.UI) -> ph.Element:
        picked = ui.state("picked", 0)
        return ph.Column(
            ph.Component(
                "Slider",
                {"value": picked.value},
                id="s",
                on={"change": lambda e: picked.set(e.value)},
            )
        )

    w = Wire(app)
    w.hello()
    (patch,) = w.send({"type": "event", "id": 1, "node": "s", "name": "change", "value": 7})
    assert patch["ops"] == [{"id": "s", "set": {"value": 7}}]
    assert (
        w.send({"type": "event", "id": 2, "node": "s", "name": "click"})[0]["code"]
        == "unknown_event"
    )


def test_failing_handler_is_handler_error_and_its_changes_are_not_kept(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = ph.App("buggy")

    @app.page("/")
    def page(ui: ph.UI) -> ph.Element:
        n = ui.state("n", 0)

        def bump(e: ph.Event) -> None:
            n.set(n.value + 1)
            if n.value == 2:
                raise ZeroDivisionError("boom")

        return ph.Column(ph.Text(str(n.value), id="n"), ph.Button("+", id="b", on_click=bump))

    w = Wire(app)
    w.hello()
    w.click(1, node="b")
    with caplog.at_level(logging.ERROR, logger="phloem.runtime"):
        (error,) = w.click(2, node="b")
    assert error["code"] == "handler_error" and error["event"] == 2 and "fatal" not in error
    assert "Traceback" not in error["message"] and "boom" not in error["message"]
    assert "ZeroDivisionError: boom" in caplog.text
    # The session lives, and the failed event left no trace: n goes 1 -> 2 again and raises,
    # so state is still 1 until a handler succeeds.
    assert w.last.close is None and w.hub.sessions


def test_a_page_that_builds_duplicate_ids_fails_the_event_not_the_session(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = ph.App("dups")

    @app.page("/")
    def page(ui: ph.UI) -> ph.Element:
        twice = ui.state("twice", False)
        texts = [ph.Text("a", id="same")] * (2 if twice.value else 1)
        return ph.Column(*texts, ph.Button("go", id="go", on_click=lambda e: twice.set(True)))

    w = Wire(app)
    w.hello()
    with caplog.at_level(logging.ERROR, logger="phloem.runtime"):
        assert w.click(1, node="go")[0]["code"] == "handler_error"
    assert "two components have id 'same'" in caplog.text


def test_events_beyond_the_token_bucket_are_rate_limited_until_it_refills(opened: Wire) -> None:
    answers = [opened.click(i, step=0.0001)[0] for i in range(1, 111)]
    limited = [a for a in answers if a["type"] == "error"]
    assert len(limited) == 10  # burst of 100
    assert limited[0] == {
        "type": "error",
        "seq": limited[0]["seq"],
        "code": "rate_limited",
        "message": limited[0]["message"],
        "event": 101,
        "limit": 50,
    }
    # A rate-limited event is not handled, so its id can be sent again once tokens refill.
    assert opened.click(101, step=1.0)[0]["type"] == "ui.patch"


def test_rate_limit_sustains_50_events_per_second(opened: Wire) -> None:
    answers = [opened.click(i, step=0.02)[0]["type"] for i in range(1, 400)]
    assert "error" not in answers


# --- bad frames leave the session usable -----------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", "malformed_frame"),
        (b"\x00\x01", "malformed_frame"),
        ('{"type": "event", "id": "one", "node": "inc", "name": "click"}', "invalid_message"),
        ('{"type": "launch"}', "unknown_message_type"),
        ('{"type": "ping", "pad": "' + "x" * 70000 + '"}', "frame_too_large"),
    ],
)
def test_a_bad_frame_gets_a_sequenced_error_and_the_session_stays_usable(
    opened: Wire, frame: str | bytes, code: str
) -> None:
    (error,) = opened.raw(frame)
    assert error["code"] == code and error["seq"] == 3 and "fatal" not in error
    if code == "frame_too_large":
        assert error["limit"] == 65536
    assert opened.last.close is None
    assert opened.click(1)[0]["ops"] == [{"id": "count", "set": {"text": "Count: 1"}}]


def test_an_error_from_the_client_is_never_answered(opened: Wire, wire: Wire) -> None:
    assert opened.send({"type": "error", "code": "invalid_message", "message": "bad patch"}) == []
    assert opened.send({"type": "error", "code": "no_such_code", "message": 1}) == []
    assert wire.send({"type": "error", "code": "internal_error", "message": "before hello"}) == []


# --- ping, resync, ack -----------------------------------------------------------------------


def test_ping_is_answered_by_an_unsequenced_pong_with_its_id(opened: Wire) -> None:
    assert opened.send({"type": "ping", "id": "p1"}) == [{"type": "pong", "id": "p1"}]
    assert opened.send({"type": "ping"}) == [{"type": "pong"}]
    assert opened.click(1)[0]["seq"] == 3  # pongs take no seq


def test_resync_is_answered_by_a_snapshot_at_the_current_revision(opened: Wire) -> None:
    opened.click(1)
    (snapshot,) = opened.send({"type": "resync", "rev": 0})
    assert snapshot["type"] == "ui.snapshot" and snapshot["seq"] == 4 and snapshot["rev"] == 2
    assert snapshot["root"]["children"][0]["props"]["text"] == "Count: 1"


def test_ack_trims_the_replay_buffer(opened: Wire) -> None:
    session = opened.hub.sessions["token-000000000001"]
    opened.click(1)
    assert [s for s, _ in session.sent] == [2, 3]
    assert opened.send({"type": "ack", "seq": 2}) == []
    assert [s for s, _ in session.sent] == [3]
    opened.click(2, ack=3)
    assert [s for s, _ in session.sent] == [4]


def test_ack_beyond_the_last_seq_sent_is_invalid_and_ignored(opened: Wire) -> None:
    (error,) = opened.send({"type": "ack", "seq": 99})
    assert error["code"] == "invalid_message" and "fatal" not in error
    assert len(opened.hub.sessions["token-000000000001"].sent) == 2


def test_replay_buffer_is_bounded() -> None:
    w = Wire(limits=Limits(replay_messages=4))
    w.hello()
    for i in range(1, 10):
        w.click(i)
    assert [s for s, _ in w.hub.sessions["token-000000000001"].sent] == [8, 9, 10, 11]


# --- resume ----------------------------------------------------------------------------------


def test_resume_replays_missed_messages_renumbered_after_the_welcome(opened: Wire) -> None:
    opened.click(1)  # seq 3, processed
    opened.click(2)  # seq 4, lost with the connection
    opened.reconnect()
    welcome, patch = opened.hello(resume={"token": "token-000000000001", "seq": 3})
    assert welcome["resumed"] is True and welcome["seq"] == 4 and welcome["session"] == "s1"
    assert (
        patch["type"] == "ui.patch"
        and patch["seq"] == 5
        and patch["event"] == 2
        and patch["rev"] == 3
    )
    assert opened.click(2) == [{"type": "ack", "seq": 6, "event": 2}]  # resent: not applied again
    assert opened.click(3)[0]["ops"] == [{"id": "count", "set": {"text": "Count: 3"}}]


def test_resume_with_nothing_missed_sends_only_the_welcome(opened: Wire) -> None:
    opened.reconnect()
    (welcome,) = opened.hello(resume={"token": "token-000000000001", "seq": 2})
    assert welcome["resumed"] is True and welcome["seq"] == 3


def test_resume_after_the_buffer_dropped_messages_gets_a_snapshot() -> None:
    w = Wire(limits=Limits(replay_messages=2))
    w.hello()
    for i in range(1, 6):
        w.click(i)  # seq 3..7; the buffer keeps 6, 7
    w.reconnect()
    welcome, snapshot = w.hello(resume={"token": "token-000000000001", "seq": 4})
    assert welcome["seq"] == 5 and welcome["resumed"] is True
    assert snapshot["type"] == "ui.snapshot" and snapshot["seq"] == 6 and snapshot["rev"] == 6


@pytest.mark.parametrize(
    "resume",
    [{"token": "nobody-knows-this-token", "seq": 2}, {"token": "token-000000000001", "seq": 50}],
    ids=["unknown token", "seq never sent"],
)
def test_a_resume_that_cannot_be_honoured_starts_a_new_session(
    opened: Wire, resume: dict[str, Any]
) -> None:
    opened.click(1)
    opened.reconnect()
    welcome, snapshot = opened.hello(resume=resume)
    assert (
        "resumed" not in welcome
        and welcome["seq"] == 1
        and welcome["token"] == "token-000000000002"
    )
    assert snapshot["seq"] == 2 and snapshot["rev"] == 1


def test_disconnected_sessions_expire_after_the_ttl(opened: Wire) -> None:
    opened.reconnect()
    start = opened.now
    assert opened.hub.expire(start + 119) == 0
    assert opened.hub.expire(start + 120) == 1 and not opened.hub.sessions
    welcome = opened.hello(resume={"token": "token-000000000001", "seq": 2})[0]
    assert "resumed" not in welcome


def test_a_connected_session_never_expires(opened: Wire) -> None:
    assert opened.hub.expire(opened.now + 10_000) == 0


def test_resume_on_a_live_session_closes_the_old_connection_with_1001(opened: Wire) -> None:
    old = opened.conn
    notified: list[bool] = []
    old.on_superseded = lambda: notified.append(True)
    opened.conn = opened.hub.connect(opened.now)
    opened.hello(resume={"token": "token-000000000001", "seq": 2})
    assert notified == [True]
    assert old.receive('{"type": "ping"}', opened.now) == ([], 1001)
    old.disconnect(opened.now)  # the old transport going away does not detach the session
    assert opened.click(1)[0]["type"] == "ui.patch"


def test_disconnect_is_idempotent(opened: Wire) -> None:
    opened.conn.disconnect(opened.now)
    opened.conn.disconnect(opened.now)
    with pytest.raises(LocalProtocolError):
        opened.conn.receive('{"type": "ping"}', opened.now)


# --- internal errors -------------------------------------------------------------------------


def test_a_page_that_fails_at_first_render_is_a_fatal_internal_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = ph.App("broken")

    @app.page("/")
    def page(ui: ph.UI) -> ph.Element:
        raise RuntimeError("no data")

    w = Wire(app)
    with caplog.at_level(logging.ERROR, logger="phloem.runtime"):
        (error,) = w.hello()
    assert error["code"] == "internal_error" and error["fatal"] is True and "seq" not in error
    assert w.last.close == 1011 and not w.hub.sessions


def test_a_short_token_from_the_injected_generator_is_a_local_error() -> None:
    hub = ph.runtime.Hub(counter_app(), new_token=lambda: "short")
    with pytest.raises(LocalProtocolError):
        hub.connect(0).receive('{"type": "hello", "versions": ["1.0"]}', 0)
