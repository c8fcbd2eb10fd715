"""Long-running jobs (issue 10): what progress costs a job, how fast the first progress shows,
what rate a browser sees, what 100 busy jobs cost other sessions, and how fast a job starts.

    .venv/bin/python bench/bench_jobs.py [--quick] [--celery]

- progress() cost: a job loop calibrated to 100,000 iterations/s, timed with and without a
  progress() call per iteration (best of 5 each); and the cost of one call.
- click Run -> first progress in the DOM, in Chromium: the job's first step takes 20 ms, then it
  reports; timed in the page from the click to the JobProgress text showing the report. The
  floor, in the same run: a bare `websockets` server whose page sends one message on click,
  sleeps 20 ms and answers once (vanilla JS sets a div's text).
- updates per second a browser sees while a job calls progress() as fast as it can (3 s).
- click p50 of another session (event -> its patch, Python client) idle, then while 100 jobs
  report as fast as they can (each bounded to 20 s; cancelled when measured).
- job start -> running (event sent -> job.state running at the client): embedded, and with
  --celery through Celery + Redis with a no-op Celery task's round trip as the floor.
Every load is bounded in count and in time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _common import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DIST,
    REPO,
    Row,
    Running,
    cpu_seconds,
    phloem_run,
    quantile,
    vs_floor,
)

TARGET_PROGRESS = "<= 5 %"
TARGET_FIRST = 1.1  # x the floor (a bare WebSocket page whose server sleeps 20 ms)
TARGET_RATE = "10-30/s"
TARGET_LOAD = 2.0  # x the same click's p50 with no job running

APP = """
import json
import time

import phloem as ph

app = ph.App("Jobs bench")


@app.job(supersede=True)
def first(params, progress):
    time.sleep(0.02)  # the first step
    progress(0.5, stage="step 1")
    time.sleep(params.get("hold", 0.3))
    return 1


@app.job
def flood(params, progress):
    # Reports as fast as it can for params["seconds"]; the fraction is the time spent.
    seconds = params["seconds"]
    start = time.perf_counter()
    n = 0
    while (spent := time.perf_counter() - start) < seconds:
        n += 1
        progress(spent / seconds)
    return n


@app.job
def noop(params, progress):
    return None


@app.page("/")
def home(ui):
    count = ui.state("count", 0)
    run, flooding = first.latest(ui), flood.latest(ui)

    def start(event):  # "NAME PARAMS-JSON"
        name, _, params = event.value.partition(" ")
        app.jobs[name].start(ui, json.loads(params or "{}"))

    return ph.Column(
        ph.Text(f"Count: {count.value}", id="count"),
        ph.Button("Increment", id="inc", on_click=lambda e: count.set(count.value + 1)),
        ph.Button("Run", id="run", on_click=lambda e: first.start(ui, {})),
        ph.TextInput("start", id="start", on_change=start),
        ph.Button("Flood", id="flood", on_click=lambda e: flood.start(ui, {"seconds": 3})),
        ph.JobProgress(run, id="job") if run is not None else ph.Text("no job yet", id="job"),
        ph.JobProgress(flooding, id="flood-job") if flooding else ph.Text("-", id="flood-job"),
    )
