"""The generic browser adapter against a tiny page of our own (not any project renderer)."""

from __future__ import annotations

from pathlib import Path

import pytest
from phloem_conformance.cases import load_cases
from phloem_conformance.runner import run_sync
from phloem_conformance.schemas import load_protocol

from .conftest import CONFORMANCE, TESTS, python_command

pytestmark = pytest.mark.browser
CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium")
def test_the_browser_adapter_drives_a_page_through_every_renderer_case() -> None:
    adapter = python_command(CONFORMANCE / "adapters" / "playwright_renderer.py",
                             "--dist", str(TESTS / "browser_page"), "--name", "test-page")
    # The page is a 1.0 renderer (it offers no jobs feature): 1.1 cases are N/A for it, and it
    # must pass every 1.0 renderer case.
    renderer = [c for c in load_cases() if "renderer" in c.data["roles"]]
    cases = [c for c in renderer if c.data.get("since", "1.0") == "1.0"]
    assert len(cases) < len(renderer)  # the 1.1 renderer cases exist and are left out here
    implementation, results = run_sync(
        "renderer", adapter, cases, load_protocol(), timeout_factor=2, protocol="1.0"
    )
    assert implementation["implementation"]["name"] == "test-page"
    assert {r.case.id: r.status for r in results} == {c.id: "PASS" for c in cases}, [
        (r.case.id, r.reason, r.divergence) for r in results if r.status != "PASS"]
    fallback = next(r for r in results if r.case.id == "unknown-component-fallback")
    tree = next(e["data"] for e in fallback.transcript if e["dir"] == "render")
    assert tree["children"][0]["fallback"] is True
    assert tree["children"][0]["children"][0] == {
        "id": "inside", "type": "Text", "role": "text", "text": "inside", "children": []}


SNAPSHOT_PAGE = """<!doctype html><html><body>
<div data-node-id="root" data-node-type="Column" role="group">
  <a data-node-id="inert" data-node-type="Link" role="link" aria-disabled="true">Nowhere</a>
  <div data-node-id="wrapped" data-node-type="Link"><a href="https://example.com/docs" target="_blank">Docs</a></div>
  <span data-node-id="scripted" data-node-type="Link" role="link">Scripted</span>
  <div data-node-id="name" data-node-type="TextInput"><label for="f">Name</label><input id="f" value="Ada"></div>
  <div data-node-id="search" data-node-type="TextInput" role="searchbox" aria-label="Search"><input value="q"></div>
  <p data-node-id="para" data-node-type="Text" role="none">hello</p>
  <button data-node-id="go" data-node-type="Button" disabled>Go</button>
  <div data-node-id="odd" data-node-type="Card" role="group" data-fallback="true"><span>Unsupported component: Card</span></div>
</div></body></html>"""


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium")
def test_the_snapshot_takes_roles_from_aria_then_the_dom_and_names_controls_without_text() -> None:
    """The generic adapter's projection (spec/1.0/components): an explicit ARIA role wins (mapped
    to the Phloem role), an <a> is a link with or without href, a text field is a textbox whose
    value is what it displays; controls and links have a name, never a text."""
    import importlib.util

    from playwright.sync_api import sync_playwright

    spec = importlib.util.spec_from_file_location("playwright_renderer", CONFORMANCE / "adapters" / "playwright_renderer.py")
    assert spec is not None and spec.loader is not None
    adapter = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(adapter)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=adapter.CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_content(SNAPSHOT_PAGE)
            page.evaluate("document.getElementById('f').value = 'typed'")  # what the field shows, not its attribute
            tree = page.evaluate(adapter.SNAPSHOT_JS, [adapter.CORE_COMPONENTS.split(",")])
        finally:
            browser.close()
    nodes = {n["id"]: {k: v for k, v in n.items() if k != "children"} for n in tree["children"]}
    assert tree["role"] == "group" and "text" not in tree
    assert nodes == {
        "inert": {"id": "inert", "type": "Link", "role": "link", "name": "Nowhere"},
        "wrapped": {"id": "wrapped", "type": "Link", "role": "link", "name": "Docs", "href": "https://example.com/docs"},
        "scripted": {"id": "scripted", "type": "Link", "role": "link", "name": "Scripted"},
        "name": {"id": "name", "type": "TextInput", "role": "textbox", "name": "Name", "value": "typed", "enabled": True},
        "search": {"id": "search", "type": "TextInput", "role": "textbox", "name": "Search", "value": "q", "enabled": True},
        "para": {"id": "para", "type": "Text", "role": "text", "text": "hello"},
        "go": {"id": "go", "type": "Button", "role": "button", "name": "Go", "enabled": False},
        "odd": {"id": "odd", "type": "Card", "role": "group", "text": "Unsupported component: Card", "fallback": True},
    }


JOB_PAGE = """<!doctype html><html><body>
<div data-node-id="root" data-node-type="Column" role="group">
  <div data-node-id="jp" data-node-type="JobProgress" role="group" aria-label="Fit">
    <span id="s">running · k = 3</span><span aria-hidden="true" data-eta="2 s left"></span>
    <div data-node-id="jp/bar" data-node-type="JobProgress" role="progressbar" aria-label="Fit"
         aria-valuenow="40" aria-valuetext="40%" aria-describedby="s e"><div></div><span id="e" hidden>· 2 s left</span></div>
    <button data-node-id="jp/cancel" data-node-type="Button">Cancel</button>
  </div>
</div></body></html>"""


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium")
def test_the_snapshot_names_a_group_by_its_label_and_gives_a_progressbar_a_value_and_no_text() -> None:
    """JobProgress (spec/1.1/components/JobProgress.md): a group named by aria-label whose own
    text is the status line; its bar a progressbar with name and value (aria-valuetext), whose
    descendants (presentational in ARIA) project no text; Cancel beside the bar, not in it."""
    import importlib.util

    from playwright.sync_api import sync_playwright

    spec = importlib.util.spec_from_file_location("playwright_renderer", CONFORMANCE / "adapters" / "playwright_renderer.py")
    assert spec is not None and spec.loader is not None
    adapter = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(adapter)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=adapter.CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_content(JOB_PAGE)
            tree = page.evaluate(adapter.SNAPSHOT_JS, [[*adapter.CORE_COMPONENTS.split(","), "JobProgress"]])
        finally:
            browser.close()
    assert "name" not in tree  # a Column has no name
    assert tree["children"] == [{
        "id": "jp", "type": "JobProgress", "role": "group", "name": "Fit", "text": "running · k = 3",
        "children": [
            {"id": "jp/bar", "type": "JobProgress", "role": "progressbar", "name": "Fit", "value": "40%", "children": []},
            {"id": "jp/cancel", "type": "Button", "role": "button", "name": "Cancel", "enabled": True, "children": []},
        ],
    }]
