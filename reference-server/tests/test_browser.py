"""The whole stack in Debian's Chromium: `phloem run` + the built React renderer."""

from pathlib import Path

import pytest
from conftest import COUNTER_EXAMPLE, FIXTURE_APPS, REPO
from live import TcpProxy, phloem_run

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


# In the page: when the `online` event fires, and when the status indicator next says "open".
WATCH_RESUME = """() => { window.__phloemResumed = new Promise((resolve) => {
  let online = null;
  window.addEventListener("online", () => { online = performance.now(); }, {once: true});
  const status = () => document.querySelector("[data-status]")?.dataset.status;
  const mo = new MutationObserver(() => {
    if (online !== null && status() === "open") { mo.disconnect(); resolve(performance.now() - online); }
  });
  mo.observe(document.body, {subtree: true, attributes: true, attributeFilter: ["data-status"]});
}); }"""
OFFLINE = {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}


@pytest.mark.browser
def test_clicks_survive_a_network_drop_and_resume_in_chromium(tmp_path: Path):
    """Two clicks, the network dies (every TCP connection reset, the browser offline), it
    comes back, the renderer resumes its session; a third click shows "Count: 3"."""
    from playwright.sync_api import expect, sync_playwright

    if not (DIST / "index.html").is_file():
        pytest.fail(f"the React renderer is not built ({DIST / 'index.html'} is missing)")
    with phloem_run(COUNTER_EXAMPLE, tmp_path) as server, sync_playwright() as pw:
        proxy = TcpProxy(int(server.url.rsplit(":", 1)[1]))
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            problems: list[str] = []
            page.on("pageerror", lambda exc: problems.append(str(exc)))
            sockets: list[str] = []
            page.on("websocket", lambda ws: sockets.append(ws.url))
            page.goto(proxy.url + "/")
            count = page.locator('[data-node-id="count"]')
            status = page.locator("[data-status]")
            expect(count).to_be_visible()
            for _ in range(2):
                page.locator('[data-node-id="inc"]').click()
            expect(count).to_have_text("Count: 2")

            # Network down: CDP offline (no new connections, `offline` fires) and every
            # open TCP connection reset, which is what CDP offline alone does not do.
            cdp = page.context.new_cdp_session(page)
            cdp.send("Network.emulateNetworkConditions", OFFLINE)
            proxy.down()
            expect(status).to_have_attribute("data-status", "reconnecting")
            page.wait_for_timeout(300)  # a failed attempt or two, into the backoff
            page.evaluate(WATCH_RESUME)
            # Network back: the renderer resumes on `online` without waiting out its backoff.
            proxy.up()
            cdp.send("Network.emulateNetworkConditions", {**OFFLINE, "offline": False})
            ms = page.evaluate("window.__phloemResumed")
            print(f"\nnetwork back -> resumed (status open): {ms:.1f} ms")
            expect(status).to_have_attribute("data-status", "open")
            expect(count).to_have_text("Count: 2")  # the same session, not a new one at 0
            page.locator('[data-node-id="inc"]').click()
            expect(count).to_have_text("Count: 3")
            assert len(sockets) >= 2  # a second WebSocket, not the first one surviving
            assert ms < 1000  # the brief: resumed within 1 s of the network returning
            assert problems == []
        finally:
            browser.close()
            proxy.close()


@pytest.mark.browser
@pytest.mark.parametrize("delay_ms", [0, 5, 30])
def test_fast_typing_is_never_overwritten_by_older_answers_in_chromium(
    tmp_path: Path, delay_ms: int
):
    """The echo rule end to end (PHL-COMP-021): the user types while the server's answers to
    earlier keystrokes (upper-cased by /input-upper) are in flight. Patches computed from an
    older text never overwrite newer typing, so no keystroke is lost or reordered, and once
    every change is answered the field shows the server's text."""
    from playwright.sync_api import expect, sync_playwright

    if not (DIST / "index.html").is_file():
        pytest.fail(f"the React renderer is not built ({DIST / 'index.html'} is missing)")
    with phloem_run(FIXTURE_APPS, tmp_path) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            problems: list[str] = []
            page.on("pageerror", lambda exc: problems.append(str(exc)))
            sent: list[str] = []
            page.on(
                "websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload))
            )
            page.goto(server.url + "/input-upper")
            field = page.locator('[data-node-id="name"] input')
            expect(field).to_be_visible()
            text = "the quick brown fox jumps over the lazy dog"
            field.press_sequentially(text, delay=delay_ms)
            expect(field).to_have_value(text.upper())
            expect(page.locator('[data-node-id="greeting"]')).to_have_text(
                f"Hello, {text.upper()}!"
            )
            if delay_ms == 30:
                page.screenshot(path=str(SCREENSHOT.parent / "input-upper.png"))
            changes = [m for m in sent if '"name":"change"' in m.replace(" ", "")]
            assert changes, "no change event was sent"
            # Coalescing (PHL-COMP-020): fewer changes than keystrokes when typing fast.
            if delay_ms == 0:
                assert len(changes) < len(text)
            assert problems == []
        finally:
            browser.close()
