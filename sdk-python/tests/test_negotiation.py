"""Component negotiation (design §1, PHL-HS-016): a client that declares its components never
receives a type it did not declare, in snapshots or patches."""

from __future__ import annotations

import json

import phloem as ph
from phloem.protocol.catalog import CORE, sent_as_themselves
from phloem.protocol.tree import Node, apply
from sdk_support import SCHEMAS, Wire

BASIC = {"Column": 1, "Text": 1, "Button": 1}


def mixed_app() -> ph.App:
    app = ph.App("Mixed")

    @app.page("/")
    def home(ui: ph.UI) -> ph.Element:
        shown = ui.state("shown", False)
        extra = [ph.Component("Probe", {"x": 1}, ph.Text("in probe", id="deep"), id="late")]
        return ph.Column(
            ph.Text("plain", id="t"),
            ph.TextInput("In", id="in"),
            ph.Component(
                "Probe",
                {"a": 1},
                ph.Text("inside", id="inside"),
                id="probe",
                on={"poke": lambda e: shown.set(True)},
            ),
            ph.Button("Show", id="show", on_click=lambda e: shown.set(True)),
            *(extra if shown.value else []),
        )

    return app


def test_the_catalog_matches_the_component_schemas() -> None:
    schemas = {}
    for path in (SCHEMAS / "components").glob("*.schema.json"):
        meta = json.loads(path.read_text(encoding="utf-8"))["x-phloem"]
        schemas[meta["type"]] = (meta["version"], frozenset(meta["events"]))
    assert {k: (v.version, v.events) for k, v in CORE.items()} == schemas


def test_undeclared_types_arrive_as_column_fallbacks_with_id_and_children() -> None:
    w = Wire(mixed_app())
    welcome, snapshot = w.hello(components=BASIC)
    assert welcome["components"] == BASIC
    root = snapshot["root"]
    assert [c["type"] for c in root["children"]] == ["Text", "Column", "Column", "Button"]
    assert root["children"][1] == {"id": "in", "type": "Column", "props": {"fallback": "TextInput"}}
    assert root["children"][2] == {
        "id": "probe",
        "type": "Column",
        "props": {"fallback": "Probe"},
        "children": [{"id": "inside", "type": "Text", "props": {"text": "inside"}}],
    }


def test_patches_are_diffs_of_substituted_trees() -> None:
    w = Wire(mixed_app())
    _, snapshot = w.hello(components=BASIC)
    (patch,) = w.click(1, node="show")
    inserted = [op["insert"] for op in patch["ops"] if "insert" in op]
    assert inserted == [
        {
            "id": "late",
            "type": "Column",
            "props": {"fallback": "Probe"},
            "children": [{"id": "deep", "type": "Text", "props": {"text": "in probe"}}],
        }
    ]
    tree = apply(Node.from_wire(snapshot["root"]), patch["ops"])
    (fresh,) = w.send({"type": "resync"})
    assert tree == Node.from_wire(fresh["root"])
    assert not any(n.type in ("Probe", "TextInput") for n in tree.walk())


def test_an_event_on_a_substituted_node_reaches_the_original() -> None:
    w = Wire(mixed_app())
    w.hello(components=BASIC)
    (patch,) = w.send({"type": "event", "id": 1, "node": "probe", "name": "poke"})
    assert [op["insert"]["id"] for op in patch["ops"]] == ["late"]
    # The original type decides which events exist: a Column has no click, a Probe no click.
    (error,) = w.send({"type": "event", "id": 2, "node": "probe", "name": "click"})
    assert error["code"] == "unknown_event"


def test_a_change_on_a_substituted_text_input_is_acked_and_kept() -> None:
    w = Wire(mixed_app())
    w.hello(components=BASIC)
    (ack,) = w.send({"type": "event", "id": 1, "node": "in", "name": "change", "value": "typed"})
    assert ack == {"type": "ack", "seq": 3, "event": 1}  # the client's tree did not change
    assert w.hub.session("s1").inputs == {"in": "typed"}  # type: ignore[union-attr]


def test_a_lower_major_version_than_the_servers_gets_the_fallback() -> None:
    assert sent_as_themselves({"Text": 1, "Button": 0, "Probe": 3, "Column": 2}) == {
        "Text": 1,
        "Probe": 3,
        "Column": 2,
    }


def test_every_declared_type_is_sent_as_itself() -> None:
    w = Wire(mixed_app())
    declared = {**BASIC, "TextInput": 1, "Probe": 1}
    welcome, snapshot = w.hello(components=declared)
    assert welcome["components"] == declared
    assert [c["type"] for c in snapshot["root"]["children"]] == [
        "Text", "TextInput", "Probe", "Button",
    ]  # fmt: skip
    (patch,) = w.send({"type": "event", "id": 1, "node": "probe", "name": "poke"})
    assert patch["type"] == "ui.patch"


def test_without_hello_components_every_type_is_sent_as_it_is() -> None:
    w = Wire(mixed_app())
    welcome, snapshot = w.hello()
    assert "components" not in welcome
    assert snapshot["root"]["children"][2]["type"] == "Probe"
