from __future__ import annotations

from pathlib import Path

import phloem as ph
import pytest
from phloem.app import AppNotFound
from phloem.ui import DuplicateIdError, render
from sdk_support import REPO

EXAMPLES = REPO / "sdk-python" / "examples"
FIXTURES = REPO / "sdk-python" / "fixtures"


def test_the_public_surface_is_exactly_what_we_mean() -> None:
    assert sorted(ph.__all__) == sorted(
        [
            "App",
            "Button",
            "Column",
            "Component",
            "Element",
            "Event",
            "JobCancelled",
            "JobHandle",
            "JobProgress",
            "Link",
            "State",
            "Text",
            "TextInput",
            "UI",
            "jobs",
            "load_app",
            "runtime",
            "testing",
        ]
    )
    for name in ph.__all__:
        assert getattr(ph, name) is not None
    assert sorted(ph.runtime.__all__) == [
        "Connection",
        "ErrorHook",
        "Hub",
        "Limits",
        "Output",
        "Session",
        "TreeTooLarge",
        "UnknownSession",
        "default_token",
    ]
    assert sorted(ph.testing.__all__) == ["ServerError", "TestClient"]


def test_the_counter_example_counts_clicks() -> None:
    client = ph.testing.TestClient(ph.load_app(EXAMPLES / "counter.py"))
    assert client.text("count") == "Count: 0"
    client.click("inc")
    client.click("inc")
    assert client.text("count") == "Count: 2"
    assert client.text("inc") == "Increment"
    assert [c.id for c in client.tree.children] == ["count", "inc"]


def test_two_test_clients_have_separate_state() -> None:
    app = ph.load_app(EXAMPLES / "counter.py")
    a, b = ph.testing.TestClient(app), ph.testing.TestClient(app)
    a.click("inc")
    assert (a.text("count"), b.text("count")) == ("Count: 1", "Count: 0")


def test_test_client_raises_the_apps_own_exception() -> None:
    app = ph.App("bad")

    @app.page("/")
    def page(ui: ph.UI) -> ph.Element:
        return ph.Column(ph.Button("x", id="x", on_click=lambda e: [][1]))

    client = ph.testing.TestClient(app)
    with pytest.raises(IndexError):
        client.click("x")


def test_test_client_raises_the_error_of_a_page_that_cannot_render() -> None:
    app = ph.App("broken")

    @app.page("/")
    def page(ui: ph.UI) -> object:
        return 42

    with pytest.raises(TypeError, match="must return a component"):
        ph.testing.TestClient(app)


def test_test_client_raises_coded_server_errors() -> None:
    client = ph.testing.TestClient(ph.load_app(EXAMPLES / "counter.py"))
    with pytest.raises(ph.testing.ServerError) as info:
        client.click("nowhere")
    assert info.value.code == "unknown_node"


def test_fixture_apps_serve_counter_and_unknown_component() -> None:
    app = ph.load_app(FIXTURES / "apps.py")
    counter = ph.testing.TestClient(app, path="/counter")
    counter.click("inc")
    assert counter.text("count") == "Count: 1"
    unknown = ph.testing.TestClient(app, path="/unknown-component").tree
    assert unknown.to_wire() == {
        "id": "root",
        "type": "Column",
        "children": [
            {
                "id": "spark",
                "type": "Sparkline",
                "props": {"values": [1, 2, 3]},
                "children": [{"id": "inside", "type": "Text", "props": {"text": "inside"}}],
            },
            {"id": "after", "type": "Text", "props": {"text": "after"}},
        ],
    }


def test_nodes_without_ids_get_stable_ids_from_their_position() -> None:
    def page() -> ph.Element:
        return ph.Column(ph.Text("a"), ph.Column(ph.Text("b"), id="box"), ph.Button("go"))

    first, _, _ = render(page())
    second, _, _ = render(page())
    assert [n.id for n in first.walk()] == ["root", "root.0", "box", "box.0", "root.2"]
    assert first == second


def test_duplicate_ids_in_one_tree_are_an_author_error_naming_the_id() -> None:
    with pytest.raises(DuplicateIdError, match="two components have id 'x': a Text and a Button"):
        render(ph.Column(ph.Text("a", id="x"), ph.Button("b", id="x")))
    with pytest.raises(DuplicateIdError):
        render(ph.Column(ph.Text("a", id="root")))


@pytest.mark.parametrize("bad", ["", "has space", "x" * 129, "é"])
def test_an_id_outside_the_node_id_pattern_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="node id"):
        ph.Text("a", id=bad)


def test_a_page_must_return_a_component() -> None:
    with pytest.raises(TypeError, match="must return a component"):
        render("hello")


def test_default_props_are_not_sent() -> None:
    root, handlers, index = render(ph.Column(ph.Button("Go", id="go", on_click=print)))
    assert root.to_wire() == {
        "id": "root",
        "type": "Column",
        "children": [{"id": "go", "type": "Button", "props": {"label": "Go"}}],
    }
    assert set(handlers) == {"go"} and set(index) == {"root", "go"}


def test_load_app_needs_exactly_one_app(tmp_path: Path) -> None:
    none = tmp_path / "none.py"
    none.write_text("x = 1\n")
    two = tmp_path / "two.py"
    two.write_text("import phloem as ph\na = ph.App('a')\nb = ph.App('b')\n")
    alias = tmp_path / "alias.py"
    alias.write_text("import phloem as ph\napp = ph.App('a')\nsame = app\n")
    with pytest.raises(AppNotFound, match="defines no phloem App"):
        ph.load_app(none)
    with pytest.raises(AppNotFound, match="several"):
        ph.load_app(two)
    with pytest.raises(AppNotFound, match="no such file"):
        ph.load_app(tmp_path / "missing.py")
    assert ph.load_app(alias).name == "a"


def test_two_pages_at_one_path_are_refused() -> None:
    app = ph.App("x")
    app.page("/")(lambda ui: ph.Text("a"))
    with pytest.raises(ValueError, match="already has a page"):
        app.page("/")(lambda ui: ph.Text("b"))
