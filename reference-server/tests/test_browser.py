"""The whole stack in Debian's Chromium: `phloem run` + the built React renderer."""

from pathlib import Path

import pytest
from conftest import COUNTER_EXAMPLE, REPO
from live import phloem_run

DIST = REPO / "renderer-react" / "dist"
SCREENSHOT = REPO / "out" / "browser" / "counter.png"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.mark.browser
def test_three_clicks_show_count_3_in_chromium(tmp_path: Path):
    from playwright.sync_api import expect, sync_playwright

    if not (DIST / "index.html").is_file():
        pytest.fail(
            f"the React renderer is not built ({DIST / 'index.html'} is missing): "
            "run `make test` (it builds renderer-react first) or `npm --prefix renderer-react run build`"
        )
    with phloem_run(COUNTER_EXAMPLE, tmp_path) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            problems: list[str] = []  # script errors and console errors (e.g. CSP violations)
            page.on("pageerror", lambda exc: problems.append(str(exc)))
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.goto(server.url + "/")
            count = page.locator('[data-node-id="count"]')
            expect(count).to_be_visible()  # first render before the first click
            for _ in range(3):
                page.locator('[data-node-id="inc"]').click()
            expect(count).to_have_text("Count: 3")
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))
            assert problems == []
        finally:
            browser.close()
