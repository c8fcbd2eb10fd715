"""Shared by the bench scripts: paths, the live-server helper, Chromium flags, result rows."""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COUNTER = REPO / "sdk-python" / "examples" / "counter.py"
DIST = REPO / "renderer-react" / "dist"
sys.path.insert(0, str(REPO / "reference-server" / "tests"))
from live import Running, phloem_run  # noqa: E402

# Debian's Chromium, as in reference-server/tests/test_browser.py.
CHROMIUM = "/usr/bin/chromium"
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
SERVERS = ("uvicorn", "daphne")

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "COUNTER", "DIST", "REPO", "SERVERS", "Row", "Running"]
__all__ += ["cpu_seconds", "phloem_run", "quantile", "rss_bytes", "vs_floor"]


@dataclass(frozen=True)
class Row:
    """One line of the summary table: a figure, and beside it the same figure of its floor
    measured in the same run (bench/floors.py), their ratio and the target for that ratio.
    Figures that do not depend on the machine (bytes, memory) keep an absolute ``target``."""

    what: str
    measured: str
    target: str = ""
    ratio: float | None = None  # measured / floor
    floor: str = ""  # the floor's figure, and which floor
    limit: float | None = None  # the target as a ratio: ratio <= limit

    @property
    def verdict(self) -> str:
        if self.ratio is None or self.limit is None:
            return ""
        return "ok" if self.ratio <= self.limit else "OVER"


def vs_floor(
    what: str, value: float, floor: float, unit: str, floor_name: str, limit: float | None = None
) -> Row:
    """A row for ``value`` against ``floor`` (same unit), with the ratio target ``limit``."""
    smaller = min(abs(value), abs(floor)) or 1.0
    digits = max(0, 2 - math.floor(math.log10(smaller)))  # three significant figures
    return Row(
        what,
        f"{value:.{digits}f} {unit}",
        f"<= {limit:.2f}x" if limit is not None else "",
        value / floor if floor else None,
        f"{floor:.{digits}f} {unit} ({floor_name})",
        limit,
    )


def cpu_seconds(pid: int) -> float:
    """CPU time of a process so far, all its threads: from /proc/PID/task/*/schedstat
    (nanoseconds on CPU), falling back to /proc/PID/stat's user + system clock ticks (10 ms
    resolution, too coarse for a few hundred sub-millisecond events)."""
    try:
        total = 0
        for task in Path(f"/proc/{pid}/task").iterdir():
            total += int((task / "schedstat").read_text().split()[0])
        return total / 1e9
    except (OSError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise LookupError("VmRSS")


def quantile(values: list[float], q: float) -> float:
    """Nearest-rank quantile, q in (0, 1]."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q * len(ordered)) - 1))]
