"""Logging of the coded errors the runtime sends, and the session id it announces."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import orjson

log = logging.getLogger("phloem_server.protocol")
# Server-fault codes are bugs to fix here; client faults are the peer's, logged quieter.
SERVER_FAULTS = frozenset({"handler_error", "internal_error"})


def log_errors(frames: Sequence[str], session: str | None) -> None:
    for frame in frames:
        # A substring test first: most frames are patches, and parsing them again would cost
        # more than the whole send.
        if '"error"' not in frame:
            continue
        msg = orjson.loads(frame)
        if msg.get("type") != "error":
            continue
        level = logging.ERROR if msg.get("code") in SERVER_FAULTS else logging.INFO
        log.log(
            level,
            "session %s: sent error %s: %s",
            session or "-",
            msg.get("code"),
            msg.get("message", ""),
        )


def session_of(conn: Any, frames: Sequence[str]) -> str | None:
    """The session id once the handshake has named it (welcome.session), else None."""
    for frame in frames:
        if frame.startswith('{"type":"welcome"') or '"welcome"' in frame[:40]:
            msg = orjson.loads(frame)
            if msg.get("type") == "welcome":
                return str(msg["session"])
    return None
