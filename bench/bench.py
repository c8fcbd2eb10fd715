"""Every benchmark, then one table: what, measured, target. `make bench` runs this.

    .venv/bin/python bench/bench.py [--quick]

Each figure is reported beside the same figure of its floor, measured in the same run on the
same machine (bench/floors.py: a bare `websockets` server with a vanilla-JS page, a minimal
React 19 page on the same ASGI server, plain Python), with their ratio; the targets are those
ratios (TARGET_* in the bench_*.py files, from the product brief's table), so they mean the
same on a fast machine and a slow one. Bytes and memory keep absolute targets.

A few minutes on a 2-core machine: one browser; `phloem run` and the floor servers on
127.0.0.1 (ports picked by the OS, stopped on the way out). Stopped after --budget seconds.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time

import bench_blocking
import bench_click
import bench_diff
import bench_job_progress
import bench_jobs
import bench_rtt
import bench_sessions
import bench_wire
from _common import Row


def table(rows: list[Row]) -> str:
    head = ("what", "measured", "x floor", "floor (same run)", "target", "")
    cells = [
        head,
        *(
            (
                r.what,
                r.measured,
                f"{r.ratio:.2f}x" if r.ratio is not None else "-",
                r.floor or "-",
                r.target or "-",
                r.verdict,
            )
            for r in rows
        ),
    ]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    lines = [" | ".join(c[i].ljust(widths[i]) for i in range(len(head))).rstrip() for c in cells]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


class OverBudget(Exception):
    """`make bench` ran past its time budget: a wedged browser or server, not a slow machine."""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer clicks, loads and sessions")
    parser.add_argument(
        "--budget", type=int, default=1500, help="seconds before the run is stopped (default 1500)"
    )
    args = parser.parse_args()

    def over(signum: int, frame: object) -> None:
        raise OverBudget(f"make bench: over its {args.budget} s budget")

    # Raised in the main thread wherever it is: the servers' and the browser's context managers
    # stop them on the way out.
    signal.signal(signal.SIGALRM, over)
    signal.alarm(args.budget)
    start = time.monotonic()
    rows: list[Row] = []
    steps = [
        ("diff", bench_diff.run),
        ("sans-IO runtime", bench_wire.run),
        ("job progress() in a tight loop", bench_job_progress.run),
        (
            "a Python client against phloem run",
            lambda: bench_rtt.run(*((100,) if args.quick else ())),
        ),
        ("Chromium against phloem run", lambda: bench_click.run(*((50, 2) if args.quick else ()))),
        (
            "handlers off the event loop, and rollback",
            lambda: bench_blocking.run(
                *((100, 2.0, 3.0, bench_blocking.BEFORE, 1) if args.quick else ())
            ),
        ),
        (
            "sessions over real WebSockets",
            lambda: bench_sessions.run(*((50,) if args.quick else ())),
        ),
        # progress()'s cost is the step above; --quick: 20 busy jobs instead of 100.
        ("long-running jobs", lambda: bench_jobs.run(args.quick, cost=False)),
    ]
    try:
        for title, step in steps:
            print(f"\n== {title} ==", flush=True)
            rows += step()
    except OverBudget as exc:
        print(f"\n{exc}; the figures so far:")
        print(table(rows))
        sys.exit(1)
    finally:
        signal.alarm(0)
    print(f"\n== summary ({time.monotonic() - start:.0f} s) ==")
    print(table(rows))
    print(
        "x floor: the figure over the same figure of its floor, measured in this run on this "
        "machine (bench/floors.py);\ntargets are ratios to the floors (TARGET_* in "
        "bench/bench_*.py, from the brief's table), absolute only for bytes and memory."
    )
    over_target = [r.what for r in rows if r.verdict == "OVER"]
    if over_target:
        print("over target: " + "; ".join(over_target))


if __name__ == "__main__":
    main()
