"""Handlers off the event loop (issue 7 §1): what leaving the loop costs a click, and what one
session's blocking handler costs the others.

    .venv/bin/python bench/bench_blocking.py [--clicks 300] [--burn 2] [--wait 10] [--before REF]

- the counter's click (event -> ui.patch at a Python client, uvicorn) and server CPU per click,
  as bench_rtt measures them; with ``--before REF`` (a git ref, e.g. the commit before handlers
  left the loop) the same clicks against that code too, rounds interleaved so a busy machine
  hits both alike (the old code is extracted with `git archive` and put first on PYTHONPATH);
- session B clicks every 25 ms and pings every 250 ms while session A's handler burns ``--burn``
  seconds of pure-Python CPU, then while it sleeps ``--wait`` seconds, then while it waits
  ``--wait`` seconds on a socket; beside B's idle floor measured in the same server.
  Targets: burning, B's p50 <= 20 ms and worst <= 100 ms; waiting, B's p50 <= 1.5x idle.
  Also the burn at CPython's default switch interval (5 ms) against the server's 1 ms;
- rollback (PHL-EVT-010) is paid only for what a handler reaches: the counter's click in the
  sans-IO runtime, with and without a 100 MB DataFrame in ``ui.state`` that the click does not
  touch (once unread, once read by the page), CPU per click, best of interleaved rounds.
  Target: within 10 % of the click without it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path

from _common import REPO, Row, Running, cpu_seconds, phloem_run, quantile
from blocking import APP, Blocked, idle, while_blocked

COUNTER = REPO / "sdk-python" / "fixtures" / "apps.py"
WARMUP = 20
# The last commit whose handlers ran on the event loop (issue 7): the click's "before".
BEFORE = "189022d"


@contextmanager
def server(
    env: dict[str, str] | None = None, app: Path = APP, old: bool = False
) -> Iterator[Running]:
    """A server of this tree, or with ``old`` of the ``--before`` commit (``env`` its path)."""
    with (
        tempfile.TemporaryDirectory() as data,
        phloem_run(app, Path(data), env=env, reload_flags=not old) as s,
    ):
        yield s


@contextmanager
def checkout(ref: str) -> Iterator[dict[str, str]]:
    """An environment whose PYTHONPATH puts ``ref``'s phloem and phloem_server first."""
    paths = ["sdk-python/src", "reference-server/src", "sdk-python/fixtures"]
    tar = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", ref, *paths],
        check=True,
        capture_output=True,
    ).stdout
    with tempfile.TemporaryDirectory() as root:
        with tarfile.open(fileobj=BytesIO(tar)) as archive:
            archive.extractall(root, filter="data")
        pythonpath = os.pathsep.join(str(Path(root, p)) for p in paths[:2])
        # PHLOEM_BENCH_APP: the ref's own fixture app (today's may import what it lacks).
        yield {"PYTHONPATH": pythonpath, "PHLOEM_BENCH_APP": str(Path(root, paths[2], "apps.py"))}


async def counter_clicks(s: Running, n: int) -> tuple[list[float], float]:
    from websockets.asyncio.client import connect

    async with connect(s.ws_url, subprotocols=["phloem.v1"], origin=s.url, compression=None) as ws:
        await ws.send('{"type":"hello","versions":["1.0"],"path":"/counter"}')
        await ws.recv()
        await ws.recv()
        rtts: list[float] = []
        cpu0 = 0.0
        for i in range(1, n + WARMUP + 1):
            if i == WARMUP + 1:
                rtts.clear()
                cpu0 = cpu_seconds(s.pid)
            t0 = asyncio.get_running_loop().time()
            await ws.send(f'{{"type":"event","id":{i},"node":"inc","name":"click"}}')
            reply = await ws.recv()
            rtts.append((asyncio.get_running_loop().time() - t0) * 1000)
            assert '"ui.patch"' in str(reply)[:30], reply
            await asyncio.sleep(0.025)
        return rtts, (cpu_seconds(s.pid) - cpu0) * 1000 / n


def clicks(n: int, rounds: int, before: str | None) -> list[Row]:
    runs: dict[str, tuple[list[float], list[float]]] = {"now": ([], [])}
    if before and subprocess.run(["git", "-C", str(REPO), "cat-file", "-e", before]).returncode:
        print(f"  ({before} is not in this clone's history: no 'before' column)")
        before = None
    if before:
        runs[before] = ([], [])
    with checkout(before) if before else _nothing() as old_env:
        for _ in range(rounds):
            for name, (rtts, cpus) in runs.items():
                env = old_env if name != "now" else None
                app = Path(env["PHLOEM_BENCH_APP"]) if env else COUNTER
                with server(env, app, old=name != "now") as s:
                    r, c = asyncio.run(counter_clicks(s, n))
                rtts.extend(r)
                cpus.append(c)
    print(f"counter click -> ui.patch (uvicorn, Python client), {rounds} x {n} clicks")
    rows = []
    for name, (rtts, cpus) in runs.items():
        p50, p95, cpu = quantile(rtts, 0.5), quantile(rtts, 0.95), statistics.median(cpus)
        print(f"  {name:10} p50 {p50:.3f} ms  p95 {p95:.3f} ms  server CPU/click {cpu:.3f} ms")
        rows.append(Row(f"click p50 / CPU per click, {name}", f"{p50:.2f} / {cpu:.3f} ms"))
    return rows


