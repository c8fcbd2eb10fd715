"""Jobs for the SDK conformance adapter: the fixture jobs run on the SDK's thread backend, and
after every command the adapter *settles* them (each job has acted on what it was told and
waits again, or has ended) and feeds their updates to the runtime, so a reply holds every
frame the command caused and a run is deterministic without sleeping.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from phloem.app.app import App
from phloem.jobs import JobUpdate
from phloem.jobs.backends import ThreadBackend
from phloem.runtime import Hub
from phloem.runtime.jobs import Cancel, Submit
from phloem.testing.script import SCRIPT

TERMINAL = {"succeeded", "failed", "cancelled", "interrupted"}


class JobDriver:
    def __init__(self, app: App) -> None:
        self.updates: deque[JobUpdate] = deque()  # appended by pool threads
        self.backend = ThreadBackend(app.jobs, self.updates.append, workers=4)
        self.live: list[str] = []  # submitted, not ended, oldest first
        self.newest: str | None = None

    def settle(self, hub: Hub, now: float) -> None:
        """Hand the runtime's commands to the backend, wait for every live job to be idle,
        and apply what they reported; again until nothing moves."""
        while True:
            for command in hub.jobs.commands():
                if isinstance(command, Submit):
                    self.live.append(command.spec.job_id)
                    self.newest = command.spec.job_id
                command.run(self.backend)
                if isinstance(command, Cancel):
                    SCRIPT.wake(command.job_id)  # a job waiting for the suite stops now
            for job_id in self.live:
                if not SCRIPT.settle(job_id):
                    raise TimeoutError(f"job {job_id} did not settle")
            if not self.updates:
                return
            while self.updates:
                update = self.updates.popleft()
                if update.kind in TERMINAL and update.job_id in self.live:
                    self.live.remove(update.job_id)
                hub.jobs.apply(update, now)

    def command(self, hub: Hub, now: float, job: dict[str, Any]) -> str | None:
        """A fixture control (advance, log, complete, fail) for the newest run; an error."""
        if self.newest is None or self.newest not in self.live:
            return "no running job to control (start one first)"
        SCRIPT.command(self.newest, job)
        self.settle(hub, now)
        return None

    def close(self) -> None:
        for job_id in self.live:  # let waiting threads end before the ids are reused
            SCRIPT.command(job_id, {"complete": None})
        for job_id in self.live:
            SCRIPT.settle(job_id)
        self.backend.shutdown()
        SCRIPT.forget()
