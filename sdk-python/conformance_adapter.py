"""Conformance adapter for the Python SDK runtime (role "sdk", adapter_protocol 1).

Reads one JSON command per line on stdin and writes exactly one JSON reply per line on
stdout; logs go to stderr. ``open`` starts a fresh Hub on the fixture apps. The page is the one
the hello's ``path`` names; a hello without a path gets the opened fixture's page (the runner
sends none to an SDK target), as if the fixture were served at "/". Time is a fake clock that advances 1 ms per command
(so a burst of events can trip the rate limit, as a real burst would; the ``control`` command
``{"op": "advance", "seconds": S}`` moves it S seconds on) and tokens are
deterministic, so every run of a case produces the same frames.

    python sdk-python/conformance_adapter.py
"""

from __future__ import annotations

import base64
import logging
import sys
from importlib import metadata
from itertools import count
from pathlib import Path
from typing import Any

import orjson
import phloem as ph
from phloem.runtime import Connection, Hub

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "apps.py"
STEP = 0.001  # seconds of fake time per command


def _version() -> str:
    try:
        return metadata.version("phloem")
    except metadata.PackageNotFoundError:
        return "0.0.0"


class Adapter:
    def __init__(self) -> None:
        self.app = ph.load_app(FIXTURES)
        # Each fixture is the page at /<fixture name> (conformance/fixtures/<name>.md).
        self.fixtures = {path.lstrip("/"): path for path in self.app.pages}
        self.now = 1000.0
        self.hub: Hub | None = None
        self.conn: Connection | None = None

    def handle(self, cmd: dict[str, Any]) -> dict[str, Any]:
        self.now += STEP
        name = cmd.get("cmd")
        if name == "hello":
            return {
                "ok": True,
                "role": "sdk",
                "implementation": {
                    "name": "phloem-python",
                    "version": _version(),
                    "language": "python",
                },
                "fixtures": sorted(self.fixtures),
            }
        if name == "open":
            path = self.fixtures.get(cmd.get("fixture", ""))
            if path is None:
                return {"ok": False, "error": f"unknown fixture {cmd.get('fixture')!r}"}
            app = ph.App(self.app.name)
            app.pages = {**self.app.pages, "/": self.app.pages[path]}
            tokens = count(1)
            self.hub = Hub(app, new_token=lambda: f"conformance-token-{next(tokens):06d}")
            self.conn = self.hub.connect(self.now)
            return {"ok": True, "path": path}
        if name == "send":
            if self.hub is None or self.conn is None:
                return {"ok": False, "error": "send before open"}
            frame: str | bytes = (
                base64.b64decode(cmd["binary"]) if "binary" in cmd else cmd["frame"]
            )
            out = self.conn.receive(frame, self.now)
            if out.close is not None:
                # The transport closes after these frames; a later send is a new connection.
                self.conn.disconnect(self.now)
                self.conn = self.hub.connect(self.now)
            return {"ok": True, "frames": out.frames, "close": out.close}
        if name == "disconnect":
            if self.hub is None or self.conn is None:
                return {"ok": False, "error": "disconnect before open"}
            self.conn.disconnect(self.now)
            self.conn = self.hub.connect(self.now)  # the next send arrives on a new connection
            return {"ok": True}
        if name == "control":
            # Time control: the conformance case's `control: {advance: S}` moves the fake clock.
            seconds = cmd.get("seconds")
            if cmd.get("op") != "advance":
                return {"ok": False, "unsupported": True, "error": f"unknown op {cmd.get('op')!r}"}
            if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds < 0:
                return {"ok": False, "error": f"advance needs seconds >= 0, not {seconds!r}"}
            self.now += seconds
            return {"ok": True}
        if name == "close":
            self.hub = self.conn = None
            return {"ok": True}
        if name == "bye":
            return {"ok": True}
        return {"ok": False, "error": f"unknown command {name!r}"}


def main() -> int:
    logging.basicConfig(stream=sys.stderr, level=logging.INFO)
    adapter = Adapter()
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            cmd = orjson.loads(line)
            reply = adapter.handle(cmd)
        except Exception as exc:  # a reply per command, whatever happens
            logging.exception("command failed")
            cmd, reply = {}, {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(orjson.dumps(reply).decode() + "\n")
        sys.stdout.flush()
        if cmd.get("cmd") == "bye":
            return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
