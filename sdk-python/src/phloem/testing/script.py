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
``{"complete": RESULT}``, ``{"fail": MESSAGE}``, ``{"ignore_cancel": true}``. A cancel wakes a
waiting job (``wake``), whose next ``progress()`` then raises, unless it was told to ignore
cancels: then it never looks (a job that never checks, for the hard stop, PHL-JOB-062).
:meth:`JobScript.crash` leaves a job's body hanging for good, as if its process had died; a new
attempt of the job follows a fresh gate. :meth:`JobScript.occupy` is the body of a job that
only holds a worker until :meth:`JobScript.release`. Not imported by ``phloem.testing``: it
uses threads.
"""

from __future__ import annotations

import json
import os
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
    __slots__ = ("commands", "dead", "ended", "ignore_cancel", "waiting", "wakes")

    def __init__(self) -> None:
        self.commands: deque[dict[str, Any]] = deque()
        self.wakes = 0  # cancels not yet seen by the job
        self.waiting = False  # the job waits for a command
        self.ended = False
        self.ignore_cancel = False  # a cancel no longer wakes it
        self.dead = False  # crashed: its body hangs until forget(), silent


class _Lost(BaseException):
    """Ends the thread of a crashed job's body once the script is forgotten; a BaseException,
    so that no job code catches it (nothing of it reaches the runtime: the backend that
    ran it was shut down, or a newer attempt fenced it off)."""


class JobScript:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._gates: dict[str, _Gate] = {}
        self._generation = 0  # bumped by forget(): hanging bodies and occupiers end
        self._held = 0  # release() bumps it: occupiers of an older hold end

    def _gate(self, job_id: str) -> _Gate:
        gate = self._gates.get(job_id)
        if gate is None:
            gate = self._gates[job_id] = _Gate()
        return gate

    def follow(self, progress: Progress) -> Any:
        """The job body: act on each command until one ends the job."""
        with self._cond:
            gate = self._gate(progress.job_id)
        generation = self._generation
        try:
            while True:
                with self._cond:
                    gate.waiting = True
                    self._cond.notify_all()
                    self._cond.wait_for(
                        lambda: bool(gate.commands or gate.wakes or gate.dead), WAIT
                    )
                    gate.waiting = False
                    if gate.dead:  # its process "died": silent until the script is forgotten
                        self._cond.wait_for(lambda: self._generation != generation)
                        raise _Lost
                    command = gate.commands.popleft() if gate.commands else {}
                    ignored = gate.wakes and gate.ignore_cancel
                    gate.wakes = 0
                if not command:
                    if not ignored:
                        progress()  # woken by a cancel: raises JobCancelled
                    continue
                if "ignore_cancel" in command:
                    with self._cond:
                        gate.ignore_cancel = bool(command["ignore_cancel"])
                    continue
                done, value = self._act(command, progress)
                if done:
                    return value
        finally:
            with self._cond:
                if not gate.dead:
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

    def crash(self, job_id: str) -> None:
        """The job's process "dies": its body stops acting and reporting for good (it hangs
        until :meth:`forget`), and the next body of the same job (a new attempt) follows a
        fresh gate."""
        with self._cond:
            gate = self._gates.pop(job_id, None)
            if gate is not None:
                gate.dead = True
                self._cond.notify_all()

    def occupy(self) -> None:
        """The body of a job that only takes a worker: it returns at the next
        :meth:`release` (or :meth:`forget`)."""
        with self._cond:
            held, generation = self._held, self._generation
            self._cond.wait_for(lambda: (self._held, self._generation) != (held, generation))

    def release(self) -> None:
        """End every :meth:`occupy` body."""
        with self._cond:
            self._held += 1
            self._cond.notify_all()

    def end_all(self) -> None:
        """Tell every job body that has not ended to complete (a case is over)."""
        with self._cond:
            for gate in self._gates.values():
                if not gate.ended:
                    gate.commands.append({"complete": None})
            self._cond.notify_all()

    def forget(self) -> None:
        with self._cond:
            self._gates.clear()
            self._generation += 1  # crashed bodies and occupiers end
            self._cond.notify_all()


SCRIPT = JobScript()  # one per process: the fixture app and its adapter share it


def follow_socket(path: str, progress: Progress) -> Any:
    """The job body in a process the driver cannot reach in memory: connect to the driver's
    Unix socket at ``path``, say the job's id and this process's id (a line: the driver may
    kill the process, as a crash), then act on each command (a JSON line) and answer ``ok``
    once acted (progress flushed to the backend), or ``error: ...``. A cancel is seen by
    looking at ``progress.cancelled`` while waiting (every CANCEL_CHECK s), until a command
    ``{"ignore_cancel": true}``; a driver that hangs up ends the job (its result is None)."""
    ignore_cancel = False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(path)
        sock.sendall(f"{progress.job_id} {os.getpid()}\n".encode())
        lines = sock.makefile("rb")
        while True:
            while not select.select([sock], [], [], CANCEL_CHECK)[0]:
                if progress.cancelled and not ignore_cancel:
                    progress()  # raises JobCancelled
            line = lines.readline()
            if not line:
                return None
            command = json.loads(line)
            if "ignore_cancel" in command:
                ignore_cancel = bool(command["ignore_cancel"])
                sock.sendall(b"ok\n")
                continue
            try:
                done, value = JobScript._act(command, progress)
            except ScriptedFailure:
                sock.sendall(b"ok\n")  # the job acted: it fails, as told
                raise
            except Exception as exc:
                sock.sendall(f"{type(exc).__name__}: {exc}\n".encode())
                raise
            sock.sendall(b"ok\n")
            if done:
                return value


def occupy_socket(path: str, progress: Progress) -> None:
    """The body of a job that only takes a worker process, in a process the driver cannot
    reach in memory: connect to the driver's socket, say ``ID PID occupy``, and return when
    the driver hangs up (its ``release``)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(path)
        sock.sendall(f"{progress.job_id} {os.getpid()} occupy\n".encode())
        while sock.recv(64):
            pass
