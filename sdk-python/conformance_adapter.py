"""Conformance adapter for the Python SDK runtime (role "sdk", adapter_protocol 1).

Reads one JSON command per line on stdin and writes exactly one JSON reply per line on
stdout; logs go to stderr. ``open`` starts a fresh Hub on the fixture apps. The page is the one
the hello's ``path`` names; a hello without a path gets the opened fixture's page (the runner
sends none to an SDK target), as if the fixture were served at "/". Time is the suite's clock:
it stands still between commands (a burst of events arrives at one instant, as the adapter
protocol says) and only the ``control`` command ``{"op": "advance", "seconds": S}`` moves it, S
seconds on; ``{"op": "push", "name": N}`` runs the fixture's server-side update N (its
``SERVER_UPDATES``) on the main connection's session outside any event. Tokens are deterministic here, in the adapter only (the runtime's own tokens stay
random, PHL-SEC-004), so every run of a case produces the same frames.

Jobs (protocol 1.1, fixture ``jobs-long``) run on the SDK's thread backend; after every command
the adapter settles them (conformance_jobs.py), so a reply holds every frame the command caused.
``{"cmd": "control", "op": "job", "job": {...}}`` drives the fixture's newest run, or its pool
(``hold``, ``release``); ``crash`` plays a process backend's supervisor (conformance_jobs.py).

A case may hold several connections to one app (takeover, isolation): ``connect`` opens a
named one (``{"cmd": "connect", "connection": NAME, "user": KEY?}``; ``user`` is an opaque
key of an authenticated user, absent for anonymous); ``send`` and ``disconnect`` name theirs
with ``"connection"`` (default ``main``, the one ``open`` made, always anonymous). A reply's
``elsewhere`` holds what other connections received meanwhile: ``{NAME: {"frames": [],
"close": 4409}}`` when a resume took over their session (PHL-DELIV-011).

    python sdk-python/conformance_adapter.py
"""

from __future__ import annotations

import base64
import logging
import runpy
import sys
from importlib import metadata
from itertools import count
from pathlib import Path
from typing import Any

import orjson
import phloem as ph
from conformance_jobs import JobDriver
from phloem.runtime import Connection, Hub, Superseded

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "apps.py"


def _version() -> str:
    try:
        return metadata.version("phloem")
    except metadata.PackageNotFoundError:
        return "0.0.0"


