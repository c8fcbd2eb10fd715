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
    cases = [c for c in load_cases() if "renderer" in c.data["roles"]]
    implementation, results = run_sync("renderer", adapter, cases, load_protocol(), timeout_factor=2)
    assert implementation["implementation"]["name"] == "test-page"
    assert {r.case.id: r.status for r in results} == {c.id: "PASS" for c in cases}, [
        (r.case.id, r.reason, r.divergence) for r in results if r.status != "PASS"]
    fallback = next(r for r in results if r.case.id == "unknown-component-fallback")
    tree = next(e["data"] for e in fallback.transcript if e["dir"] == "render")
    assert tree["children"][0]["fallback"] is True
    assert tree["children"][0]["children"][0] == {
        "id": "inside", "type": "Text", "role": "text", "text": "inside", "children": []}
