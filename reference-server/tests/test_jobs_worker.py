"""The embedded worker's priority setting (the worker itself runs in test_jobs_embedded.py)."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from phloem.jobs import JobUpdate
from phloem_server.jobs import worker


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, 19), ("", 19), ("0", 0), ("10", 10), ("25", 19), ("-5", 0), ("high", 19)],
)
def test_jobs_run_at_the_configured_niceness_within_0_to_19(
    monkeypatch: pytest.MonkeyPatch, raw: str | None, expected: int
) -> None:
    if raw is None:
        monkeypatch.delenv("PHLOEM_JOB_NICE", raising=False)
    else:
        monkeypatch.setenv("PHLOEM_JOB_NICE", raw)
    assert worker.nice() == expected


class FakeConn:
    """Records what the worker's pipe sends, as the supervisor's Connection.recv() reads it."""

    def __init__(self) -> None:
        self.received: list[Any] = []

    def send(self, msg: Any) -> None:
        self.received.append(pickle.loads(pickle.dumps(msg)))

    def send_bytes(self, data: bytes) -> None:
        self.received.append(pickle.loads(data))


def test_a_result_within_the_limit_arrives_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PHLOEM_JOB_RESULT_BYTES", "10000")
    conn = FakeConn()
    worker.Pipe(conn).update(JobUpdate("j1", "succeeded", result={"rows": list(range(100))}))
    ((tag, update),) = conn.received
    assert (tag, update.kind, update.result) == ("update", "succeeded", {"rows": list(range(100))})


def test_a_result_over_the_limit_fails_the_job_saying_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PHLOEM_JOB_RESULT_BYTES", "10000")
    conn = FakeConn()
    worker.Pipe(conn).update(JobUpdate("j1", "succeeded", 2, result=b"x" * 20_000))
    ((_, update),) = conn.received
    assert (update.job_id, update.kind, update.attempt, update.result) == ("j1", "failed", 2, None)
    assert update.error.type == "ResultTooLarge"
    assert "bytes pickled, over the limit of 10,000 bytes" in update.error.message
    assert "PHLOEM_JOB_RESULT_BYTES" in update.error.message


def test_an_unpicklable_result_fails_the_job_saying_why() -> None:
    conn = FakeConn()
    worker.Pipe(conn).update(JobUpdate("j1", "succeeded", result=lambda: None))
    ((_, update),) = conn.received
    assert (update.kind, update.error.type) == ("failed", "PicklingError")
    assert "the job's result (function) cannot be pickled" in update.error.message


@pytest.mark.parametrize(
    ("raw", "expected"), [(None, 64 * 2**20), ("5000", 5000), ("0", 64 * 2**20), ("x", 64 * 2**20)]
)
def test_the_result_limit_setting(
    monkeypatch: pytest.MonkeyPatch, raw: str | None, expected: int
) -> None:
    if raw is None:
        monkeypatch.delenv("PHLOEM_JOB_RESULT_BYTES", raising=False)
    else:
        monkeypatch.setenv("PHLOEM_JOB_RESULT_BYTES", raw)
    assert worker.result_limit() == expected
