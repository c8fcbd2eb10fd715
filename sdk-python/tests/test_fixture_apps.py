"""The conformance fixture apps behave as their contracts (conformance/fixtures/) say."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import phloem as ph
import pytest
from phloem.testing import ServerError, TestClient
from sdk_support import Wire

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "apps.py"
APP = ph.load_app(FIXTURES)


def client(path: str, **kwargs: Any) -> TestClient:
    return TestClient(APP, path, **kwargs)


def test_every_new_fixture_is_served() -> None:
    assert {
        "/input", "/input-upper", "/tree-echo", "/ledger", "/small-buffer", "/private", "/fallback",
    } <= set(APP.pages)  # fmt: skip


@pytest.mark.parametrize(
    ("path", "typed", "shown"), [("/input", "Ada", "Ada"), ("/input-upper", "Ada", "ADA")]
)
def test_input_greets_what_was_typed(path: str, typed: str, shown: str) -> None:
    c = client(path)
    assert c.find("name").props == {"label": "Name", "value": ""}
    assert c.text("greeting") == "Hello, !"
    patch = c.type("name", typed)
    assert sorted(patch["ops"], key=lambda op: op["id"]) == [
        {"id": "greeting", "set": {"text": f"Hello, {shown}!"}},
        {"id": "name", "set": {"value": shown}},
    ]


TREE = [
    {"id": "c", "type": "Column", "props": {"gap": 2}, "children": [
        {"id": "t", "type": "Text", "props": {"text": "hi"}, "children": []},
        {"id": "b", "type": "Button", "props": {"label": "go", "disabled": True}},
    ]},
    {"id": "t2", "type": "Text", "props": {"text": "second"}},
]  # fmt: skip


def test_tree_echo_renders_exactly_the_nodes_it_was_sent() -> None:
    c = client("/tree-echo")
    assert c.tree.to_wire() == {"id": "root", "type": "Probe"}
    c.event("root", "set", TREE)
    wire = c.tree.to_wire()
    assert wire["children"][0]["children"][1] == TREE[0]["children"][1]  # type: ignore[index]
    assert [n.id for n in c.tree.walk()] == ["root", "c", "t", "b", "t2"]
    c.event("root", "set", [])
    assert c.tree.to_wire() == {"id": "root", "type": "Probe"}


@pytest.mark.parametrize(
    "value",
    [
        "not a list",
        [{"id": "x", "type": "Slider", "props": {}}],
        [{"id": "x y", "type": "Column"}],
        [{"id": "x", "type": "Text", "props": []}],
        [{"id": "x", "type": "Text", "props": {"text": "a"}, "extra": 1}],
        [{"id": "x", "type": "Text", "props": {"text": "a"}}, {"id": "x", "type": "Column"}],
        [{"id": "root", "type": "Column"}],
        [{"id": "x", "type": "Column", "children": [{"id": "x", "type": "Column"}]}],
        [{"id": "x", "type": "Column", "children": [{"id": "root", "type": "Text"}]}],
    ],
)
def test_tree_echo_answers_an_invalid_description_with_handler_error(value: object) -> None:
    w = Wire(APP)
    w.hello(path="/tree-echo")
    (error,) = w.send({"type": "event", "id": 1, "node": "root", "name": "set", "value": value})
    assert error["code"] == "handler_error"
    (snapshot,) = w.send({"type": "resync"})
    assert snapshot["root"] == {"id": "root", "type": "Probe"}


def test_tree_echo_refuses_a_tree_over_its_100_nodes() -> None:
    w = Wire(APP)
    welcome, _ = w.hello(path="/tree-echo")
    assert welcome["limits"]["max_tree_nodes"] == 100
    nodes = [{"id": f"n{i}", "type": "Text", "props": {"text": str(i)}} for i in range(99)]
    (patch,) = w.send({"type": "event", "id": 1, "node": "root", "name": "set", "value": nodes})
    assert patch["type"] == "ui.patch"
    nodes.append({"id": "n99", "type": "Column"})
    (error,) = w.send({"type": "event", "id": 2, "node": "root", "name": "set", "value": nodes})
    assert error["code"] == "tree_too_large" and error["limit"] == 100


def test_ledger_appends_entries_in_order() -> None:
    c = client("/ledger")
    patch = c.event("ledger", "append", "one")
    assert patch["ops"] == [
        {
            "id": "entries",
            "insert": {"id": "e1", "type": "Text", "props": {"text": "one"}},
            "index": 0,
        }
    ]
    c.event("ledger", "append", "two")
    assert [c.text(f"e{n}") for n in (1, 2)] == ["one", "two"]
    with pytest.raises(ValueError, match="at most 64"):  # the client re-raises handler errors
        c.event("ledger", "append", "x" * 65)
    assert c.tree.find("e3") is None


def test_small_buffer_announces_two_replay_messages() -> None:
    c = client("/small-buffer")
    assert c.messages[0]["limits"]["replay_messages"] == 2
    c.click("inc")
    assert c.text("count") == "Count: 1"


def test_private_requires_a_user() -> None:
    with pytest.raises(ServerError, match="unauthorized"):
        client("/private")
    assert client("/private", user="ada").text("count") == "Count: 0"


def test_fallback_substitutes_what_the_client_did_not_declare() -> None:
    w = Wire(APP)
    _, snapshot = w.hello(path="/fallback", components={"Column": 1, "Text": 1, "Button": 1})
    assert snapshot["root"]["children"] == [
        {"id": "t", "type": "Text", "props": {"text": "plain"}},
        {"id": "in", "type": "Column", "props": {"fallback": "TextInput"}},
        {"id": "probe", "type": "Column", "props": {"fallback": "Probe"}, "children": [
            {"id": "inside", "type": "Text", "props": {"text": "inside"}},
        ]},
    ]  # fmt: skip
