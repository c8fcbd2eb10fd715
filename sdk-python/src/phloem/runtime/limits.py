"""Runtime limits, announced to the client in ``welcome.limits``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Limits:
    # Defaults per PHL-LIM-005.
    max_frame_bytes: int = 65536  # PHL-LIM-001; the transport accepts up to 1 MiB (PHL-LIM-006)
    max_events_per_second: int = 50  # PHL-LIM-002: sustained rate of the token bucket
    event_burst: int = 100  # bucket size: a quick burst of clicks is not a flood
    heartbeat_seconds: float = 20  # PHL-PING-003
    session_ttl_seconds: float = 120  # a dropped session waits for a resume (PHL-DELIV-008: >= 30)
    replay_messages: int = 64  # replay buffer bounds: past them, a resume gets a snapshot
    replay_bytes: int = 256 * 1024

    def announce(self) -> dict[str, Any]:
        """The ``welcome.limits`` object."""
        return {
            "max_frame_bytes": self.max_frame_bytes,
            "max_events_per_second": self.max_events_per_second,
            "heartbeat_seconds": self.heartbeat_seconds,
        }
