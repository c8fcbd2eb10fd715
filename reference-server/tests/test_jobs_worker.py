"""The embedded worker's priority setting (the worker itself runs in test_jobs_embedded.py)."""

from __future__ import annotations

import pytest
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
