"""The counter app in Debian's Chromium against `phloem run`, on uvicorn and on Daphne.

    .venv/bin/python bench/bench_click.py [--clicks 300] [--loads 5]

Per server:

- click → DOM updated: timed inside the page, performance.now() at the click dispatch and again
  when a MutationObserver sees the count's text change; clicks spaced 25 ms, under the
  max_events_per_second (50/s) the renderer honours; 20 warm-up clicks not counted.
- bytes on the wire per click, both ways, as the browser sees them: the payload lengths of
  CDP's Network.webSocketFrameSent / webSocketFrameReceived over the measured clicks, acks
  included (the trailing one too). And what permessage-deflate (RFC 7692, context takeover)
  would make of the same frames, simulated with zlib, with its CPU cost: the server does not
  negotiate it (see `phloem_server.servers`).
- server CPU per click: the server process's CPU time (all threads, /proc schedstat) over the
  measured clicks, divided by their count.
- cold load: a fresh browser context (empty cache) loads the page; first content is when the
  count is in the DOM (and first-contentful-paint), from navigation start; bytes are every
  HTTP response as received (CDP encodedDataLength, headers included) plus the WebSocket
  frames up to the first snapshot.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

from _common import (
    CHROMIUM,
    CHROMIUM_ARGS,
    COUNTER,
    DIST,
    SERVERS,
    Row,
    Running,
    cpu_seconds,
    phloem_run,
    quantile,
    vs_floor,
)
from floors import floor_run, react_page

PACE_MS = 25  # 40 clicks/s: under the 50/s the client honours
WARMUP = 20
MEASURE = """async ([n, pace]) => {
  const count = () => document.querySelector('[data-node-id="count"]');
  const button = document.querySelector('[data-node-id="inc"]');
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
    button.click();
    times.push((await changed) - t0);
    await new Promise((r) => setTimeout(r, pace));
  }
  return times;
}"""
FIRST_CONTENT = """new MutationObserver((_, mo) => {
  if (document.querySelector('[data-node-id="count"]')) {
    window.__firstContent = performance.now();
    mo.disconnect();
  }
}).observe(document, {childList: true, subtree: true});"""


class Frames:
    """WebSocket frame payloads seen by the browser, while recording."""

    def __init__(self, cdp: Any) -> None:
        self.recording = False
        self.sent: list[bytes] = []
        self.received: list[bytes] = []
        cdp.on("Network.webSocketFrameSent", lambda p: self._add(self.sent, p))
        cdp.on("Network.webSocketFrameReceived", lambda p: self._add(self.received, p))

    def _add(self, into: list[bytes], params: dict[str, Any]) -> None:
        if self.recording:
            into.append(params["response"]["payloadData"].encode())


def clicks(browser: Any, server: Running, n: int) -> dict[str, Any]:
    context = browser.new_context()
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    frames = Frames(cdp)
    page.goto(server.url + "/")
    page.locator('[data-node-id="count"]').wait_for()
    page.evaluate(MEASURE, [WARMUP, PACE_MS])
    page.wait_for_timeout(1100)  # the warm-up's batched ack goes out (within 1 s)
    frames.recording = True
    cpu0 = cpu_seconds(server.pid)
    times = page.evaluate(MEASURE, [n, PACE_MS])
    cpu = cpu_seconds(server.pid) - cpu0
    page.wait_for_timeout(1100)  # and the measured clicks' last ack
    frames.recording = False
    text = page.locator('[data-node-id="count"]').text_content()
    assert text == f"Count: {WARMUP + n}", text
    context.close()
    return {
        "times": times,
        "cpu_ms": cpu * 1000 / n,
        "sent": frames.sent,
        "received": frames.received,
    }


def cold_load(browser: Any, server: Running) -> dict[str, Any]:
    context = browser.new_context()  # an empty cache
    page = context.new_page()
    page.add_init_script(FIRST_CONTENT)
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    http: dict[str, float] = {}
    urls: dict[str, str] = {}
    ws = {"sent": 0, "received": 0, "snapshot": False}

    def frame(params: dict[str, Any], way: str) -> None:
        if ws["snapshot"]:
            return
        payload = params["response"]["payloadData"]
        ws[way] += len(payload.encode())
        if way == "received" and '"ui.snapshot"' in payload:
            ws["snapshot"] = True

    cdp.on(
        "Network.requestWillBeSent", lambda p: urls.__setitem__(p["requestId"], p["request"]["url"])
    )
    cdp.on(
        "Network.loadingFinished",
        lambda p: http.__setitem__(p["requestId"], p["encodedDataLength"]),
    )
    cdp.on("Network.webSocketFrameSent", lambda p: frame(p, "sent"))
    cdp.on("Network.webSocketFrameReceived", lambda p: frame(p, "received"))
    page.goto(server.url + "/")
    page.wait_for_function("() => window.__firstContent !== undefined")
    page.wait_for_function(
        "() => performance.getEntriesByName('first-contentful-paint').length > 0", timeout=5000
    )
    timing = page.evaluate(
        """() => ({
      content: window.__firstContent,
      fcp: performance.getEntriesByName('first-contentful-paint')[0].startTime,
      transfer: performance.getEntriesByType('navigation')
        .concat(performance.getEntriesByType('resource'))
        .reduce((sum, e) => sum + e.transferSize, 0),
    })"""
    )
    page.wait_for_timeout(100)  # loadingFinished of the last asset
    context.close()
    files = {urls.get(rid, rid).split("/", 3)[-1] or "/": int(size) for rid, size in http.items()}
    return {
        **timing,
        "http": sum(files.values()),
        "files": files,
        "ws": ws["sent"] + ws["received"],
    }


def deflate(payloads: list[bytes], takeover: bool = True) -> tuple[int, float, float]:
    """permessage-deflate over a sequence of messages: total compressed payload bytes, and
    the CPU (µs per message) to compress them and to inflate them, best of a few runs."""
    sizes = []
    compressed = []
    comp = zlib.compressobj(wbits=-15)
    for p in payloads:
        if not takeover:
            comp = zlib.compressobj(wbits=-15)
        out = comp.compress(p) + comp.flush(zlib.Z_SYNC_FLUSH)
        compressed.append(out[:-4])  # RFC 7692 §7.2.1: the trailing 00 00 ff ff is not sent
        sizes.append(len(out) - 4)
    c_best = d_best = float("inf")
    for _ in range(5):
        t0 = time.process_time()
        comp = zlib.compressobj(wbits=-15)
        for p in payloads:
            if not takeover:
                comp = zlib.compressobj(wbits=-15)
            comp.compress(p)
            comp.flush(zlib.Z_SYNC_FLUSH)
        t1 = time.process_time()
        dec = zlib.decompressobj(wbits=-15)
        for c in compressed:
            if not takeover:
                dec = zlib.decompressobj(wbits=-15)
            dec.decompress(c + b"\x00\x00\xff\xff")
        t2 = time.process_time()
        c_best, d_best = min(c_best, t1 - t0), min(d_best, t2 - t1)
    n = max(1, len(payloads))
    return sum(sizes), c_best * 1e6 / n, d_best * 1e6 / n


ROUNDS = 3  # click batches per server, interleaved with the floors' (drift hits all alike)


def measure(
    browser: Any, servers: dict[str, Running], n: int, loads: int, into: dict[str, dict[str, Any]]
) -> None:
    """Cold loads, then clicks, of every server in ``servers``, taken in turns (load by load,
    batch by batch) so that a machine busy for a while slows them all alike; appended to
    ``into[name]``. One cold load each first warms the browser process, not the page cache."""
    for server in servers.values():
        cold_load(browser, server)
    for name in servers:
        into.setdefault(name, {"loads": [], "times": [], "cpu": [], "sent": [], "received": []})
    for _ in range(loads):
        for name, server in servers.items():
            into[name]["loads"].append(cold_load(browser, server))
    for _ in range(ROUNDS):
        for name, server in servers.items():
            r = clicks(browser, server, n // ROUNDS)
            into[name]["times"] += r["times"]
            into[name]["cpu"].append(r["cpu_ms"])
            into[name]["sent"] += r["sent"]
            into[name]["received"] += r["received"]
    for r in into.values():
        r["cpu_ms"] = statistics.median(r["cpu"])


def run(n: int = 300, loads: int = 5) -> list[Row]:
    from playwright.sync_api import sync_playwright

    if not (DIST / "index.html").is_file():
        raise SystemExit(f"{DIST / 'index.html'} is missing: `make build` first")
    measured: dict[str, dict[str, Any]] = {}
    vanilla_name = "websockets + vanilla JS (floor)"
    with (
        sync_playwright() as pw,
        react_page() as page,
        floor_run("websockets") as vanilla_server,
    ):
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for server in SERVERS:
                with (
                    tempfile.TemporaryDirectory() as data,
                    phloem_run(COUNTER, Path(data), server) as s,
                    floor_run("asgi", server, page) as f,
                ):
                    block = {
                        f"phloem, {server}": s,
                        f"React 19 floor, {server}": f,
                        vanilla_name: vanilla_server,
                    }
                    measure(browser, block, n, loads, measured)
        finally:
            browser.close()
    n = ROUNDS * (n // ROUNDS)
    vanilla = measured[vanilla_name]
    results = {server: measured[f"phloem, {server}"] for server in SERVERS}
    react = {server: measured[f"React 19 floor, {server}"] for server in SERVERS}

    rows: list[Row] = []
    print(
        f"click -> DOM updated in Chromium ({n} clicks {PACE_MS} ms apart after {WARMUP} warm-up)"
    )
    named = list(measured.items())
    for name, r in named:
        t = r["times"]
        print(
            f"  {name:32} p50 {quantile(t, 0.5):.2f} ms  p95 {quantile(t, 0.95):.2f} ms  "
            f"max {max(t):.2f} ms  mean {statistics.fmean(t):.2f} ms   "
            f"server CPU/click {r['cpu_ms']:.3f} ms"
        )
    v50 = quantile(vanilla["times"], 0.5)
    vanilla_floor = "websockets + vanilla JS"
    for server, r in results.items():
        p50, p95 = quantile(r["times"], 0.5), quantile(r["times"], 0.95)
        f50 = quantile(react[server]["times"], 0.5)
        rows += [
            vs_floor(
                f"click -> DOM p50, {server}", p50, v50, "ms", vanilla_floor, TARGET_CLICK_P50
            ),
            vs_floor(
                f"click -> DOM p95, {server}",
                p95,
                v50,
                "ms",
                vanilla_floor + " p50",
                TARGET_CLICK_P95,
            ),
            vs_floor(
                f"click -> DOM p50 vs React, {server}", p50, f50, "ms", f"React 19 floor, {server}"
            ),
        ]
    for server, r in results.items():
        rows.append(
            vs_floor(
                f"server CPU per click, {server}",
                r["cpu_ms"],
                react[server]["cpu_ms"],
                "ms",
                f"bare ASGI app, {server}",
                TARGET_CPU,
            )
        )

    r = results[SERVERS[0]]
    up, down = r["sent"], r["received"]
    up_b, down_b = sum(map(len, up)) / n, sum(map(len, down)) / n
    print(f"bytes on the wire per click as Chromium sees them ({SERVERS[0]}; JSON payload):")
    acks = sum(f.startswith(b'{"type":"ack"') for f in up)
    print(
        f"  client -> server {up_b:.1f} B/click in {len(up)} frames"
        f" ({acks} separate acks), e.g. {up[-2].decode()}"
    )
    print(
        f"  server -> client {down_b:.1f} B/click in {len(down)} frames, e.g. {down[-1].decode()}"
    )
    for server, other in results.items():
        if server != SERVERS[0]:
            o_up, o_down = sum(map(len, other["sent"])) / n, sum(map(len, other["received"])) / n
            print(f"  ({server}: {o_up:.1f} up, {o_down:.1f} down; same frames)")
    rows.append(
        Row("bytes/click JSON payload, up / down", f"{up_b:.0f} / {down_b:.0f} B", TARGET_BYTES)
    )
    up_z, _, up_d = deflate(up)
    down_z, down_c, _ = deflate(down)
    nt_up = deflate(up, takeover=False)[0] / n
    nt_down = deflate(down, takeover=False)[0] / n
    cost = (down_c + up_d) * len(down) / n
    print("  permessage-deflate, simulated with zlib (wbits 15, level 6):")
    print(
        f"    context takeover:    {up_z / n:.1f} B up, {down_z / n:.1f} B down per click"
        f" ({1 - (up_z + down_z) / (sum(map(len, up)) + sum(map(len, down))):.0%} smaller)"
    )
    print(f"    no context takeover: {nt_up:.1f} B up, {nt_down:.1f} B down per click")
    print(
        f"    server CPU: deflate {down_c:.1f} us per frame sent, inflate {up_d:.1f} us per "
        f"frame received: ~{cost:.1f} us per click, vs {r['cpu_ms'] * 1000:.0f} us server CPU per "
        "click now; not enabled (a few bytes on a ~150 B exchange)"
    )
    rows.append(
        Row(
            "bytes/click permessage-deflate (sim.), up / down",
            f"{up_z / n:.0f} / {down_z / n:.0f} B, +{cost:.0f} us CPU",
            TARGET_BYTES,
        )
    )

    print(f"cold load of the counter app (fresh context, median of {loads}):")
    first = {name: statistics.median(x["content"] for x in r["loads"]) for name, r in named}
    for name, r in named:
        runs = r["loads"]
        fcp = statistics.median(x["fcp"] for x in runs)
        http = statistics.median(x["http"] for x in runs)
        ws = statistics.median(x["ws"] for x in runs)
        transfer = statistics.median(x["transfer"] for x in runs)
        print(
            f"  {name:32} first content {first[name]:.1f} ms, FCP {fcp:.1f} ms; "
            f"HTTP {http / 1024:.1f} KiB (Performance API transferSize {transfer / 1024:.1f} KiB) "
            f"+ WebSocket to the content {ws} B"
        )
    for server in SERVERS:
        rows.append(
            vs_floor(
                f"cold load first content, {server}",
                first[f"phloem, {server}"],
                first[f"React 19 floor, {server}"],
                "ms",
                f"React 19 floor, {server}",
                TARGET_LOAD,
            )
        )
    print(
        "    "
        + ", ".join(f"{k} {v} B" for k, v in results[SERVERS[0]]["loads"][-1]["files"].items())
    )
    size = {name: statistics.median(x["http"] + x["ws"] for x in r["loads"]) for name, r in named}
    row = vs_floor(
        "cold load bytes (HTTP + WS)",
        size[f"phloem, {SERVERS[0]}"] / 1024,
        size[f"React 19 floor, {SERVERS[0]}"] / 1024,
        "KiB",
        "React 19 floor",
    )
    rows.append(Row(row.what, row.measured, TARGET_LOAD_BYTES, row.ratio, row.floor))
    return rows


# Targets as ratios to the floors of the same run, so they hold on any machine. Clicks: the
# brief's table over its same-machine reading of this very floor (bare websockets + vanilla JS
# 2.5 ms; target p50 3.3 ms, p95 5 ms). CPU and cold load: the brief sets them against peers,
# not floors (CPU "equal to a bare Channels consumer's", which costs more than the bare ASGI
# app here; cold load 100 ms where React 19's parse dominates), so these two are our reading of
# it, to be revised with a Channels floor. Bytes do not depend on the machine: absolute.
TARGET_CLICK_P50 = 1.32  # x the websockets + vanilla JS floor's p50 (3.3 / 2.5)
TARGET_CLICK_P95 = 2.0  # x the same floor's p50 (5 / 2.5)
TARGET_CPU = 2.0  # x a bare ASGI app's CPU per click on the same server
TARGET_LOAD = 1.25  # x the React 19 floor's first content on the same server
TARGET_BYTES = "<= 150 B both ways (peer 197)"
TARGET_LOAD_BYTES = "<= 80 KB (peer 61)"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clicks", type=int, default=300)
    parser.add_argument("--loads", type=int, default=5)
    args = parser.parse_args()
    for row in run(args.clicks, args.loads):
        print(f"  {row.what}: {row.measured}")


if __name__ == "__main__":
    main()
