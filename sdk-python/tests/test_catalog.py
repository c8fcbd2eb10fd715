"""The catalog generated from the schemas' x-phloem blocks: props checked when authored, event
values checked against their value schemas, one generic bound-value behaviour for every input
component, and the error table with its fault sides."""

from __future__ import annotations

import json
from typing import Any

import phloem as ph
import pytest
from phloem.protocol.catalog import CORE, Bound, ComponentInfo
from phloem.protocol.errors import (
    ERROR_TABLE,
    SERVER_FAULTS,
    RemoteProtocolError,
    ServerFault,
)
from phloem.runtime import Limits, Session
from phloem.runtime import session as session_module
from phloem.testing import ServerError, TestClient
from phloem.ui import bound
from sdk_support import SCHEMAS


def test_a_wrong_variant_fails_when_authored_with_the_allowed_values() -> None:
    with pytest.raises(ValueError) as err:
        ph.Button("Go", variant="huge")  # type: ignore[arg-type]  # what mypy catches too
    assert str(err.value) == "Button: variant must be one of 'primary', 'secondary', 'danger', not 'huge'"


def test_out_of_range_and_mistyped_props_fail_when_authored() -> None:
    with pytest.raises(ValueError, match=r"Column: gap must be a number from 0 to 256, not 300"):
        ph.Column(gap=300)
    with pytest.raises(ValueError, match=r"Text: variant must be one of"):
        ph.Text("x", variant="title")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"TextInput: label must be a string of at most 256"):
        ph.TextInput("x" * 257)


def test_component_is_the_unchecked_escape_hatch() -> None:
    # A raw node may carry anything; renderers treat invalid props as absent (PHL-COMP-004).
    assert ph.Component("Button", {"label": 5}).props == {"label": 5}


def test_the_catalog_has_every_component_schema_and_its_event_value_schemas() -> None:
    for path in (SCHEMAS / "components").glob("*.schema.json"):
        meta = json.loads(path.read_text(encoding="utf-8"))["x-phloem"]
        info = CORE[meta["type"]]
        assert info.version == meta["version"] and info.events == frozenset(meta["events"])
        assert (info.bound is None) == ("bound" not in meta)
    accepts, words = CORE["TextInput"].values["change"]
    assert accepts("hi") and not accepts(5) and not accepts("x" * 65537)
    assert words == "a string of at most 65536 characters"
    assert CORE["Button"].values["click"][0]({"anything": 1})  # click's schema has no constraint


def test_the_error_table_is_the_schemas() -> None:
    schema = json.loads((SCHEMAS / "defs" / "error-code.schema.json").read_text(encoding="utf-8"))
    rows = schema["x-phloem"]["errors"]
    # 1.1 adds codes beside a $ref to 1.0's list, each with its row (PHL-JOB-051).
    later = json.loads((SCHEMAS.parent / "1.1" / "defs" / "error-code.schema.json").read_text(encoding="utf-8"))
    rows = {**rows, **later["x-phloem"]["errors"]}
    added = [b["const"] for b in later["anyOf"] if "const" in b]
    assert added == ["unknown_job"]
    assert list(ERROR_TABLE) == schema["enum"] + added
    for code, info in ERROR_TABLE.items():
        row = rows[code]
        assert (info.fault, info.survives, info.close) == (row["fault"], row["survives"], row.get("close"))
    assert {"handler_error", "internal_error", "tree_too_large"} == SERVER_FAULTS


def test_server_faults_are_not_the_peers() -> None:
    with pytest.raises(ValueError, match="server's fault"):
        RemoteProtocolError("handler_error", "x")
    with pytest.raises(ValueError, match="client's fault"):
        ServerFault("invalid_message", "x")
    assert not issubclass(ServerFault, RemoteProtocolError)


def _session(page: Any) -> Session:
    session = Session("s", "t" * 16, page, "/", Limits(), 0.0)
    session.start()
    return session


def test_a_failing_handler_is_a_server_fault() -> None:
    def page(ui: ph.UI) -> ph.Element:
        return ph.Column(ph.Button("Boom", id="b", on_click=lambda e: 1 / 0))

    session = _session(page)
    run = session.handle_event({"type": "event", "id": 1, "node": "b", "name": "click"}, 0.0)
    assert callable(run)  # app code: the shell decides where it runs
    with pytest.raises(ServerFault) as err:
        run()
    assert err.value.code == "handler_error" and err.value.extra["event"] == 1


def test_an_event_value_outside_its_schema_is_invalid_message_naming_the_schema() -> None:
    client = TestClient(_input_app())
    with pytest.raises(ServerError) as err:
        client.event("name", "change", 5)
    assert err.value.code == "invalid_message"
    assert "must be a string of at most 65536 characters" in err.value.message["message"]


def _input_app() -> ph.App:
    app = ph.App("t")

    @app.page("/")
    def home(ui: ph.UI) -> ph.Element:
        return ph.Column(
            ph.TextInput("Name", id="name"),
            ph.Component("Stepper", {"label": "n"}, id="n"),
        )

    return app


def test_any_input_the_catalog_declares_bound_gets_session_kept_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nothing in the SDK names TextInput: a component whose schema declares a bound value
    (here a made-up Stepper with an integer value) gets the checks and the kept value."""
    stepper = ComponentInfo(
        1,
        frozenset({"change"}),
        {"change": (lambda v: type(v) is int and 0 <= v <= 10, "an integer from 0 to 10")},
        Bound("value", "change", 0),
    )
    monkeypatch.setitem(bound.CORE, "Stepper", stepper)  # type: ignore[index]
    monkeypatch.setitem(bound.BOUND, "Stepper", stepper.bound)  # type: ignore[index]
    monkeypatch.setitem(session_module.CATALOG_EVENTS, "Stepper", stepper.events)  # type: ignore[index]
    client = TestClient(_input_app())
    assert client.find("n").props["value"] == 0  # the declared default while unset
    client.event("n", "change", 7)
    assert client.find("n").props["value"] == 7  # kept by the session (PHL-COMP-022)
    with pytest.raises(ServerError) as err:
        client.event("n", "change", 11)
    assert err.value.code == "invalid_message"
    assert "an integer from 0 to 10" in err.value.message["message"]
    assert client.find("n").props["value"] == 7
