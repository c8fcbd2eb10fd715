"""Limits (design §3): announced, validated, overridable per page; max_tree_nodes enforced
(PHL-LIM-008, PHL-LIM-009)."""

from __future__ import annotations

import logging

import phloem as ph
import pytest
from phloem.runtime import Limits
from sdk_support import Wire


def growing_app(**page: object) -> ph.App:
    app = ph.App("Grows")

    @app.page("/", **page)  # type: ignore[arg-type]
    def home(ui: ph.UI) -> ph.Element:
        rows = ui.state("rows", 1)
        return ph.Column(
            ph.Button("Add 5", id="add", on_click=lambda e: rows.set(rows.value + 5)),
            *(ph.Text(f"row {i}", id=f"r{i}") for i in range(rows.value)),
        )

    return app


def test_welcome_announces_every_limit_with_its_default() -> None:
    welcome, _ = Wire().hello()
    assert welcome["limits"] == {
        "max_frame_bytes": 65536,
        "max_events_per_second": 50,
        "heartbeat_seconds": 20,
        "max_tree_nodes": 20000,
        "replay_messages": 256,
        "resume_seconds": 120,
    }


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"max_tree_node": 5}, "unknown limit(s) max_tree_node"),
        ({"max_tree_nodes": 0}, "max_tree_nodes must be at least 1"),
        ({"max_tree_nodes": "5"}, "max_tree_nodes must be an integer"),
        ({"replay_messages": True}, "replay_messages must be an integer"),
        ({"resume_seconds": 0}, "resume_seconds must be greater than 0"),
        ({"max_frame_bytes": 100}, "max_frame_bytes must be at least 1024"),
    ],
)
def test_a_bad_limit_is_refused_with_its_name(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Limits().replace(overrides)
    with pytest.raises(ValueError, match=r"max_tree_node|must be"):
        ph.App("x").page("/", limits=overrides)


def test_a_page_overrides_the_hubs_limits_for_its_sessions() -> None:
    w = Wire(
        growing_app(limits={"replay_messages": 2, "max_tree_nodes": 9}),
        Limits(max_events_per_second=7),
    )
    welcome, _ = w.hello()
    assert welcome["limits"]["replay_messages"] == 2
    assert welcome["limits"]["max_tree_nodes"] == 9
    assert welcome["limits"]["max_events_per_second"] == 7  # the hub's, not overridden


def test_an_event_that_would_grow_the_tree_past_the_limit_is_refused_and_undone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    w = Wire(growing_app(), Limits(max_tree_nodes=10))
    w.hello()
    (patch,) = w.click(1, node="add")  # 1 + 1 + 6 rows = 8 nodes
    assert patch["type"] == "ui.patch"
    with caplog.at_level(logging.WARNING, logger="phloem.runtime"):
        (error,) = w.click(2, node="add")  # 13 nodes
    assert error == {
        "type": "error",
        "seq": 4,
        "code": "tree_too_large",
        "message": error["message"],
        "event": 2,
        "limit": 10,
    }
    assert "fatal" not in error
    (snapshot,) = w.send({"type": "resync"})
    assert len(snapshot["root"]["children"]) == 7  # the state change was rolled back
    (again,) = w.click(2, node="add")  # a resend of the refused event is acked, not re-run
    assert again == {"type": "ack", "seq": 6, "event": 2}


def test_a_first_tree_over_the_limit_is_a_fatal_internal_error() -> None:
    w = Wire(growing_app(limits={"max_tree_nodes": 1}))
    (error,) = w.hello()
    assert error["code"] == "internal_error" and error["fatal"] is True
    assert w.last.close == 1011
    assert w.hub.sessions == {}


def test_a_page_limit_on_resume_seconds_decides_when_its_sessions_expire() -> None:
    w = Wire(growing_app(limits={"resume_seconds": 40}))
    w.hello()
    w.reconnect()
    assert w.hub.expire(w.now + 39) == 0
    assert w.hub.expire(w.now + 40) == 1


def test_small_replay_buffer_sends_a_snapshot_on_a_resume_that_missed_more() -> None:
    w = Wire(growing_app(limits={"replay_messages": 2}))
    welcome, _ = w.hello()
    for event in range(1, 4):
        w.click(event, node="add")
    w.reconnect()
    replies = w.hello(resume={"token": welcome["token"], "seq": 2})
    assert [m["type"] for m in replies] == ["welcome", "ui.snapshot"]


def test_a_burst_below_the_announced_rate_is_refused() -> None:
    """PHL-LIM-011: a client at the announced rate never meets the burst."""
    with pytest.raises(ValueError, match=r"event_burst .* at least max_events_per_second"):
        Limits(max_events_per_second=200)
    assert Limits(max_events_per_second=200, event_burst=200).event_burst == 200
