"""Every benchmark, then one table: what, measured, target. `make bench` runs this.

    .venv/bin/python bench/bench.py [--quick]

Takes under a minute on the 2-core reference machine: a browser, two servers
started and stopped twice each (`phloem run` on 127.0.0.1, ports picked by the OS, killed by
pid on the way out). Targets live next to each measurement (TARGET_* in the bench_*.py files)
and come from the product brief's table; "-" where it sets none.
"""

from __future__ import annotations

import argparse
import time

import bench_blocking
import bench_click
import bench_diff
import bench_job_progress
import bench_rtt
import bench_sessions
import bench_wire
from _common import Row


def table(rows: list[Row]) -> str:
    head = ("what", "measured", "target")
    cells = [head, *((r.what, r.measured, r.target or "-") for r in rows)]
    widths = [max(len(c[i]) for c in cells) for i in range(3)]
    lines = [" | ".join(c[i].ljust(widths[i]) for i in range(3)).rstrip() for c in cells]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer clicks, loads and sessions")
    args = parser.parse_args()
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
    ]
    for title, step in steps:
        print(f"\n== {title} ==")
        rows += step()
    print(f"\n== summary ({time.monotonic() - start:.0f} s) ==")
    print(table(rows))
    print("targets: the product brief's table (TARGET_* in bench/bench_*.py)")


if __name__ == "__main__":
    main()
