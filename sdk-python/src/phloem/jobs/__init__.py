"""Long-running jobs: authoring (``@app.job``), the job-side ``progress`` reporter, and the
values a backend exchanges with the runtime (docs/design/jobs-1.1.md §9).

Backends that run jobs on threads live in :mod:`phloem.jobs.backends` (imported explicitly:
this package stays free of threads and clocks, because the sans-IO runtime imports it).
"""

from phloem.jobs.component import JobProgress
from phloem.jobs.job import Job, JobHandle, JobRecord, JobsUnavailable, Scope
from phloem.jobs.model import (
    STATES,
    TERMINAL,
    JobError,
    JobOptions,
    JobSpec,
    JobUpdate,
    State,
)
from phloem.jobs.reporter import JobCancelled, Reporter, Sink, execute

__all__ = [
    "STATES",
    "TERMINAL",
    "Job",
    "JobCancelled",
    "JobError",
    "JobHandle",
    "JobOptions",
    "JobProgress",
    "JobRecord",
    "JobSpec",
    "JobUpdate",
    "JobsUnavailable",
    "Reporter",
    "Scope",
    "Sink",
    "State",
    "execute",
]