@contextmanager
def _nothing() -> Iterator[dict[str, str]]:
    yield {}


def _line(what: str, seen: Blocked, floor: float) -> tuple[float, float]:
    ms = [r * 1000 for r in seen.rtts]
    p50, worst = statistics.median(ms), max(ms)
    print(
        f"  {what:22} B p50 {p50:6.2f} ms ({p50 / floor:4.2f}x idle)  worst {worst:7.2f} ms  "
        f"pong worst {max(seen.pongs) * 1000:6.2f} ms  clicks {len(ms):4}  "
        f"A answered after {seen.a_answer:.2f} s  closes {seen.closed or 'none'}"
    )
    return p50, worst


def blocking(burn: float, wait: float) -> list[Row]:
    rows = []
    with server() as s:
        floor_rtts = asyncio.run(idle(s, 200))
        floor = statistics.median(floor_rtts) * 1000
        print(f"session B while session A's handler blocks (uvicorn); B idle p50 {floor:.2f} ms")
        burned = asyncio.run(while_blocked(s, "burn", burn))
        p50, worst = _line(f"A burns {burn:g} s CPU", burned, floor)
        rows.append(
            Row(
                f"B while A burns {burn:g} s: p50 / worst",
                f"{p50:.1f} / {worst:.1f} ms",
                "<= 20 / <= 100 ms",
            )
        )
        for what in ("sleep", "io"):
            seen = asyncio.run(while_blocked(s, what, wait))
            label = f"A sleeps {wait:g} s" if what == "sleep" else f"A waits {wait:g} s on I/O"
            p50, _ = _line(label, seen, floor)
            rows.append(Row(f"B while {label[2:]}: p50 / idle", f"{p50 / floor:.2f}x", "<= 1.5x"))
    with server({"PHLOEM_SWITCH_INTERVAL": "0.005"}) as s:
        floor = statistics.median(asyncio.run(idle(s, 100))) * 1000
        _line("(switch interval 5 ms)", asyncio.run(while_blocked(s, "burn", burn)), floor)
    return rows


def _frame_app(df: object, read: bool) -> object:
    import phloem as ph

    app = ph.App("frame")

    @app.page("/")
    def page(ui: ph.UI) -> ph.Element:
        count = ui.state("count", 0)
        texts = [ph.Text(f"Count: {count.value}", id="count")]
        if df is not None:
            frame = ui.state("frame", df)
            if read:
                texts.append(ph.Text(f"{frame.value.shape}", id="shape"))
        button = ph.Button("+", id="inc", on_click=lambda e: count.set(count.value + 1))
        return ph.Column(*texts, button)

    return app


def rollback(clicks: int = 2000, rounds: int = 5) -> list[Row]:
    import time

    import numpy as np
    import pandas as pd
    from phloem.runtime import Hub

    df = pd.DataFrame(np.random.default_rng(0).random((1_310_720, 10)))  # 100 MiB of float64
    small = df.head(10).copy()
    # (the value, whether the page shows its shape, the variant it is compared with)
    variants = {
        "no DataFrame": (None, False, ""),
        "100 MB DataFrame, unread": (df, False, "no DataFrame"),
        "10-row DataFrame, page reads .shape": (small, True, ""),
        "100 MB DataFrame, page reads .shape": (df, True, "10-row DataFrame, page reads .shape"),
    }
    best = dict.fromkeys(variants, float("inf"))
    for _ in range(rounds):
        for name, (frame, read, _) in variants.items():
            hub = Hub(_frame_app(frame, read))  # type: ignore[arg-type]
            conn = hub.connect(0.0)
            conn.receive('{"type":"hello","versions":["1.0"]}', 0.0)
            t0 = time.process_time()
            for i in range(1, clicks + 1):
                now = i * 0.05  # under the rate limit
                conn.receive(f'{{"type":"event","id":{i},"node":"inc","name":"click"}}', now)
            best[name] = min(best[name], (time.process_time() - t0) / clicks)
    print(f"rollback cost, sans-IO runtime, CPU per click (best of {rounds} x {clicks})")
    rows = []
    for name, cpu in best.items():
        against = variants[name][2]
        ratio = f"  ({cpu / best[against]:.3f}x {against})" if against else ""
        print(f"  {name:36} {cpu * 1e6:7.1f} us{ratio}")
        if against:
            rows.append(Row(f"click with {name}", f"{cpu / best[against]:.2f}x", "<= 1.10x"))
    return rows


def run(
    n: int = 300,
    burn: float = 2.0,
    wait: float = 10.0,
    before: str | None = BEFORE,
    rounds: int = 3,
) -> list[Row]:
    return clicks(n, rounds, before) + blocking(burn, wait) + rollback()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clicks", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--burn", type=float, default=2.0)
    parser.add_argument("--wait", type=float, default=10.0)
    parser.add_argument(
        "--before", default=BEFORE, help=f"a git ref to compare the click against ({BEFORE})"
    )
    args = parser.parse_args()
    run(args.clicks, args.burn, args.wait, args.before, args.rounds)


if __name__ == "__main__":
    main()
