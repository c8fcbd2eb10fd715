"""The clustering example in Chromium: a job's live progress survives a page reload and its
result arrives; cancel stops a job. The example's steps are gated by files the test creates
(a wrapper app patches its step functions), so the page is reloaded mid-run for certain."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO
from live import phloem_run
from test_browser import CHROMIUM_ARGS, DIST

pytestmark = [pytest.mark.socket, pytest.mark.subprocess]  # starts servers and worker processes

EXAMPLES = REPO / "sdk-python" / "examples"
SCREENSHOT = REPO / "out" / "browser" / "clustering.png"
RUNNING = REPO / "out" / "browser" / "clustering-running.png"
BUDGET_MS = 60_000  # spawning workers and importing scikit-learn on a loaded 2-core machine

# The example, with each KMeans fit waiting for "k-<k>" and each feature score for
# "features-go" in the gate directory: the test decides when a job moves on.
WRAPPER = """
import sys
import time
from pathlib import Path

sys.path.insert(0, {examples!r})
import clustering

GATE = Path({gate!r})
_fit_k, _cv_score = clustering.fit_k, clustering.cv_score


def wait(name):
    while not (GATE / name).exists():
        time.sleep(0.005)


def fit_k(k):
    wait(f"k-{{k}}")
    return _fit_k(k)


def cv_score(columns):
    wait("features-go")
    return _cv_score(columns)


clustering.fit_k, clustering.cv_score = fit_k, cv_score
app = clustering.app
"""


@pytest.mark.browser
def test_a_job_survives_a_reload_and_cancel_stops_one_in_chromium(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    if not (DIST / "index.html").is_file():
        pytest.fail(f"the React renderer is not built ({DIST / 'index.html'} is missing)")
    gate = tmp_path / "gate"
    gate.mkdir()
    app = tmp_path / "clustering_gated.py"
    app.write_text(WRAPPER.format(examples=str(EXAMPLES), gate=str(gate)))

    def release(name: str) -> None:
        (gate / name).write_text("")

    env = {"PHLOEM_JOB_WORKERS": "2"}
    with (
        phloem_run(app, tmp_path / "data", env=env, timeout=120) as server,
        sync_playwright() as pw,
    ):
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 1400})
            problems: list[str] = []
            page.on("pageerror", lambda exc: problems.append(str(exc)))
            page.goto(server.url + "/")
            page.locator('[data-node-id="run-kmeans"]').click()
            sweep = page.locator('[data-node-id="kmeans-job"]')
            expect(sweep).to_contain_text("running · k = 2", timeout=BUDGET_MS)
            release("k-2")
            expect(sweep).to_contain_text("k = 3", timeout=BUDGET_MS)
            expect(sweep).to_contain_text("k=2 silhouette=", timeout=BUDGET_MS)  # the log tail

            page.reload()  # mid-run: the job is the browser's, not the connection's
            sweep = page.locator('[data-node-id="kmeans-job"]')
            expect(sweep).to_contain_text("running · k = 3", timeout=BUDGET_MS)
            # The value is on the node's bar (spec/1.1/components/JobProgress.md): 1 of 9 values of k.
            sweep_bar = page.locator('[data-node-id="kmeans-job/bar"]')
            expect(sweep_bar).to_have_attribute("aria-valuenow", "11")
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(RUNNING), animations="disabled")  # a job mid-run
            for k in range(3, 11):
                release(f"k-{k}")
            expect(sweep).to_contain_text("succeeded", timeout=BUDGET_MS)
            table = page.locator('[data-node-id="kmeans-result"]')
            expect(table).to_contain_text(re.compile(r"3\s+0\.285\s+1277\.9\s+best"))

            page.locator('[data-node-id="run-features"]').click()
            features = page.locator('[data-node-id="features-job"]')
            expect(features).to_contain_text("feature 1 of 5", timeout=BUDGET_MS)
            page.locator('[data-node-id="features-job/cancel"]').click()
            release("features-go")  # the job's next progress() call raises
            expect(features).to_contain_text("cancelled", timeout=BUDGET_MS)
            expect(page.locator('[data-node-id="features-result"]')).to_have_count(0)

            page.locator('[data-node-id="run-mapper"]').click()  # not gated
            links = page.locator('[data-node-id="mapper-links"]')
            expect(links).to_contain_text("clusters", timeout=BUDGET_MS)
            # A succeeded job's bar is full (PHL-JOB-027: its terminal state carries fraction 1).
            for job in ("kmeans-job", "mapper-job"):
                expect(page.locator(f'[data-node-id="{job}"]')).to_contain_text("succeeded")
                bar = page.locator(f'[data-node-id="{job}/bar"]')
                expect(bar).to_have_attribute("aria-valuenow", "100")
            assert_layout(page)
            # Transitions finish first: a bar is shown where it ends, not mid-way.
            page.screenshot(path=str(SCREENSHOT), full_page=True, animations="disabled")
            # A reader who asked for less motion gets a bar that jumps, not one that slides.
            fill = page.locator('[data-node-id="mapper-job"] .ph-job__fill')
            assert fill.evaluate("e => getComputedStyle(e).transitionDuration") != "0s"
            page.emulate_media(reduced_motion="reduce")
            assert fill.evaluate("e => getComputedStyle(e).transitionDuration") == "0s"
            assert problems == []
        finally:
            browser.close()


# Every JobProgress's bar as wide as its component, and its log one line per row (stacked,
# each row starting at the box's left edge), read from the page's layout.
LAYOUT_JS = """
() => [...document.querySelectorAll('[data-node-type="JobProgress"][role="group"]')].map((job) => {
  const bar = job.querySelector('.ph-job__bar').getBoundingClientRect();
  const rows = [...job.querySelectorAll('.ph-job__line')].map((r) => r.getBoundingClientRect());
  return {
    id: job.dataset.nodeId,
    job: job.getBoundingClientRect().width,
    bar: bar.width,
    lefts: [...new Set(rows.map((r) => Math.round(r.left)))].length,
    stacked: rows.every((r, i) => i === 0 || r.top >= rows[i - 1].bottom - 0.5),
    rows: rows.length,
  };
})
"""


def assert_layout(page: Any) -> None:
    jobs = page.evaluate(LAYOUT_JS)
    assert [j["id"] for j in jobs] == ["kmeans-job", "features-job", "mapper-job"]
    for j in jobs:
        assert abs(j["bar"] - j["job"]) < 1, j  # the bar spans the component
        assert j["stacked"] and j["lefts"] <= 1, j  # one log line per row
    assert jobs[0]["bar"] == jobs[1]["bar"] == jobs[2]["bar"], jobs  # siblings alike
    assert jobs[0]["rows"] == 4 and jobs[2]["rows"] == 4, jobs  # the example shows 4 lines
