"""The reference server adapter's channel to the fixture job (jobs-long) in the server's worker
processes, which its commands cannot reach in memory: a Unix socket the adapter listens on. A
job, once running, connects, says its id, and then acts on one JSON command line at a time,
answering ``ok`` once it acted (phloem.testing.script.follow_socket). The adapter answers a
`control job` only after that answer, so the progress has been handed to the server; the
server's frames then reach the case's WebSocket, where the runner waits for them.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import socket
import threading
from typing import Any

WAIT = 30.0  # seconds: a bound on a job connecting or answering, never a sleep


class _Job:
    def __init__(self, job_id: str, sock: socket.socket) -> None:
        self.job_id = job_id
        self.sock = sock
        self.lines = sock.makefile("rb")


class JobChannel:
    def __init__(self, path: str) -> None:
        self.path = path
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
                job.job_id = job.lines.readline().decode().strip()
            except OSError:
                sock.close()
                continue
            with self._cond:
                self.live.append(job)
                self._cond.notify_all()

    def command(self, step: dict[str, Any]) -> str | None:
        """Hand `step` to the case's newest job; an error, or None once the job acted. The
        job connects when its worker starts it, which may be just after the case saw it
        running: wait for it, within WAIT."""
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
