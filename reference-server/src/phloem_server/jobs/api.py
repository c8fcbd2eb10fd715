"""The SDK's job interface (docs/design/jobs-1.1.md §9), from ``phloem.jobs`` once it exists,
else from the interim stand-in."""

from __future__ import annotations

try:
    from phloem.jobs import (  # type: ignore[import-not-found,import-untyped,unused-ignore]
        JobCancelled,
        JobError,
        JobOptions,
        JobSpec,
        JobUpdate,
        Reporter,
        execute,
    )
except ImportError:  # pragma: no cover (until branch jobs is merged)
    from .runner import (
        JobCancelled,
        JobError,
        JobOptions,
        JobSpec,
        JobUpdate,
        Reporter,
        execute,
    )

TERMINAL = frozenset({"succeeded", "failed", "cancelled", "interrupted"})

__all__ = [
    "TERMINAL",
    "JobCancelled",
    "JobError",
    "JobOptions",
    "JobSpec",
    "JobUpdate",
    "Reporter",
    "execute",
]
