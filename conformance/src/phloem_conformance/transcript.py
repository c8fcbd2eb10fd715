"""The record of a case run: every frame, action and snapshot, timed from the start."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

_TRANSCRIPT_TEXT_CAP = 2000


@dataclass
class Transcript:
    start: float = field(default_factory=time.monotonic)
    entries: list[dict[str, Any]] = field(default_factory=list)
    on: str = "main"  # the connection of the entries being added (named when not the first)

    def add(self, direction: str, payload: Any) -> None:
        if isinstance(payload, str) and len(payload) > _TRANSCRIPT_TEXT_CAP:
            payload = payload[:_TRANSCRIPT_TEXT_CAP] + f"... ({len(payload)} chars)"
        ms = round((time.monotonic() - self.start) * 1000, 1)
        entry: dict[str, Any] = {"t_ms": ms, "dir": direction, "data": payload}
        if self.on != "main":
            entry["on"] = self.on
        self.entries.append(entry)
