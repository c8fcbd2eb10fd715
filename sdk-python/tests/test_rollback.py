"""A handler that fails leaves nothing behind (PHL-EVT-010), in-place changes included: one
test per kind of value the journal protects, and what it does not copy."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import phloem as ph
import pytest
from phloem.testing import TestClient
from phloem.ui.state import UnprotectedStateWarning


class Boom(Exception):
    pass


def _app(default: Callable[[], Any], change: Callable[[Any], None], show: Callable[[Any], str]):
    """A page holding one value; "ok" changes it in place, "fail" changes it then raises."""
    app = ph.App("rollback")

    @app.page("/")
    def page(ui: ph.UI) -> ph.Element:
        held = ui.state("held", default())

        def ok(event: ph.Event) -> None:
            change(held.value)

        def fail(event: ph.Event) -> None:
            change(held.value)
            raise Boom

        return ph.Column(
            ph.Text(show(held.value), id="shown"),
            ph.Button("ok", id="ok", on_click=ok),
            ph.Button("fail", id="fail", on_click=fail),
        )

    return app


def _fails_then_succeeds(app: ph.App, before: str, after: str) -> None:
    client = TestClient(app)
    assert client.text("shown") == before
    with pytest.raises(Boom):
        client.click("fail")
    assert client.text("shown") == before
    client.click("ok")  # the next event sees the value as it was before the failure
    assert client.text("shown") == after


def test_a_list_changed_in_place_by_a_failing_handler_is_restored() -> None:
    app = _app(lambda: [1, [2]], lambda v: (v.append(3), v[1].append(9)), repr)
    _fails_then_succeeds(app, "[1, [2]]", "[1, [2, 9], 3]")


def test_a_dict_changed_in_place_by_a_failing_handler_is_restored() -> None:
    def change(v: dict[str, Any]) -> None:
        v["b"] = 2
        v["a"]["x"] += 1
        del v["c"]

    app = _app(lambda: {"a": {"x": 0}, "c": 3}, change, lambda v: repr(sorted(v.items())))
    _fails_then_succeeds(app, "[('a', {'x': 0}), ('c', 3)]", "[('a', {'x': 1}), ('b', 2)]")


def test_a_set_changed_in_place_by_a_failing_handler_is_restored() -> None:
    app = _app(lambda: {1, 2}, lambda v: v.symmetric_difference_update({1, 3}), sorted_repr)
    _fails_then_succeeds(app, "[1, 2]", "[2, 3]")


def sorted_repr(v: set[int]) -> str:
    return repr(sorted(v))


def test_a_numpy_array_changed_in_place_by_a_failing_handler_is_restored() -> None:
    def change(v: np.ndarray) -> None:
        v[0] = 100
        v *= 2

    app = _app(lambda: np.arange(3), change, lambda v: repr(v.tolist()))
    _fails_then_succeeds(app, "[0, 1, 2]", "[200, 2, 4]")


def test_a_dataframe_changed_in_place_by_a_failing_handler_is_restored() -> None:
    def change(v: pd.DataFrame) -> None:
        v.loc[0, "a"] = 100
        v["b"] = v["a"] * 2
        v.iloc[1, 0] = -1

    def show(v: pd.DataFrame) -> str:
        return repr(v.to_dict("list"))

    app = _app(lambda: pd.DataFrame({"a": [1, 2]}), change, show)
    _fails_then_succeeds(app, "{'a': [1, 2]}", "{'a': [100, -1], 'b': [200, 4]}")


def test_a_render_that_fails_after_the_handler_undoes_the_handler() -> None:
    app = ph.App("render fails")

    @app.page("/")
    def page(ui: ph.UI) -> ph.Element:
        items = ui.state("items", [])
        if len(items.value) > 1:
            raise Boom  # the page cannot show two items
        return ph.Column(
            ph.Text(repr(items.value), id="shown"),
            ph.Button("add", id="add", on_click=lambda e: items.value.append(len(items.value))),
        )

    client = TestClient(app)
    client.click("add")
    with pytest.raises(Boom):
        client.click("add")
    assert client.text("shown") == "[0]"
    assert client.hub.session(client.session).store["items"] == [0]  # type: ignore[union-attr]


def test_a_failing_push_leaves_nothing_behind() -> None:
    app = _app(lambda: [1], lambda v: v.append(2), repr)
    client = TestClient(app)

    def push(ui: ph.UI) -> None:
        ui.state("held", []).value.append(7)
        raise Boom

    with pytest.raises(Boom):
        client.post(push)
    assert client.hub.session(client.session).store["held"] == [1]  # type: ignore[union-attr]


def test_values_the_handler_does_not_reach_are_not_copied() -> None:
    copies: list[str] = []

    class Counted(list[int]):
        def __deepcopy__(self, memo: dict[int, Any]) -> Counted:
            copies.append("copied")
            return Counted(self)

    app = ph.App("untouched")

    @app.page("/")
    def page(ui: ph.UI) -> ph.Element:
        big = ui.state("big", Counted(range(10)))  # read by the page, never by the handler
        count = ui.state("count", 0)
        return ph.Column(
            ph.Text(f"{len(big.value)} / {count.value}", id="shown"),
            ph.Button("inc", id="inc", on_click=lambda e: count.set(count.value + 1)),
        )

    client = TestClient(app)
    for _ in range(3):
        client.click("inc")
    assert client.text("shown") == "10 / 3" and copies == []


def test_storing_a_value_the_journal_cannot_protect_warns() -> None:
    class Model:
        weights = 0

    app = ph.App("unprotected")

    @app.page("/")
    def page(ui: ph.UI) -> ph.Element:
        ui.state("model", Model())
        return ph.Text("ok", id="t")

    with pytest.warns(UnprotectedStateWarning, match=r"ui.state\('model'\) holds a .*Model"):
        TestClient(app)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # lists, arrays and frames store silently
        TestClient(_app(lambda: [np.zeros(2), pd.DataFrame()], lambda v: None, repr))
