"""Jobs that do what a test says: a job body that waits for commands, for driving a job step by
step on a thread backend without sleeping (the conformance fixtures ``long-job`` and
``failing-job`` use it; so may an app's own tests).

    SCRIPT = JobScript()

    @app.job
    def scripted(params, progress):
        return SCRIPT.follow(progress)

    SCRIPT.command(job_id, {"advance": {"fraction": 0.5, "stage": "k = 3"}})
    SCRIPT.settle(job_id)     # returns once the job acted on it (or ended)

In another process (a server's job worker) a job follows the same commands from a Unix socket
instead (:func:`follow_socket`).

Commands: ``{"advance": {fraction?, done?, total?, stage?, message?}}``, ``{"log": [lines]}``,
``{"complete": RESULT}``, ``{"fail": MESSAGE}``. A cancel wakes a waiting job (``wake``), whose
next ``progress()`` then raises. Not imported by ``phloem.testing``: it uses threads.
"""

from __future__ import annotations

import json
import select
import socket
import threading
from collections import deque
from typing import Any

from phloem.jobs.reporter import Progress
from phloem.protocol.errors import PhloemError

WAIT = 30.0  # seconds: a bound on a job thread answering, never a sleep
CANCEL_CHECK = 0.02  # seconds: how often a job waiting on a socket looks at its cancel flag


class ScriptedFailure(PhloemError):
    """What a scripted job raises on ``{"fail": MESSAGE}``."""


class _Gate:
    __slots__ = ("commands", "ended", "waiting", "wakes")

    def __init__(self) -> None:
        self.commands: deque[dict[str, Any]] = deque()
        self.wakes = 0  # cancels not yet seen by the job
        self.waiting = False  # the job waits for a command
        self.ended = False


class JobScript:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._gates: dict[str, _Gate] = {}

    def _gate(self, job_id: str) -> _Gate:
        gate = self._gates.get(job_id)
        if gate is None:
            gate = self._gates[job_id] = _Gate()
        return gate

    def follow(self, progress: Progress) -> Any:
        """The job body: act on each command until one ends the job."""
        with self._cond:
            gate = self._gate(progress.job_id)
        try:
            while True:
                with self._cond:
                    gate.waiting = True
                    self._cond.notify_all()
                    self._cond.wait_for(lambda: bool(gate.commands or gate.wakes), WAIT)
                    gate.waiting = False
                    command = gate.commands.popleft() if gate.commands else {}
                    gate.wakes = 0
                if not command:
                    progress()  # woken by a cancel: raises JobCancelled
                    continue
                done, value = self._act(command, progress)
                if done:
                    return value
        finally:
            with self._cond:
                gate.ended = True
                self._cond.notify_all()

    @staticmethod
    def _act(command: dict[str, Any], progress: Progress) -> tuple[bool, Any]:
        if "advance" in command:
            step = command["advance"]
            progress(
                step.get("fraction"),
                stage=step.get("stage"),
                message=step.get("message"),
                done=step.get("done"),
                total=step.get("total"),
            )
            progress.flush()  # the suite waits for this very step: no coalescing in the job
            return False, None
        if "log" in command:
            progress.log(*command["log"])
            progress.flush()
            return False, None
        if "complete" in command:
            return True, command["complete"]
        if "fail" in command:
            raise ScriptedFailure(str(command["fail"]))
        raise ValueError(f"unknown job command {command!r}")

    def command(self, job_id: str, command: dict[str, Any]) -> None:
        with self._cond:
            self._gate(job_id).commands.append(command)
            self._cond.notify_all()

    def wake(self, job_id: str) -> None:
        """A cancel: a job waiting for a command checks ``progress()`` (and stops)."""
        with self._cond:
            self._gate(job_id).wakes += 1
            self._cond.notify_all()

    def settle(self, job_id: str, timeout: float = WAIT) -> bool:
        """Wait until the job has taken every command and waits again, or has ended; False on
        timeout (the job hangs in its own code)."""
        with self._cond:
            gate = self._gate(job_id)
            return self._cond.wait_for(
                lambda: gate.ended or (gate.waiting and not gate.commands and not gate.wakes),
                timeout,
            )

    def ended(self, job_id: str) -> bool:
        """The job's body returned or raised (its terminal update is the backend's to send)."""
        with self._cond:
            return self._gate(job_id).ended

    def forget(self) -> None:
        with self._cond:
            self._gates.clear()


SCRIPT = JobScript()  # one per process: the fixture app and its adapter share it


def follow_socket(path: str, progress: Progress) -> Any:
    """The job body in a process the driver cannot reach in memory: connect to the driver's
    Unix socket at ``path``, say the job's id (a line), then act on each command (a JSON line)
    and answer ``ok`` once acted (progress flushed to the backend), or ``error: ...``. A cancel
    is seen by looking at ``progress.cancelled`` while waiting (every CANCEL_CHECK s); a
    driver that hangs up ends the job (its result is None)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(path)
        sock.sendall(progress.job_id.encode() + b"\n")
        lines = sock.makefile("rb")
        while True:
            while not select.select([sock], [], [], CANCEL_CHECK)[0]:
                if progress.cancelled:
                    progress()  # raises JobCancelled
            line = lines.readline()
            if not line:
                return None
            try:
                done, value = JobScript._act(json.loads(line), progress)
            except ScriptedFailure:
                sock.sendall(b"ok\n")  # the job acted: it fails, as told
                raise
            except Exception as exc:
                sock.sendall(f"{type(exc).__name__}: {exc}\n".encode())
                raise
            sock.sendall(b"ok\n")
            if done:
                return value
