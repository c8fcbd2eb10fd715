"""Job messages out (schemas/1.1/messages/job.*.schema.json), built from a job record.

``seq`` is set by the session that numbers them (PHL-DELIV-001). Tests validate every kind
built here against the schemas; at run time what we build is trusted.
"""

from __future__ import annotations

from typing import Any

from phloem.jobs.job import JobRecord
from phloem.protocol._wire_1_1 import JOB_ERROR_MESSAGE_MAX_LENGTH, JOB_ERROR_TYPE_MAX_LENGTH

Message = dict[str, Any]


def _progress_fields(record: JobRecord) -> Message:
    out: Message = {}
    if record.fraction is not None:
        out["fraction"] = record.fraction
    if record.done is not None:
        out["done"] = record.done
        if record.total is not None:
            out["total"] = record.total
    if record.stage is not None:
        out["stage"] = record.stage
    if record.message is not None:
        out["message"] = record.message
    if record.eta is not None:
        out["eta"] = record.eta
    return out


def job_state(record: JobRecord, full: bool = False) -> Message:
    """A lifecycle transition (PHL-JOB-010), or with ``full`` the job's whole current state
    (sync, PHL-JOB-041; and terminal states, which fold in the final progress)."""
    msg: Message = {"type": "job.state", "seq": 0, "job": record.id, "name": record.name}
    msg["state"] = record.state
    if record.attempt != 1:
        msg["attempt"] = record.attempt
    if record.cancel_requested and record.state in ("queued", "running"):
        msg["cancel_requested"] = True
    if full:
        progress = _progress_fields(record)
        if progress:
            msg["progress"] = progress
        if record.log_count:
            msg["log"] = record.log_count
    if record.error is not None and record.state == "failed":
        # Cut here, where the wire message is built: an error may come from the job's own
        # exception, a worker that died, or a row another process wrote.
        msg["error"] = {
            "message": record.error.message[:JOB_ERROR_MESSAGE_MAX_LENGTH],
            "type": record.error.type[:JOB_ERROR_TYPE_MAX_LENGTH],
        }
    return msg


def job_progress(record: JobRecord) -> Message:
    """The job's current progress (coalesced; PHL-JOB-020..025)."""
    msg: Message = {"type": "job.progress", "seq": 0, "job": record.id}
    msg.update(_progress_fields(record))
    return msg


def job_log(record: JobRecord, lines: list[str], tail: bool = False) -> Message:
    """Appended lines (PHL-JOB-030): ``offset`` is the index of the first one in the job's
    log, so a re-sent tail is applied once. ``tail``: the kept newest lines, for a sync."""
    offset = record.log_count - len(lines) if tail else record.log_count
    return {"type": "job.log", "seq": 0, "job": record.id, "offset": offset, "lines": lines}