class Adapter:
    def __init__(self) -> None:
        self.app = ph.load_app(FIXTURES)
        # Server-side updates the fixtures define (`control: {push: NAME}`), e.g. server-push's.
        self.updates: dict[str, Any] = runpy.run_path(str(FIXTURES)).get("SERVER_UPDATES", {})
        self.main_session: str | None = None  # the session `main` last had
        # Each fixture is the page at /<fixture name> (conformance/fixtures/<name>.md).
        self.fixtures = {path.lstrip("/"): path for path in self.app.pages}
        self.now = 1000.0
        self.hub: Hub | None = None
        self.conns: dict[str, Connection] = {}
        self.users: dict[str, str | None] = {}  # connection name -> user key
        self.elsewhere: dict[str, dict[str, Any]] = {}
        self.jobs: JobDriver | None = None

    def _connect(self, name: str) -> Connection:
        assert self.hub is not None
        user = self.users.get(name)
        conn = self.conns[name] = self.hub.connect(self.now, user=user)
        return conn

    def _superseded(self, effects: tuple[Any, ...]) -> None:
        """A resume took over another connection's session: that connection closes with 4409
        (PHL-DELIV-011), and a later send on its name is a new connection."""
        for effect in effects:
            if isinstance(effect, Superseded):
                for other, conn in list(self.conns.items()):
                    if conn is effect.connection:
                        self.elsewhere[other] = {"frames": [], "close": 4409}
                        self._connect(other)

    def _push(self, update: str) -> dict[str, Any]:
        """`control: {push: NAME}`: the fixture's server-side update NAME runs on the session of
        the `main` connection (attached or detached), outside any event (Hub.push); the reply
        holds what the attached connection is sent, as for `send`."""
        fn = self.updates.get(update)
        if self.hub is None or fn is None or self.main_session is None:
            return {"ok": False, "error": f"no server-side update {update!r} for this case"}
        out = self.hub.post(self.main_session, fn, self.now)  # Hub.push, then its frames
        return self._reply("main", {"ok": True, "frames": out.frames, "close": None})

    def _reply(self, name: str, reply: dict[str, Any]) -> dict[str, Any]:
        if self.hub is not None and self.jobs is not None:
            # What the command caused in jobs, then the frames every connection got from it.
            self.jobs.settle(self.hub, self.now)
            for other, conn in self.conns.items():
                frames = conn.drain().frames
                if other == name:
                    reply["frames"] = [*reply.get("frames", []), *frames]
                elif frames:
                    entry = self.elsewhere.setdefault(other, {"frames": [], "close": None})
                    entry["frames"] = [*entry["frames"], *frames]
        others = {k: v for k, v in self.elsewhere.items() if k != name}
        self.elsewhere.clear()
        if others:
            reply["elsewhere"] = others
        return reply

    def handle(self, cmd: dict[str, Any]) -> dict[str, Any]:
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
                "supports": ["connect", "control"],  # the optional commands it has
            }
        if name == "open":
            path = self.fixtures.get(cmd.get("fixture", ""))
            if path is None:
                return {"ok": False, "error": f"unknown fixture {cmd.get('fixture')!r}"}
            app = ph.App(self.app.name)
            app.pages = {**self.app.pages, "/": self.app.pages[path]}
            app.options = {**self.app.options, "/": self.app.page_options(path)}
            app.jobs = self.app.jobs
            tokens, job_ids = count(1), count(1)
            self.hub = Hub(
                app,
                new_token=lambda: f"conformance-token-{next(tokens):06d}",
                new_job_id=lambda: f"job{next(job_ids)}",
            )
            if self.jobs is not None:
                self.jobs.close()
            self.jobs = JobDriver(app)
            self.conns, self.users, self.elsewhere = {}, {}, {}
            self.main_session = None
            self._connect("main")
            return {"ok": True, "path": path}
        conn_name = cmd.get("connection", "main")
        if name == "connect":
            if self.hub is None:
                return {"ok": False, "error": "connect before open"}
            if conn_name in self.conns:
                return {"ok": False, "error": f"connection {conn_name!r} is already open"}
            user = cmd.get("user")
            self.users[conn_name] = None if user is None else str(user)
            self._connect(conn_name)
            return {"ok": True}
        if name == "send":
            conn = self.conns.get(conn_name)
            if self.hub is None or conn is None:
                return {"ok": False, "error": f"send before open (connection {conn_name!r})"}
            frame: str | bytes = (
                base64.b64decode(cmd["binary"]) if "binary" in cmd else cmd["frame"]
            )
            out = conn.receive(frame, self.now)
            if conn_name == "main" and conn.session is not None:
                self.main_session = conn.session.id
            self._superseded(out.effects)
            if out.close is not None:
                # The transport closes after these frames; a later send is a new connection.
                conn.disconnect(self.now)
                self._connect(conn_name)
            return self._reply(conn_name, {"ok": True, "frames": out.frames, "close": out.close})
        if name == "disconnect":
            conn = self.conns.get(conn_name)
            if self.hub is None or conn is None:
                return {"ok": False, "error": f"disconnect before open (connection {conn_name!r})"}
            conn.disconnect(self.now)
            self._connect(conn_name)  # the next send arrives on a new connection
            return {"ok": True}
        if name == "control" and cmd.get("op") == "push":
            return self._push(str(cmd.get("name")))
        if name == "control" and cmd.get("op") == "job":
            if self.hub is None or self.jobs is None:
                return {"ok": False, "error": "control before open"}
            problem = self.jobs.command(self.hub, self.now, cmd.get("job") or {})
            if problem is not None:
                return {"ok": False, "error": problem}
            return self._reply("main", {"ok": True, "frames": [], "close": None})
        if name == "control":
            # Time control: the conformance case's `control: {advance: S}` moves the fake clock.
            seconds = cmd.get("seconds")
            if cmd.get("op") != "advance":
                return {"ok": False, "unsupported": True, "error": f"unknown op {cmd.get('op')!r}"}
            if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds < 0:
                return {"ok": False, "error": f"advance needs seconds >= 0, not {seconds!r}"}
            before, self.now = self.now, self.now + seconds
            if self.hub is not None and self.jobs is not None:
                # Job timers due meanwhile (a cancel's hard stop) fire at their time, and the
                # held job progress whose slot came goes out (PHL-JOB-025).
                self.jobs.advance(self.hub, before, self.now)
            elif self.hub is not None:
                self.hub.jobs.poll(self.now)
            # What the connections do meanwhile: one silent for three heartbeat intervals is
            # closed with 4000 (PHL-PING-005); its name then opens a new connection.
            closed: dict[str, dict[str, Any]] = {}
            for conn_name, conn in list(self.conns.items()):
                out = conn.poll(self.now)
                if out.close is not None:
                    closed[conn_name] = {"frames": out.frames, "close": out.close}
                    self._connect(conn_name)
            main = closed.pop("main", {"frames": [], "close": None})
            self.elsewhere.update(closed)
            return self._reply("main", {"ok": True, **main})
        if name == "close":
            if self.jobs is not None:
                self.jobs.close()
                self.jobs = None
            self.hub = None
            self.conns, self.users, self.elsewhere = {}, {}, {}
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
