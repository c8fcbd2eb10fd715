"""Floors: the least that does what the counter does, measured in the same run as Phloem.

Machines differ several-fold (the same code shows a 337 ms cold load on one 2-core machine and
80 ms on another), so `make bench` reports each figure beside the same figure of a floor taken
minutes apart on the same machine, and the targets are ratios to the floors:

- **websockets + vanilla JS**: a bare `websockets` server and a page of a dozen lines of
  JavaScript that shows the count from each message: the cost of a browser, a socket and
  a DOM update, with nothing else;
- **React 19 on the same ASGI server**: a bare ASGI app on the very server configuration
  `phloem run` uses (uvicorn or Daphne), serving a minimal React 19 production page that sets
  state from each message (bench/floor_react): what any React app on that server pays;
- **plain Python**: the floor of the pure-CPU figures (a walk of the same tree, orjson).

The floor servers are bench/floor_servers.py, started like `phloem run` (own process, a free
loopback port, killed on the way out), so their CPU and memory are read the same way.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from _common import REPO, Running
from live import _wait_ready

BENCH = Path(__file__).resolve().parent
RENDERER = REPO / "renderer-react"


@contextmanager
def floor_run(kind: str, server: str = "uvicorn", dist: Path | None = None) -> Iterator[Running]:
    """A floor server (``websockets`` or ``asgi`` on ``server`` serving ``dist``), running."""
    cmd = [sys.executable, str(BENCH / "floor_servers.py"), kind, "--server", server]
    if dist is not None:
        cmd += ["--dist", str(dist)]
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "PHLOEM_DATA_DIR": data}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        stderr: list[str] = []
        threading.Thread(target=lambda: stderr.extend(proc.stderr or ()), daemon=True).start()
        try:
            title, url = _wait_ready(proc, 30, stderr)
            yield Running(url, proc.pid, title)
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def react_page() -> Iterator[Path]:
    """The React floor's production build (the renderer's Vite and React), in a temporary
    directory for the run."""
    vite = RENDERER / "node_modules" / "vite" / "bin" / "vite.js"
    if not vite.is_file():
        raise SystemExit(f"{vite} is missing: `make build` first")
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(
            [
                "node",
                str(vite),
                "build",
                "--config",
                str(BENCH / "floor_react" / "vite.config.mjs"),
            ],
            cwd=RENDERER,
            env={**os.environ, "FLOOR_OUT": out},
            check=True,
            timeout=120,
        )
        yield Path(out)
