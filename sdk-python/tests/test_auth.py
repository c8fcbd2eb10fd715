"""Authentication (design §4): pages that require a user (PHL-SEC-007), resume bound to the
session's user (PHL-SEC-008), ``ui.user``."""

from __future__ import annotations

import phloem as ph
import pytest
from phloem.testing import ServerError, TestClient
from sdk_support import Wire


def private_app() -> ph.App:
    app = ph.App("Private")

    @app.page("/", auth=True)
    def home(ui: ph.UI) -> ph.Element:
        count = ui.state("count", 0)
        return ph.Column(
            ph.Text(f"{ui.user}: {count.value}", id="count"),
            ph.Button("Increment", id="inc", on_click=lambda e: count.set(count.value + 1)),
        )

    @app.page("/open")
    def public(ui: ph.UI) -> ph.Element:
        count = ui.state("count", 0)
        return ph.Column(
            ph.Text(f"{ui.user}: {count.value}", id="count"),
            ph.Button("Increment", id="inc", on_click=lambda e: count.set(count.value + 1)),
        )

    return app


def test_an_anonymous_hello_for_a_private_page_is_unauthorized_fatal_4401_without_a_tree() -> None:
    w = Wire(private_app())
    (error,) = w.hello()
    assert error == {
        "type": "error",
        "code": "unauthorized",
        "message": error["message"],
        "fatal": True,
    }
    assert w.last.close == 4401
    assert w.hub.sessions == {}


def test_a_signed_in_user_opens_the_private_page_and_the_app_sees_their_name() -> None:
    client = TestClient(private_app(), user="ada")
    assert client.text("count") == "ada: 0"
    with pytest.raises(ServerError, match="unauthorized"):
        TestClient(private_app())


def test_user_name_defaults_to_the_user_key_and_anonymous_is_none() -> None:
    w = Wire(private_app(), user=42)
    _, snapshot = w.hello()
    assert snapshot["root"]["children"][0]["props"]["text"] == "42: 0"
    _, snapshot = Wire(private_app()).hello(path="/open")
    assert snapshot["root"]["children"][0]["props"]["text"] == "None: 0"


def test_a_resume_is_honoured_only_for_the_same_user() -> None:
    w = Wire(private_app(), user=1)
    welcome, _ = w.hello()
    w.click(1)
    resume = {"token": welcome["token"], "seq": 3}
    w.reconnect(user=2)  # another user presents the stolen token: a new session of their own
    other = w.hello(resume=resume)
    assert "resumed" not in other[0]
    assert other[0]["session"] != welcome["session"] and other[1]["type"] == "ui.snapshot"
    assert other[1]["root"]["children"][0]["props"]["text"] == "2: 0"
    w.reconnect(user=None)  # anonymous with the token: treated as unknown, and refused
    (error,) = w.hello(resume=resume)
    assert error["code"] == "unauthorized" and w.last.close == 4401
    w.reconnect(user=1)  # the owner: resumed
    (back,) = w.hello(resume=resume)
    assert back["resumed"] is True and back["session"] == welcome["session"]


def test_an_anonymous_session_may_be_resumed_by_any_connection() -> None:
    w = Wire(private_app())
    welcome, _ = w.hello(path="/open")
    w.reconnect(user=7)
    (back,) = w.hello(resume={"token": welcome["token"], "seq": 2})
    assert back["resumed"] is True
