"""Logging of the coded errors the runtime sends.

The runtime reports app exceptions (Hub.on_app_error) but not every coded error, so they are
read back from the frames it produces, cheaply: a substring test rejects most frames."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import orjson

log = logging.getLogger("phloem_server.protocol")
# Server-fault codes are bugs to fix here; client faults are the peer's, logged quieter.
SERVER_FAULTS = frozenset({"handler_error", "internal_error"})


def log_errors(frames: Sequence[str], session: str | None) -> None:
    for frame in frames:
        if '"error"' not in frame:  # most frames are patches: no second parse
            continue
        msg = orjson.loads(frame)
        if msg.get("type") != "error":
            continue
        code = msg.get("code")
        level = logging.ERROR if code in SERVER_FAULTS else logging.INFO
        log.log(level, "session %s: sent %s: %s", session or "-", code, msg.get("message", ""))
