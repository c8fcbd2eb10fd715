"""Hub(on_error=...): told of every coded error the runtime sends, exactly once, as sent."""

from __future__ import annotations

import logging
from typing import Any

import orjson
import phloem as ph
import pytest
from sdk_support import Wire

Reported = list[tuple[str | None, dict[str, Any]]]


def hooked(app: ph.App | None = None) -> tuple[Wire, Reported]:
    w = Wire(app)
    reported: Reported = []
    w.hub.on_error = lambda session, msg: reported.append((session, dict(msg)))
    return w, reported


def sent_errors(w: Wire) -> list[dict[str, Any]]:
    return [m for m in map(orjson.loads, w.last.frames) if m["type"] == "error"]


def test_errors_before_the_handshake_are_reported_without_a_session() -> None:
    w, reported = hooked()
    (error,) = w.send({"type": "ping"})
    assert reported == [(None, error)] and error["code"] == "handshake_required"
    (error,) = w.send({"type": "hello", "versions": ["9.0"]})
    assert reported[1] == (None, error) and error["code"] == "version_unsupported"


def test_every_error_in_a_session_is_reported_once_with_its_session_and_seq() -> None:
    w, reported = hooked()
    w.hello()
    session = next(iter(w.hub.sessions.values())).id
    expected = []
    for frame in ("{not json", '{"type": "launch"}', '{"type": "hello", "versions": ["1.0"]}'):
        w.raw(frame)
        expected += sent_errors(w)
    w.click(1, node="nope")
    expected += sent_errors(w)
    assert [code for _, code in [(s, m["code"]) for s, m in reported]] == [
        "malformed_frame",
        "unknown_message_type",
        "unexpected_message",
        "unknown_node",
    ]
    assert reported == [(session, msg) for msg in expected]
    assert all("seq" in msg for _, msg in reported)


def test_patches_acks_and_pongs_are_not_reported() -> None:
    w, reported = hooked()
    w.hello()
    w.click(1)
    w.click(1)  # a duplicate: ack
    w.send({"type": "ping", "id": 3})
    w.send({"type": "ack", "seq": 3})
    assert reported == []


def test_rate_limited_events_are_each_reported() -> None:
    w, reported = hooked()
    w.hello()
    answers = [w.click(i, step=0.0001)[0] for i in range(1, 111)]
    limited = [a for a in answers if a["type"] == "error"]
    assert len(limited) == 10 and [m for _, m in reported] == limited
    assert {m["code"] for _, m in reported} == {"rate_limited"}


def test_handler_error_and_fatal_internal_error_are_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = ph.App("buggy")

    @app.page("/")
    def page(ui: ph.UI) -> ph.Element:
        def fail(e: ph.Event) -> None:
            raise ValueError("boom")

        return ph.Column(ph.Button("x", id="b", on_click=fail))

    w, reported = hooked(app)
    w.hello()
    with caplog.at_level(logging.CRITICAL, logger="phloem.runtime"):
        (error,) = w.click(1, node="b")
    assert reported == [("s1", error)] and error["code"] == "handler_error"

    broken = ph.App("broken")

    @broken.page("/")
    def never(ui: ph.UI) -> ph.Element:
        raise RuntimeError("no data")

    w, reported = hooked(broken)
    with caplog.at_level(logging.CRITICAL, logger="phloem.runtime"):
        (error,) = w.hello()
    assert reported == [(None, error)] and error["code"] == "internal_error" and error["fatal"]


def test_an_error_replayed_after_a_resume_is_not_reported_again() -> None:
    w, reported = hooked()
    welcome, _ = w.hello()
    w.raw("{not json")  # seq 3, never acknowledged
    assert len(reported) == 1
    w.reconnect()
    frames = w.hello(resume={"token": welcome["token"], "seq": 2})
    assert [m["type"] for m in frames] == ["welcome", "error"]  # replayed, renumbered
    assert len(reported) == 1


def test_a_hook_that_raises_is_logged_and_the_error_still_goes_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    w = Wire()

    def broken(session: str | None, msg: dict[str, Any]) -> None:
        raise RuntimeError("hook bug")

    w.hub.on_error = broken
    with caplog.at_level(logging.ERROR, logger="phloem.runtime"):
        (error,) = w.send({"type": "ping"})
    assert error["code"] == "handshake_required"
    assert "on_error hook raised" in caplog.text and "hook bug" in caplog.text
    assert w.hello()[0]["type"] == "welcome"
