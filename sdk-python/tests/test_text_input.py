"""TextInput and Link (design §2, §7): change events, the unbound field's text kept by the
session (PHL-COMP-022), disabled fields."""

from __future__ import annotations

import phloem as ph
import pytest
from phloem.runtime import Limits
from phloem.testing import ServerError, TestClient
from sdk_support import Wire, assert_valid


def form_app() -> ph.App:
    app = ph.App("Form")

    @app.page("/")
    def home(ui: ph.UI) -> ph.Element:
        seen = ui.state("seen", 0)
        return ph.Column(
            ph.TextInput("Free", id="free", placeholder="type here"),
            ph.TextInput("Counted", id="counted", on_change=lambda e: seen.set(seen.value + 1)),
            ph.TextInput("Off", id="off", disabled=True, on_change=lambda e: seen.set(-1)),
            ph.Text(f"changes: {seen.value}", id="seen"),
            ph.Link("Docs", "https://example.org/docs", id="docs"),
        )

    return app


def test_text_input_and_link_props_validate_against_their_schemas() -> None:
    client = TestClient(form_app())
    free = client.find("free")
    assert free.type == "TextInput"
    assert dict(free.props) == {"label": "Free", "placeholder": "type here", "value": ""}
    assert dict(client.find("off").props) == {"label": "Off", "disabled": True, "value": ""}
    assert dict(client.find("docs").props) == {"text": "Docs", "href": "https://example.org/docs"}
    for node in client.tree.walk():
        assert_valid(f"components/{node.type}", dict(node.props))


def test_an_unbound_field_keeps_what_the_user_typed_across_renders() -> None:
    client = TestClient(form_app())
    patch = client.type("free", "hello")
    assert patch["ops"] == [{"id": "free", "set": {"value": "hello"}}]
    client.type("counted", "x")  # another field's change re-renders the page
    assert client.find("free").props["value"] == "hello"
    assert client.find("counted").props["value"] == "x"
    assert client.text("seen") == "changes: 1"


def test_a_change_the_text_already_holds_is_acked_without_a_patch() -> None:
    client = TestClient(form_app())
    client.type("free", "same")
    assert client.type("free", "same") == {"type": "ack", "seq": 4, "event": 2}


def test_a_bound_field_shows_the_apps_value() -> None:
    app = ph.App("Upper")

    @app.page("/")
    def home(ui: ph.UI) -> ph.Element:
        name = ui.state("name", "")
        return ph.TextInput(
            "Name", id="name", value=name.value, on_change=lambda e: name.set(e.value.upper())
        )

    client = TestClient(app)
    assert client.type("name", "ada")["ops"] == [{"id": "name", "set": {"value": "ADA"}}]


def test_a_change_on_a_disabled_field_is_acked_and_changes_nothing() -> None:
    client = TestClient(form_app())
    reply = client.type("off", "sneaky")
    assert reply["type"] == "ack"
    assert client.find("off").props["value"] == "" and client.text("seen") == "changes: 0"


@pytest.mark.parametrize("value", [None, 3, ["a"], "x" * 65537])
def test_a_change_whose_value_is_not_the_text_is_invalid(value: object) -> None:
    w = Wire(form_app(), Limits(max_frame_bytes=1 << 20))  # room for a text over 64 KiB
    w.hello()
    msg = {"type": "event", "id": 1, "node": "free", "name": "change"}
    if value is not None:
        msg["value"] = value
    (error,) = w.send(msg)
    assert error["code"] == "invalid_message" and error["event"] == 1


def test_a_failing_handler_keeps_none_of_the_typed_text() -> None:
    app = ph.App("Fails")

    @app.page("/")
    def home(ui: ph.UI) -> ph.Element:
        def fail(event: ph.Event) -> None:
            raise RuntimeError("no")

        return ph.TextInput("Name", id="name", on_change=fail)

    w = Wire(app)
    w.hello()
    (error,) = w.send({"type": "event", "id": 1, "node": "name", "name": "change", "value": "a"})
    assert error["code"] == "handler_error"
    (snapshot,) = w.send({"type": "resync"})
    assert snapshot["root"]["props"]["value"] == ""


def test_link_and_text_input_emit_what_the_catalog_says() -> None:
    client = TestClient(form_app())
    with pytest.raises(ServerError) as info:
        client.click("docs")
    assert info.value.code == "unknown_event"
    with pytest.raises(ServerError) as info:
        client.click("free")
    assert info.value.code == "unknown_event"
