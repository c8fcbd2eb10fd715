"""Jobs for the SDK conformance adapter: the fixture jobs run on the SDK's thread backend, and
after every command the adapter *settles* them (each job has acted on what it was told and
waits again, or has ended) and feeds their updates to the runtime, so a reply holds every
frame the command caused and a run is deterministic without sleeping.

Time is the adapter's clock: the backend's hard-stop timers (a cancel's grace, PHL-JOB-062)
are kept here and fire when :meth:`JobDriver.advance` moves the clock past them, in order,
each followed by the runtime's own deadlines at that instant.

The lifecycle steps of the fixture contract (conformance/fixtures/jobs-long.md):

- ``hold``: the pool's free workers are taken by ``occupy`` runs, so the next run waits in
  the backend's real queue (a cancel then ends it without starting); ``release`` frees them;
- ``crash``: an in-process backend has no process to lose, so the driver plays the
  supervisor of a process backend whose worker died: the run's body falls silent for good,
  and the run is reported ``interrupted``, or, when its job was declared safe to retry, runs
  again on the pool as the next attempt (the runtime announces it, PHL-JOB-010);
- ``ignore_cancel``: passed to the run's body, which then never looks at its cancel.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import math
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from phloem.app.app import App
from phloem.jobs import JobSpec, JobUpdate
from phloem.jobs.backends import ThreadBackend
from phloem.jobs.job import Job
from phloem.runtime import Hub
from phloem.runtime.jobs import Cancel, Submit
from phloem.testing.script import SCRIPT, WAIT

TERMINAL = {"succeeded", "failed", "cancelled", "interrupted"}
WORKERS = 4  # the pool: enough for a case's runs (two users, a superseded run, a crash)
OCCUPY = "occupy"  # the fixture app's job that only takes a worker (`hold`)


class JobDriver:
    def __init__(self, app: App) -> None:
        self.updates: deque[JobUpdate] = deque()  # appended by pool threads
        self._cond = threading.Condition()
        self._reported_end: set[str] = set()  # jobs whose terminal update has arrived
        self._busy = 0  # pool threads inside a job body (occupiers and crashed bodies too)
        self._started: set[str] = set()  # runs whose body began
        self.now = 0.0  # the clock at the last settle: when a timer's delay starts
        self._timers: list[tuple[float, int, Callable[[], None]]] = []  # a heap by due time
        self._order = itertools.count()
        jobs = {name: self._counted(job) for name, job in app.jobs.items()}
        self.backend = ThreadBackend(jobs, self._sink, workers=WORKERS, timer=self._timer)
        self.specs: dict[str, JobSpec] = {}  # the runs the runtime submitted, newest attempt
        self.live: list[str] = []  # submitted, not ended, oldest first
        self.newest: str | None = None
        self.held = False
        self._occupiers = (f"{OCCUPY}-{n}" for n in itertools.count(1))

    def _counted(self, job: Job) -> Job:
        """The job with its body counted as a busy worker while it runs (for `hold`)."""
        fn = job.fn

        def body(params: Any, progress: Any) -> Any:
            with self._cond:
                self._busy += 1
                self._started.add(progress.job_id)
                self._cond.notify_all()
            try:
                return fn(params, progress)
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

        return Job(body, job.name, job.options)

    def _timer(self, delay: float, fn: Callable[[], None]) -> None:
        """The backend's timer factory: due ``delay`` seconds after the settle that made it."""
        heapq.heappush(self._timers, (self.now + delay, next(self._order), fn))

    def _sink(self, update: JobUpdate) -> None:
        if update.job_id.startswith(OCCUPY):
            return  # no run of the runtime's
        with self._cond:
            self.updates.append(update)
            if update.kind in TERMINAL:
                self._reported_end.add(update.job_id)
            self._cond.notify_all()

    def settle(self, hub: Hub, now: float) -> None:
        """Hand the runtime's commands to the backend, wait for every live job to be idle,
        and apply what they reported; again until nothing moves. A run that waits in the
        queue behind a `hold` is idle."""
        self.now = now
        while True:
            for command in hub.jobs.commands():
                if isinstance(command, Submit):
                    self.live.append(command.spec.job_id)
                    self.specs[command.spec.job_id] = command.spec
                    self.newest = command.spec.job_id
                command.run(self.backend)
                if isinstance(command, Cancel):
                    SCRIPT.wake(command.job_id)  # a job waiting for the suite stops now
            for job_id in self.live:
                with self._cond:
                    if self.held and job_id not in self._started:
                        continue  # queued behind the occupiers
                if not SCRIPT.settle(job_id):
                    raise TimeoutError(f"job {job_id} did not settle")
                if SCRIPT.ended(job_id):  # its body is over: wait for the backend's report
                    with self._cond:
                        if not self._cond.wait_for(lambda j=job_id: j in self._reported_end, WAIT):
                            raise TimeoutError(f"job {job_id} ended but was never reported")
            if not self.updates:
                return
            while self.updates:
                update = self.updates.popleft()
                if update.kind in TERMINAL and update.job_id in self.live:
                    self.live.remove(update.job_id)
                hub.jobs.apply(update, now)

    def advance(self, hub: Hub, now: float, to: float) -> None:
        """Move the clock from ``now`` to ``to`` one due time after the other: the backend's
        timers (settled at once: what they caused reaches the runtime at that time) and the
        runtime's own deadlines (held progress, a cancel's bound), in the order they fall."""
        while True:
            timer = self._timers[0][0] if self._timers else math.inf
            table = hub.jobs.deadline()
            at = min(timer, math.inf if table is None else table)
            if at > to:
                break
            at = max(now, at)
            if timer <= at:
                _, _, fire = heapq.heappop(self._timers)
                fire()
                self.settle(hub, at)
            hub.jobs.poll(at)
        hub.jobs.poll(to)

    def command(self, hub: Hub, now: float, job: dict[str, Any]) -> str | None:
        """A fixture control step (conformance/fixtures/jobs-long.md); an error, or None once
        done and settled."""
        if "hold" in job:
            problem = self._hold()
        elif "release" in job:
            self.held = False
            SCRIPT.release()
            problem = None
        elif self.newest is None or self.newest not in self.live:
            return "no running job to control (start one first)"
        elif "crash" in job:
            with self._cond:
                queued = self.newest not in self._started
            if queued:  # behind a hold: no process runs it
                return "the newest run is queued: no process runs it to crash"
            problem = self._crash(self.newest)
        else:
            SCRIPT.command(self.newest, job)
            problem = None
        if problem is None:
            self.settle(hub, now)
        return problem

    def _hold(self) -> str | None:
        """Take every free worker of the pool with an occupier and wait until they run."""
        with self._cond:
            free = WORKERS - self._busy
        for _ in range(free):
            self.backend.submit(JobSpec(next(self._occupiers), OCCUPY, None, "conformance"))
        with self._cond:
            if not self._cond.wait_for(lambda: self._busy >= WORKERS, WAIT):
                return "the pool's workers could not all be taken"
            self.held = True
        return None

    def _crash(self, job_id: str) -> str | None:
        """What a process backend's supervisor does when the worker running ``job_id`` dies:
        report it interrupted, or run it again as the next attempt when safe to retry."""
        spec = self.specs[job_id]
        SCRIPT.crash(job_id)
        if spec.options.retry:
            again = dataclasses.replace(spec, attempt=spec.attempt + 1)
            self.specs[job_id] = again
            self.backend.submit(again)
        else:
            self.live.remove(job_id)
            self._sink(JobUpdate(job_id, "interrupted", spec.attempt))
        return None

    def close(self) -> None:
        SCRIPT.release()  # runs queued behind a hold start, and complete at once
        SCRIPT.end_all()  # every body that has not ended completes
        for job_id in self.live:
            SCRIPT.settle(job_id)
        self.held = False
        self.backend.shutdown()
        SCRIPT.forget()  # crashed bodies and occupiers end
