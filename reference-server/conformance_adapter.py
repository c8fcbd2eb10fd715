"""Conformance adapter (adapter_protocol 1, role "server") for the reference server.

The runner writes one JSON command per line on stdin and reads one JSON reply per line on
stdout. The first `open` starts `phloem run` on the SDK's fixture apps on a free loopback
port; the server stays up across cases (each case opens its own WebSocket, so its session is
fresh) and stops on `bye`. Everything else goes to stderr.

`{"cmd": "login", "user": KEY}` signs in a user named KEY (created on first use) and answers
`{"ok": true, "headers": {"Cookie": "sessionid=..."}}`: the header a connection sends with its
WebSocket upgrade to be that user (fixture `private`, PHL-SEC-007/008). The adapter writes the
Django session straight into the server's database, sharing its SECRET_KEY.

`{"cmd": "control", "op": "advance", "seconds": S}` waits S seconds (at most 5): the server's
clock is the wall clock. A longer advance is answered unsupported (the case is N/A).
`{"cmd": "control", "op": "push", "name": N}` runs the fixture apps' server-side update N on the
server's newest session, through a Unix socket they listen on inside the server process.
`{"cmd": "control", "op": "job", "job": {...}}` (fixture jobs-long) hands the step to the case's
newest job, which runs in a worker process of the server: it connects to the adapter's Unix
socket (conformance_jobchannel.py) and the reply comes once it has acted. The lifecycle steps
act on the server's workers: `hold` fills the embedded pool with runs of another owner (asked
of the fixture apps inside the server through the updates socket), `release` ends them, and
`crash` kills the newest job's worker process with SIGKILL.

    python reference-server/conformance_adapter.py [--server daphne|uvicorn]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from conformance_jobchannel import JobChannel

REPO = Path(__file__).resolve().parent.parent
FIXTURE_APPS = REPO / "sdk-python" / "fixtures" / "apps.py"
MAX_WAIT_SECONDS = 5  # `control: {advance}` waits; longer advances are answered unsupported


def _fixtures() -> tuple[str, ...]:
    """Each fixture is the page at /<fixture name> of the fixture app."""
    import phloem as ph

    pages = ph.load_app(FIXTURE_APPS).pages
    return tuple(sorted(p.lstrip("/") for p in pages))


FIXTURES = _fixtures()
READY = re.compile(r"Phloem: serving .+ at http://(?P<host>[^\s:/]+):(?P<port>\d+)")
START_TIMEOUT = 60.0


class Server:
    """One `phloem run` subprocess, started on first use."""

    def __init__(self, server: str | None) -> None:
        self.server = server
        self.proc: subprocess.Popen[str] | None = None
        self.data_dir: str | None = None
        self.port: int | None = None
        self.secret_key = secrets.token_urlsafe(50)  # shared with the server, for logins
        self.django_ready = False
        self.jobs: JobChannel | None = None
        self.case = 0  # counts `open`s: each case signs in users of its own

    def updates_socket(self) -> str:
        assert self.data_dir is not None
        return os.path.join(self.data_dir, "updates.sock")

    def push(self, name: str) -> dict[str, Any]:
        """Run the fixture's server-side update `name` on the server's newest session (the
        case's), through the socket the fixture apps listen on inside the server process."""
        answer = self.ask(name)
        return {"ok": True} if answer == "ok" else {"ok": False, "error": answer or "no answer"}

    def ask(self, line: str) -> str:
        """One request to the fixture apps inside the server process (an update's name, or
        `occupy` for a hold, conformance_jobchannel.py); their one-line answer."""
        import socket

        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(15)
            sock.connect(self.updates_socket())
            sock.sendall(line.encode() + b"\n")
            return sock.makefile("rb").readline().decode().strip()

    def ensure_started(self) -> int:
        if self.proc is not None and self.proc.poll() is None and self.port is not None:
            return self.port
        if self.data_dir is None:  # kept across restarts: the adapter's Django points at it
            self.data_dir = tempfile.mkdtemp(prefix="phloem-conformance-")
        if os.path.exists(self.updates_socket()):  # left by a server that died: bind anew
            os.unlink(self.updates_socket())
        cmd = [sys.executable, "-m", "phloem_server.cli", "run", str(FIXTURE_APPS)]
        cmd += ["--host", "127.0.0.1", "--port", "0", "--no-reload"]  # production behaviour
        if self.server:
            cmd += ["--server", self.server]
        if self.jobs is None:
            self.jobs = JobChannel(
                os.path.join(self.data_dir, "jobs.sock"), occupy=self.ask
            )
        env = {
            **os.environ,
            # The fixture's job (jobs-long), in a worker process, takes its steps from here.
            "PHLOEM_CONFORMANCE_JOBS": self.jobs.path,
            # The fixture apps listen here for `control: {push: NAME}` (fixture server-push).
            "PHLOEM_CONFORMANCE_UPDATES": self.updates_socket(),
            "PHLOEM_DATA_DIR": self.data_dir,
            "PHLOEM_SECRET_KEY": self.secret_key,
        }
        env.pop("DJANGO_SETTINGS_MODULE", None)
        # The server's stderr is ours (the runner logs it); its stdout must never reach our
        # stdout, which carries only replies.
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)
        self.port = self._wait_ready()
        return self.port

    def _wait_ready(self) -> int:
        assert self.proc is not None and self.proc.stdout is not None
        found: list[int] = []
        done = threading.Event()

        def pump() -> None:
            for line in self.proc.stdout:  # type: ignore[union-attr]
                if not found and (match := READY.search(line)):
                    found.append(int(match["port"]))
                    done.set()
                sys.stderr.write(line)
            done.set()

        threading.Thread(target=pump, daemon=True).start()
        if not done.wait(START_TIMEOUT) or not found:
            self.stop()
            raise RuntimeError(f"phloem run did not start listening within {START_TIMEOUT} s")
        return found[0]

    def login(self, key: str) -> dict[str, str]:
        """A session cookie for user `key` in the server's database (Django's own login data:
        the user's id, backend and session auth hash)."""
        self.ensure_started()  # the server has migrated the database
        if not self.django_ready:
            os.environ["PHLOEM_DATA_DIR"] = str(self.data_dir)
            os.environ["PHLOEM_SECRET_KEY"] = self.secret_key
            os.environ["DJANGO_SETTINGS_MODULE"] = "phloem_server.settings"
            import django

            django.setup()
            self.django_ready = True
        from django.conf import settings
        from django.contrib import auth
        from django.contrib.auth.models import User
        from django.contrib.sessions.backends.db import SessionStore

        # A user of this case only: a job a previous case left to the same key is not this
        # case's (its cases are isolated like its sessions); two logins of one case share it.
        user, _ = User.objects.get_or_create(username=f"{key}.case{self.case}")
        session = SessionStore()
        session[auth.SESSION_KEY] = str(user.pk)
        session[auth.BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[auth.HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.save()
        return {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}"}

    def stop(self) -> None:
        if self.jobs is not None:
            self.jobs.close()
            self.jobs = None
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def remove_data(self) -> None:
        if self.data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self.data_dir = None


def handle(server: Server, command: dict[str, Any]) -> dict[str, Any]:
    cmd = command.get("cmd")
    if cmd == "hello":
        if command.get("adapter_protocol") != 1:
            return {"ok": False, "error": "this adapter speaks adapter_protocol 1"}
        return {
            "ok": True,
            "role": "server",
            "implementation": {
                "name": "phloem-reference-server",
                "version": _version(),
                "language": "python",
            },
            "fixtures": list(FIXTURES),
            "supports": ["control", "login"],  # the optional commands it has
        }
    if cmd == "open":
        fixture = command.get("fixture")
        if fixture not in FIXTURES:
            return {"ok": False, "error": f"unknown fixture {fixture!r}"}
        port = server.ensure_started()
        server.case += 1
        return {
            "ok": True,
            "url": f"ws://127.0.0.1:{port}/phloem/ws",
            "path": f"/{fixture}",
            "origin": f"http://127.0.0.1:{port}",
        }
    if cmd == "login":
        user = command.get("user")
        if not isinstance(user, str) or not user:
            return {"ok": False, "error": "login needs a user key (a non-empty string)"}
        return {"ok": True, "headers": server.login(user)}
    if cmd == "control" and command.get("op") == "push":
        server.ensure_started()
        return server.push(str(command.get("name")))
    if cmd == "control" and command.get("op") == "job":
        if server.jobs is None:
            return {"ok": False, "error": "control before open"}
        problem = server.jobs.command(command.get("job") or {})
        if problem == "unsupported":  # a step this server cannot take: the case is N/A
            return {"ok": False, "unsupported": True, "error": "the server cannot do that step"}
        return {"ok": False, "error": problem} if problem else {"ok": True}
    if cmd == "control":
        # The server runs on the wall clock, so moving its clock on means waiting. Short waits
        # only (a heartbeat case's few seconds); longer ones are N/A, not minutes of sleep.
        seconds = command.get("seconds")
        if command.get("op") != "advance" or not isinstance(seconds, (int, float)):
            return {"ok": False, "unsupported": True, "error": "only advance is supported"}
        if isinstance(seconds, bool) or not 0 <= seconds <= MAX_WAIT_SECONDS:
            return {
                "ok": False,
                "unsupported": True,
                "error": f"the wall clock is advanced by waiting, at most {MAX_WAIT_SECONDS} s",
            }
        time.sleep(seconds)
        return {"ok": True}
    if cmd in ("close", "bye"):
        if server.jobs is not None:  # the case is over: its jobs end, freeing the workers
            server.jobs.end_all()
        if cmd == "bye":
            server.stop()
        return {"ok": True}
    return {"ok": False, "error": f"unknown command {cmd!r}"}


def _version() -> str:
    try:
        return metadata.version("phloem")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", choices=("daphne", "uvicorn"), default=None)
    args = parser.parse_args(argv)
    server = Server(args.server)
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            try:
                command = json.loads(line)
                reply = handle(server, command)
            except Exception as exc:  # every command gets exactly one reply
                command, reply = {}, {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
            sys.stdout.write(json.dumps(reply) + "\n")
            sys.stdout.flush()
            if command.get("cmd") == "bye":
                return 0
    finally:
        server.stop()
        server.remove_data()
    return 0


if __name__ == "__main__":
    sys.exit(main())
