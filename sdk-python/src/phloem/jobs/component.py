"""``JobProgress``: the component that shows a job (since protocol 1.1).

The node names the job; a renderer with the ``jobs`` feature shows the job's state from its job
store (bar, stage, ETA, log tail, cancel button), never from tree props, so progress costs no
patch (docs/design/jobs-1.1.md §2; spec/1.1/components/JobProgress.md).
"""

from __future__ import annotations

from typing import Any

from phloem.jobs.job import JobHandle
from phloem.ui.components import Element


def JobProgress(
    job: JobHandle | str,
    *,
    label: str | None = None,
    cancel: bool = True,
    log: int = 0,
    id: str | None = None,
) -> Element:
    """Show ``job`` (a handle or a job id): ``label`` names the bar; ``cancel=False`` hides
    the cancel button; ``log``: how many of the newest log lines to show (0: none)."""
    job_id = job.id if isinstance(job, JobHandle) else job
    if not isinstance(job_id, str):
        raise TypeError(f"JobProgress needs a job handle or a job id, not {job!r}")
    if not 0 <= log <= 200:
        raise ValueError(f"JobProgress log must be within 0..200 lines, not {log!r}")
    props: dict[str, Any] = {"job": job_id}
    if label is not None:
        props["label"] = label
    if not cancel:
        props["cancel"] = False
    if log:
        props["log"] = log
    return Element("JobProgress", props, (), id)
