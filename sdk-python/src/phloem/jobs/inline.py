"""The inline backend: jobs run when a test says so, in its thread, on its fake clock.

No threads and no clock of its own, so the test client (and anything the sans-IO runtime
reaches) may import it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping

from phloem.jobs.job import Job
from phloem.jobs.model import JobSpec, JobUpdate
from phloem.jobs.reporter import Reporter, Sink, execute

Clock = Callable[[], float]


class InlineBackend:
    """Runs nothing until :meth:`run`, which runs the queued jobs one by one in the calling
    thread with ``clock`` (a fake clock in tests)."""

    def __init__(self, jobs: Mapping[str, Job], sink: Sink, clock: Clock = lambda: 0.0) -> None:
        self.jobs = jobs
        self.sink = sink
        self.clock = clock
        self.queue: deque[JobSpec] = deque()
        self.running: dict[str, Reporter] = {}

    def submit(self, spec: JobSpec) -> None:
        self.queue.append(spec)

    def cancel(self, job_id: str, grace: float) -> None:
        for spec in list(self.queue):
            if spec.job_id == job_id:
                self.queue.remove(spec)
                self.sink(JobUpdate(job_id, "cancelled", spec.attempt))
        reporter = self.running.get(job_id)
        if reporter is not None:  # cancelled from inside a job (a handler it triggered)
            reporter.cancel()

    def run(self, limit: int | None = None) -> int:
        """Run queued jobs (at most ``limit``) to their end; how many ran."""
        ran = 0
        while self.queue and (limit is None or ran < limit):
            spec = self.queue.popleft()
            reporter = Reporter(spec.job_id, self.sink, self.clock, spec.attempt)
            self.running[spec.job_id] = reporter
            try:
                self.sink(execute(self.jobs[spec.name].fn, spec.params, reporter))
            finally:
                del self.running[spec.job_id]
            ran += 1
        return ran

    def shutdown(self) -> None:
        for spec in self.queue:
            self.sink(JobUpdate(spec.job_id, "interrupted", spec.attempt))
        self.queue.clear()
