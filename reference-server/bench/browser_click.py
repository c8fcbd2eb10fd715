"""Click → DOM updated in Chromium, the brief's headline latency, Daphne vs uvicorn.

    .venv/bin/python reference-server/bench/browser_click.py [--clicks 300] [--rounds 2]

Needs renderer-react/dist. Timing runs inside the page: performance.now() at the click, and
again when a MutationObserver sees the count's text change. Clicks are paced under the
protocol's event rate limit."""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from live import phloem_run  # noqa: E402
from test_browser import CHROMIUM_ARGS  # noqa: E402

REPO = HERE.parents[1]
APP = REPO / "sdk-python" / "examples" / "counter.py"
MEASURE = """async ([n, pace]) => {
  const count = () => document.querySelector('[data-node-id="count"]');
  const times = [];
  for (let i = 0; i < n; i++) {
    const before = count().textContent;
    const changed = new Promise((resolve) => {
      const mo = new MutationObserver(() => {
        if (count().textContent !== before) { mo.disconnect(); resolve(performance.now()); }
      });
      mo.observe(document.body, {subtree: true, childList: true, characterData: true});
    });
    const t0 = performance.now();
    document.querySelector('[data-node-id="inc"]').click();
    times.push((await changed) - t0);
    await new Promise((r) => setTimeout(r, pace));
  }
  return times;
}"""


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser()
    parser.add_argument("--clicks", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--pace-ms", type=int, default=25)
    args = parser.parse_args()
    results: dict[str, list[float]] = {"daphne": [], "uvicorn": []}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for _ in range(args.rounds):
            for server, times in results.items():
                with (
                    tempfile.TemporaryDirectory() as data,
                    phloem_run(APP, Path(data), server) as s,
                ):
                    page = browser.new_page()
                    page.goto(s.url + "/")
                    page.locator('[data-node-id="count"]').wait_for()
                    times.extend(page.evaluate(MEASURE, [args.clicks, args.pace_ms])[20:])
                    page.close()
        browser.close()
    print(f"click -> DOM updated in Chromium, {args.rounds} x {args.clicks} clicks")
    for server, times in results.items():
        q = statistics.quantiles(times, n=100)
        print(
            f"{server:8} p50 {q[49]:.2f} ms  p95 {q[94]:.2f} ms  mean {statistics.fmean(times):.2f} ms"
        )


if __name__ == "__main__":
    main()
