"""Runtime limits, announced to the client in ``welcome.limits``."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from phloem.protocol._wire_1_1 import JOB_LIMITS

# Lower bounds the welcome schema puts on announced values; a replay buffer of 0 is allowed
# (every resume then gets a snapshot). Every other limit is at least 1, or above 0 for seconds.
_MINIMUM: dict[str, float] = {
    "max_frame_bytes": 1024,
    "replay_messages": 0,
    "resume_seconds": 0,  # but not 0 itself
    "heartbeat_seconds": 1,
}


@dataclass(frozen=True, slots=True)
class Limits:
    # Defaults per PHL-LIM-005.
    max_frame_bytes: int = 65536  # PHL-LIM-001; the transport accepts up to 1 MiB (PHL-LIM-006)
    max_events_per_second: int = 50  # PHL-LIM-002: sustained rate of the token bucket
    event_burst: int = (
        100  # bucket size, >= the rate (PHL-LIM-011): a quick burst of clicks is not a flood
    )
    heartbeat_seconds: float = 20  # PHL-PING-003
    max_tree_nodes: int = 20000  # PHL-LIM-008
    # Replay buffer bounds (PHL-LIM-010): past them, a resume gets a snapshot. The byte bound
    # is not announced; it keeps a few huge patches from pinning memory.
    replay_messages: int = 256
    replay_bytes: int = 1024 * 1024
    resume_seconds: float = 120  # a dropped session waits for a resume (PHL-DELIV-008: >= 30)
    # Jobs (announced only with the jobs feature). 20 progress messages per job per second:
    # inside the 10-30 a browser should see, above the ~5 where a bar looks jerky
    # (PHL-JOB-025). Cancel: 10 s cooperative grace + 5 s to stop and report (PHL-JOB-061).
    job_progress_per_second: int = 20
    job_cancel_seconds: float = 15
    job_log_lines: int = 200  # newest log lines kept per job for a sync (PHL-JOB-030)

    def __post_init__(self) -> None:
        for spec in dataclasses.fields(self):
            value = getattr(self, spec.name)
            integral = spec.type == "int"
            # bool is an int to Python, never a count here.
            if isinstance(value, bool) or not isinstance(value, int if integral else (int, float)):
                kind = "an integer" if integral else "a number"
                raise ValueError(f"limit {spec.name} must be {kind}, not {value!r}")
            low = _MINIMUM.get(spec.name, 1)
            if value < low or (value == 0 and spec.name != "replay_messages"):
                bound = f"at least {low}" if low else "greater than 0"
                raise ValueError(f"limit {spec.name} must be {bound}, not {value!r}")
        if self.event_burst < self.max_events_per_second:  # PHL-LIM-011
            raise ValueError(
                f"limit event_burst ({self.event_burst}) must be at least max_events_per_second"
                f" ({self.max_events_per_second}): a client at the announced rate meets no limit"
            )

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    def replace(self, overrides: Mapping[str, Any]) -> Limits:
        """These limits with ``overrides`` (field name -> value) applied; ``ValueError`` names
        an unknown field or a bad value."""
        unknown = sorted(set(overrides) - set(self.names()))
        if unknown:
            raise ValueError(
                f"unknown limit(s) {', '.join(unknown)}; known: {', '.join(self.names())}"
            )
        return dataclasses.replace(self, **overrides)

    def announce(self, jobs: bool = False) -> dict[str, Any]:
        """The ``welcome.limits`` object (PHL-LIM-008, PHL-LIM-010; PHL-JOB-025, PHL-JOB-061
        with the jobs feature)."""
        limits = {
            "max_frame_bytes": self.max_frame_bytes,
            "max_events_per_second": self.max_events_per_second,
            "heartbeat_seconds": self.heartbeat_seconds,
            "max_tree_nodes": self.max_tree_nodes,
            "replay_messages": self.replay_messages,
            "resume_seconds": self.resume_seconds,
        }
        if jobs:
            limits.update({name: getattr(self, name) for name in JOB_LIMITS})
        return limits