"""

# --- 1. progress() cost ----------------------------------------------------------------------


def progress_cost() -> list[Row]:
    from phloem.jobs import Reporter

    sent = [0]

    def sink(update: Any) -> None:
        sent[0] += 1

    def work(n: int, progress: Any) -> float:
        acc = 0.0
        for i in range(n):
            acc += (i * 7 % 13) ** 0.5  # the job's own work per iteration
            if progress is not None:
                progress(i / n)
        return acc

    def seconds(n: int, progress: Any) -> float:
        best = float("inf")
        for _ in range(5):
            t0 = time.perf_counter()
            work(n, progress)
            best = min(best, time.perf_counter() - t0)
        return best

    # Calibrate: how many iterations of the work alone take 10 µs each? Pad the work so one
    # iteration is 10 µs (100,000 calls/s when each calls progress()).
    probe = 20_000
    per = seconds(probe, None) / probe
    pad = max(1, round(10e-6 / per))

    def padded(n: int, progress: Any) -> float:
        acc = 0.0
        for i in range(n):
            for j in range(pad):
                acc += (j * 7 % 13) ** 0.5
            if progress is not None:
                progress(i / n)
        return acc

    n = 100_000

    def timed(progress: Any) -> float:
        best = float("inf")
        for _ in range(5):
            t0 = time.perf_counter()
            padded(n, progress)
            best = min(best, time.perf_counter() - t0)
        return best

    reporter = Reporter("bench", sink, time.perf_counter)
    bare, with_progress = timed(None), timed(reporter)
    overhead = (with_progress - bare) / bare
    calls = 1_000_000
    t0 = time.perf_counter()
    for i in range(calls):
        reporter(i / calls)
    per_call = (time.perf_counter() - t0) / calls
    rate = n / bare
    print(
        f"progress(): job at {rate:,.0f} iterations/s: {bare:.3f} s bare, {with_progress:.3f} s "
        f"with a progress() call each ({overhead:+.1%}); one call {per_call * 1e9:.0f} ns; "
        f"{sent[0]} updates sent"
    )
    return [
        Row(f"progress() at {rate / 1000:.0f}k calls/s: cost to the job", f"{overhead:+.1%}",
            TARGET_PROGRESS),
        Row("progress(): one call", f"{per_call * 1e9:.0f} ns"),
    ]  # fmt: skip


# --- 2. click -> first progress in Chromium, and the floor -------------------------------------

FLOOR_PAGE = """<!doctype html><meta charset="utf-8"><title>floor</title>
<button id="run">Run</button><div id="out">idle</div>
<script>
const ws = new WebSocket(`ws://${location.host}/ws`);
document.getElementById("run").onclick = () => {
  window.__n = (window.__n || 0) + 1;
  ws.send(String(window.__n));
};
ws.onmessage = (e) => { document.getElementById("out").textContent = e.data; };
</script>"""

MEASURE_FIRST = """async ([n, selector, button, expected]) => {
  const times = [];
  for (let i = 0; i < n; i++) {
    const target = () => document.querySelector(selector);
    const want = expected.replace("#", String((window.__n || 0) + 1));
    const seen = new Promise((resolve) => {
      const check = () => target() && target().textContent.includes(want);
      const mo = new MutationObserver(() => { if (check()) { mo.disconnect(); resolve(performance.now()); } });
      mo.observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
      setTimeout(() => { mo.disconnect(); resolve(NaN); }, 10000);  // bounded: a miss is NaN
    });
    const t0 = performance.now();
    document.querySelector(button).click();
    times.push((await seen) - t0);
    await new Promise((r) => setTimeout(r, 400));  // the job ends; nothing else in flight
  }
  return times;
}"""


@contextlib.contextmanager
def floor_server() -> Iterator[str]:
    """A bare websockets server: GET / is the page, /ws sleeps 20 ms then answers once."""
    from websockets.asyncio.server import serve
    from websockets.datastructures import Headers
    from websockets.http11 import Response

    ready: list[str] = []
    stop = threading.Event()

    async def handler(ws: Any) -> None:
        async for message in ws:
            await asyncio.sleep(0.02)
            await ws.send(f"step {message}")

    def page(connection: Any, request: Any) -> Any:
        if request.path == "/ws":
            return None
        body = FLOOR_PAGE.encode()
        headers = Headers([("Content-Type", "text/html"), ("Content-Length", str(len(body)))])
        return Response(200, "OK", headers, body)

    async def main() -> None:
        async with serve(handler, "127.0.0.1", 0, process_request=page) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            ready.append(f"http://127.0.0.1:{port}")
            while not stop.is_set():
                await asyncio.sleep(0.05)

    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    thread.start()
    while not ready:
        time.sleep(0.01)
    try:
        yield ready[0]
    finally:
        stop.set()
        thread.join(5)


def first_progress(browser: Any, server: Running, n: int) -> list[Row]:
    with floor_server() as floor_url:
        page = browser.new_page()
        page.goto(floor_url + "/")
        page.wait_for_function("() => document.readyState === 'complete'")
        page.wait_for_timeout(300)  # the socket opens
        page.evaluate(MEASURE_FIRST, [3, "#out", "#run", "step #"])
        floor = page.evaluate(MEASURE_FIRST, [n, "#out", "#run", "step #"])
        page.close()
    page = browser.new_page()
    page.goto(server.url + "/")
    page.locator('[data-node-id="run"]').wait_for()
    args = [n, '[data-node-id="job"]', '[data-node-id="run"]', "running · step 1"]
    page.evaluate(MEASURE_FIRST, [3, *args[1:]])  # warm-up: workers, caches
    phloem = page.evaluate(MEASURE_FIRST, args)
    page.close()
    f50, p50 = statistics.median(floor), statistics.median(phloem)
    print(
        f"click Run -> first progress in the DOM (first step 20 ms), {n} runs: Phloem p50 "
        f"{p50:.1f} ms p95 {quantile(phloem, 0.95):.1f}; floor (bare WebSocket, sleep 20 ms) "
        f"p50 {f50:.1f} ms p95 {quantile(floor, 0.95):.1f}; ratio {p50 / f50:.2f}x"
    )
    return [
        vs_floor("click Run -> first progress in the DOM (20 ms step), p50", p50, f50, "ms",
                 "bare WebSocket, server sleeps 20 ms", TARGET_FIRST),
    ]  # fmt: skip


COUNT_UPDATES = """async (seconds) => {
  const seen = [];
  const bar = () => document.querySelector('[data-node-id="flood-job/bar"][role="progressbar"]');
  while (!bar()) await new Promise((r) => setTimeout(r, 10));
  const mo = new MutationObserver(() => seen.push(performance.now()));
  mo.observe(bar(), {attributes: true, attributeFilter: ["aria-valuenow"]});
  await new Promise((r) => setTimeout(r, seconds * 1000));
  mo.disconnect();
  return seen;
}"""


def browser_rate(browser: Any, server: Running) -> list[Row]:
    """A job calling progress() as fast as it can for 3 s: how often the page's progress bar
    changes (aria-valuenow), per second, over the middle 2 s."""
    page = browser.new_page()
    page.goto(server.url + "/")
    page.locator('[data-node-id="flood"]').click()
    seen = page.evaluate(COUNT_UPDATES, 2.5)
    page.close()
    window = [t for t in seen if seen[0] + 250 <= t <= seen[0] + 2250] if seen else []
    rate = len(window) / 2.0
    print(f"progress bar updates in Chromium while a job reports flat out: {rate:.1f}/s")
    return [Row("browser updates/s while a job reports flat out", f"{rate:.1f}/s", TARGET_RATE)]


# --- 3. other sessions' clicks while 100 jobs report ------------------------------------------


async def _clicks(server: Running, n: int) -> list[float]:
    from websockets.asyncio.client import connect

    async with connect(server.ws_url, subprotocols=["phloem.v1"], origin=server.url) as ws:
        await ws.send(json.dumps({"type": "hello", "versions": ["1.1"], "path": "/"}))
        await ws.recv()
        await ws.recv()
        times = []
        warmup = 20  # not counted: the first answers of a session warm caches up
        for i in range(1, n + warmup + 1):
            t0 = time.perf_counter()
            await ws.send(json.dumps({"type": "event", "id": i, "node": "inc", "name": "click"}))
            while True:
                msg = json.loads(await ws.recv())
                if msg.get("event") == i:
                    break
            if i > warmup:
                times.append((time.perf_counter() - t0) * 1000)
            await ws.send(json.dumps({"type": "ack", "seq": msg["seq"]}))
            await asyncio.sleep(0.025)
        return times


async def _load(
    server: Running, jobs: int, seconds: float, ready: asyncio.Event, running: set[str]
) -> None:
    """One session of another browser starts ``jobs`` flood jobs; how many reported running."""
    from websockets.asyncio.client import connect

    async with connect(server.ws_url, subprotocols=["phloem.v1"], origin=server.url) as ws:
        hello = {"type": "hello", "versions": ["1.1"], "features": ["jobs"], "path": "/"}
        await ws.send(json.dumps(hello))
        for i in range(1, jobs + 1):
            value = f'flood {{"seconds": {seconds}}}'
            event = {"type": "event", "id": i, "node": "start", "name": "change", "value": value}
            await ws.send(json.dumps(event))
            await asyncio.sleep(0.035)  # under max_events_per_second (50/s)
        acks = Acks(ws)
        deadline = time.monotonic() + 120
        while len(running) < jobs and time.monotonic() < deadline:
            try:
                msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
            except TimeoutError:
                continue
            if msg.get("type") == "job.state" and msg.get("state") == "running":
                running.add(msg["job"])
            await acks.seen(msg)
        ready.set()
        # Keep reading (a live session of the owner gets every job message) until told.
        with contextlib.suppress(Exception):
            while True:
                await acks.seen(json.loads(await asyncio.wait_for(ws.recv(), seconds + 5)))


class Acks:
    """Acknowledges as the reference renderer does (renderer-react/src/core/sequence.ts):
    after 32 unacknowledged messages, or once a second. The browser that owns 100 busy jobs
    gets 2,000 messages a second; acknowledging each would be a load no renderer puts on
    the server, and not the one this measures."""

    EVERY, DELAY = 32, 1.0

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.acked = 0
        self.at = time.monotonic()

    async def seen(self, msg: dict[str, Any]) -> None:
        seq = msg.get("seq")
        if seq is None or msg.get("type") == "welcome":
            return
        now = time.monotonic()
        if seq - self.acked >= self.EVERY or now - self.at >= self.DELAY:
            await self.ws.send(json.dumps({"type": "ack", "seq": seq}))
            self.acked, self.at = seq, now


async def _under_load(
    server: Running, jobs: int, n: int, seconds: float
) -> tuple[list[float], int]:
    ready = asyncio.Event()
    running: set[str] = set()
    loader = asyncio.create_task(_load(server, jobs, seconds, ready, running))
    await asyncio.wait_for(ready.wait(), 150)
    times = await _clicks(server, n)
    loader.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await loader
    return times, len(running)


def settle(pid: int, budget: float = 180.0) -> float:
    """Wait until a server and its worker processes are quiet (workers import the app when
    they start): under 5 % of a core over half a second, or the budget spent. Seconds waited."""

    def tree_cpu() -> float:
        total = cpu_seconds(pid)
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    total += cpu_seconds(int(stat.parent.name))
        return total

    start = time.monotonic()
    before = tree_cpu()
    while time.monotonic() - start < budget:
        time.sleep(0.5)
        now = tree_cpu()
        if now - before < 0.025:
            break
        before = now
    return time.monotonic() - start


def busy_jobs(app: Path, jobs: int, n: int) -> list[Row]:
    env = {"PHLOEM_JOB_WORKERS": str(jobs)}
    with (
        tempfile.TemporaryDirectory() as data,
        phloem_run(app, Path(data), env=env, timeout=300) as s,
    ):
        waited = settle(s.pid)
        print(f"({jobs} job workers started and quiet after {waited:.0f} s)")
        idle = asyncio.run(_clicks(s, n))
        loaded, running = asyncio.run(_under_load(s, jobs, n, seconds=20))
    i50, l50 = statistics.median(idle), statistics.median(loaded)
    print(
        f"another session's click (event -> patch), {n} clicks: idle p50 {i50:.2f} ms; with "
        f"{running} jobs reporting flat out p50 {l50:.2f} ms ({l50 / i50:.2f}x), p95 "
        f"{quantile(loaded, 0.95):.2f} ms"
    )
    return [
        vs_floor(f"click p50 of another session, {running} jobs reporting flat out", l50, i50,
                 "ms", "the same click, no job running", TARGET_LOAD),
    ]  # fmt: skip


# --- 4. start -> running ------------------------------------------------------------------------


async def _start_to_running(server: Running, n: int) -> list[float]:
    from websockets.asyncio.client import connect

    async with connect(server.ws_url, subprotocols=["phloem.v1"], origin=server.url) as ws:
        hello = {"type": "hello", "versions": ["1.1"], "features": ["jobs"], "path": "/"}
        await ws.send(json.dumps(hello))
        times = []
        for i in range(1, n + 1):
            t0 = time.perf_counter()
            await ws.send(
                json.dumps(
                    {"type": "event", "id": i, "node": "start", "name": "change", "value": "noop"}
                )
            )
            queued = None
            while True:
                msg = json.loads(await asyncio.wait_for(ws.recv(), 60))
                if "seq" in msg:
                    await ws.send(json.dumps({"type": "ack", "seq": msg["seq"]}))
                if msg.get("type") == "job.state" and msg["state"] == "queued":
                    queued = msg["job"]
                if (
                    msg.get("type") == "job.state"
                    and msg.get("job") == queued
                    and msg["state"] != "queued"
                ):
                    break
            times.append((time.perf_counter() - t0) * 1000)
            await asyncio.sleep(0.05)
        return times


def start_embedded(app: Path, n: int) -> list[Row]:
    with tempfile.TemporaryDirectory() as data, phloem_run(app, Path(data)) as s:
        asyncio.run(_start_to_running(s, 3))
        times = asyncio.run(_start_to_running(s, n))
    p50 = statistics.median(times)
    print(
        f"job start -> running, embedded, {n} jobs: p50 {p50:.1f} ms p95 {quantile(times, 0.95):.1f}"
    )
    return [Row("job start -> running, embedded, p50", f"{p50:.1f} ms")]


def start_celery(app: Path, n: int) -> list[Row]:
    sys.path.insert(0, str(REPO / "reference-server" / "tests"))
    from test_jobs_redis import phloem_worker
    from test_redis_layer import redis_server

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        data = base / "data"
        data.mkdir()
        with redis_server(base) as redis:
            args = ("--jobs", "celery", "--redis", redis.url)
            with phloem_run(app, data, args=args) as s, phloem_worker(app, data, redis.url, {}):
                asyncio.run(_start_to_running(s, 3))
                times = asyncio.run(_start_to_running(s, n))
                floor = _celery_ping(redis.url, n)
    p50, f50 = statistics.median(times), statistics.median(floor)
    print(
        f"job start -> running through Celery, {n} jobs: p50 {p50:.1f} ms; floor (a no-op "
        f"Celery task's round trip) p50 {f50:.1f} ms"
    )
    return [
        Row("job start -> running, Celery + Redis, p50", f"{p50:.1f} ms"),
        Row("  floor: no-op Celery task round trip, p50", f"{f50:.1f} ms"),
    ]


def _celery_ping(url: str, n: int) -> list[float]:
    """Round trips of the worker's no-op task (phloem.ping): sent, run, answered on a Redis
    list; milliseconds."""
    import redis
    from celery import Celery

    app = Celery("bench", broker=url, set_as_current=False)
    app.conf.task_default_queue = "phloem.jobs"
    times = []
    with redis.Redis.from_url(url, socket_timeout=35) as client:
        for i in range(n + 3):
            reply = f"bench-ping-{i}"
            start = time.perf_counter()
            app.send_task("phloem.ping", args=[reply])
            if client.blpop([reply], timeout=30) is None:
                raise TimeoutError("no Celery worker answered the ping within 30 s")
            if i >= 3:  # the first ones warm the connections up
                times.append((time.perf_counter() - start) * 1000)
    return times


# --- main --------------------------------------------------------------------------------------


def run(quick: bool = False, celery: bool = False, cost: bool = True) -> list[Row]:
    """Every measurement; ``cost=False`` leaves out progress()'s cost (bench.py measures it
    in its own step, bench_job_progress)."""
    from playwright.sync_api import sync_playwright

    rows = progress_cost() if cost else []
    with tempfile.TemporaryDirectory() as tmp:
        app = Path(tmp) / "bench_jobs_app.py"
        app.write_text(APP)
        if (DIST / "index.html").is_file():
            with (
                tempfile.TemporaryDirectory() as data,
                phloem_run(app, Path(data)) as server,
                sync_playwright() as pw,
            ):
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    rows += first_progress(browser, server, 10 if quick else 30)
                    rows += browser_rate(browser, server)
                finally:
                    browser.close()
        else:
            print(f"skipped the browser measurements: {DIST / 'index.html'} is not built")
        rows += start_embedded(app, 10 if quick else 30)
        if celery:
            rows += start_celery(app, 10 if quick else 30)
        rows += busy_jobs(app, 20 if quick else 100, 50 if quick else 200)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer runs, 20 busy jobs")
    parser.add_argument("--celery", action="store_true", help="also start -> running via Celery")
    args = parser.parse_args()
    for row in run(args.quick, args.celery):
        ratio = f" = {row.ratio:.2f}x {row.floor}" if row.ratio is not None else ""
        target = f" (target {row.target}: {row.verdict})" if row.target else ""
        print(f"{row.what}: {row.measured}{ratio}{target}")


if __name__ == "__main__":
    main()
