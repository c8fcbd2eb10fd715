"""The reference server adapter's channel to the fixture job (jobs-long) in the server's worker
processes, which its commands cannot reach in memory: a Unix socket the adapter listens on. A
job, once running, connects, says its id, and then acts on one JSON command line at a time,
answering ``ok`` once it acted (phloem.testing.script.follow_socket). The adapter answers a
`control job` only after that answer, so the progress has been handed to the server; the
server's frames then reach the case's WebSocket, where the runner waits for them.

The lifecycle steps act on the server's worker processes, not through a job's code: ``crash``
kills the newest job's worker (its pid came with its greeting) with SIGKILL and answers once
its socket hung up, so the server's own crash path is what the case judges; ``hold`` asks the
server (``occupy``, a callable the adapter gives) for its pool's size and to queue one
``occupy`` run per worker not running a job of the case, and answers once each holds a worker
(they greet with ``occupy``), so the case's next run really waits in the server's queue;
``release`` hangs up on them.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import threading
from collections.abc import Callable
from typing import Any

WAIT = 30.0  # seconds: a bound on a job connecting or answering, never a sleep


class _Job:
    def __init__(self, job_id: str, sock: socket.socket) -> None:
        self.job_id = job_id
        self.pid: int | None = None  # the worker process running it
        self.sock = sock
        self.lines = sock.makefile("rb")


class JobChannel:
    """``occupy(request)`` asks the fixture apps in the server: ``"workers"`` answers "ok N"
    (the pool's size) or "unsupported"; ``"occupy K"`` queues K runs of the fixture app's
    ``occupy`` job (apps.py, ``_occupy_workers``)."""

    def __init__(self, path: str, occupy: Callable[[str], str] | None = None) -> None:
        self.path = path
        self.occupy = occupy
        self.occupiers: list[_Job] = []  # occupy runs holding a worker
        self.released = True  # occupy runs that connect now are hung up on at once
        if os.path.exists(path):  # left by an adapter that died
            os.unlink(path)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen()
        self._cond = threading.Condition()
        self.live: list[_Job] = []  # connected and not ended, oldest first
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:  # closed
                return
            sock.settimeout(WAIT)
            job = _Job("", sock)
            try:
                greeting = job.lines.readline().decode().split()  # "ID PID [occupy]"
            except OSError:
                sock.close()
                continue
            if not greeting:
                _hang_up(job)
                continue
            job.job_id = greeting[0]
            job.pid = int(greeting[1]) if len(greeting) > 1 and greeting[1].isdigit() else None
            with self._cond:
                if greeting[2:] == ["occupy"]:
                    if self.released:
                        _hang_up(job)  # queued behind the hold, started after its release
                    else:
                        self.occupiers.append(job)
                else:
                    self.live.append(job)
                self._cond.notify_all()

    def command(self, step: dict[str, Any]) -> str | None:
        """Hand `step` to the case's newest job (or, for hold, release and crash, act on the
        workers); an error, "unsupported", or None once done. The job connects when its
        worker starts it, which may be just after the case saw it running: wait for it,
        within WAIT."""
        if "hold" in step:
            return self.hold()
        if "release" in step:
            self.release()
            return None
        if "crash" in step:
            return self.crash()
        with self._cond:
            if not self._cond.wait_for(self._prune, WAIT):
                return "no running job to control (start one first)"
            job = self.live[-1]
        try:
            job.sock.sendall(json.dumps(step).encode() + b"\n")
            answer = job.lines.readline().decode().strip()
        except OSError as exc:
            answer = f"{type(exc).__name__}: {exc}"
        if answer != "ok" or any(k in step for k in ("complete", "fail")):
            self._drop(job)  # it ended (or cannot be driven any more)
        if answer != "ok":
            return f"job {job.job_id}: {answer or 'ended without acting'}"
        return None

    def hold(self) -> str | None:
        """Take every worker of the server that does not run a job of the case: ask the pool's
        size, queue an occupy run per free worker, and wait until each runs."""
        ask = self.occupy
        if ask is None:
            return "unsupported"
        answer = ask("workers")
        if not answer.startswith("ok "):
            return answer if answer == "unsupported" else f"workers: {answer}"
        size = int(answer.split()[1])
        with self._cond:
            self._prune()
            free = max(0, size - len(self.live) - len(self.occupiers))
            self.released = False  # before they are queued: they may connect at once
        answer = ask(f"occupy {free}") if free else answer
        if not answer.startswith("ok "):
            self.release()
            return f"occupy: {answer}"
        with self._cond:
            if not self._cond.wait_for(
                lambda: len(self.occupiers) + len(self.live) >= size, WAIT
            ):
                return f"the server's {size} workers were not all taken within {WAIT} s"
        return None

    def release(self) -> None:
        with self._cond:
            occupiers, self.occupiers, self.released = self.occupiers, [], True
        for job in occupiers:
            _hang_up(job)

    def crash(self) -> str | None:
        """Kill the worker process running the case's newest job (kill -9) and wait until
        it is dead (its socket hung up)."""
        with self._cond:
            if not self._cond.wait_for(self._prune, WAIT):
                return "no running job to crash (start one first)"
            job = self.live[-1]
        if job.pid is None:
            return f"job {job.job_id} did not say its process id"
        os.kill(job.pid, signal.SIGKILL)
        ready, _, _ = select.select([job.sock], [], [], WAIT)
        self._drop(job)
        return None if ready else f"job {job.job_id}: its worker {job.pid} did not die"

    def _prune(self) -> bool:
        """Forget the jobs that hung up (cancelled, or ended on their own); any left?"""
        self.live = [job for job in self.live if _connected(job)]
        return bool(self.live)

    def _drop(self, job: _Job) -> None:
        with self._cond:
            if job in self.live:
                self.live.remove(job)
        _hang_up(job)

    def end_all(self) -> None:
        """The case is over: hang up on its jobs, which then end (freeing the workers)."""
        self.release()
        with self._cond:
            jobs, self.live = self.live, []
        for job in jobs:
            _hang_up(job)

    def close(self) -> None:
        self.end_all()
        self.listener.close()
        if os.path.exists(self.path):
            os.unlink(self.path)


def _connected(job: _Job) -> bool:
    """A job writes only answers, so a socket readable between commands is at its end."""
    ready, _, _ = select.select([job.sock], [], [], 0)
    if not ready:
        return True
    try:
        if job.sock.recv(1, socket.MSG_PEEK):
            return True
    except OSError:
        pass
    job.sock.close()
    return False


def _hang_up(job: _Job) -> None:
    """Close for the job's side too (the reader made from the socket keeps its fd open)."""
    with contextlib.suppress(OSError):
        job.sock.shutdown(socket.SHUT_RDWR)
    job.lines.close()
    job.sock.close()
