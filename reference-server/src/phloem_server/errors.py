"""Logging of the coded errors the runtime sends, from its ``Hub(on_error=...)`` hook.

Server faults (``handler_error``, ``tree_too_large``, ``internal_error``) are bugs to fix here: every one is logged
at ERROR. Client faults are the peer's, logged at INFO and throttled: at most one line per code
per session per ``interval`` seconds, so a client flooding ``rate_limited`` events cannot flood
the log. A line that follows suppressed ones says how many; what is still suppressed when the
session's connection goes is summed up by :meth:`ErrorLog.forget`. Errors sent before a
handshake have no session and share one throttle."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from phloem.protocol.errors import SERVER_FAULTS  # from the schema's error table

log = logging.getLogger("phloem_server.protocol")
_NO_SESSION = "-"


class ErrorLog:
    """The hook's state: when each (session, code) was last logged, and how many since were
    not. Bounded by the live sessions: :meth:`forget` drops a session's entries."""

    def __init__(self, interval: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self.clock = clock
        # session -> code -> [time last logged, lines suppressed since]
        self._seen: dict[str, dict[str, list[Any]]] = {}

    def __call__(self, session: str | None, msg: dict[str, Any]) -> None:
        code = str(msg.get("code"))
        sid = session or _NO_SESSION
        text = msg.get("message", "")
        if code in SERVER_FAULTS:
            log.error("session %s: sent %s: %s", sid, code, text)
            return
        now = self.clock()
        codes = self._seen.setdefault(sid, {})
        entry = codes.get(code)
        if entry is not None and now - entry[0] < self.interval:
            entry[1] += 1
            return
        suppressed = entry[1] if entry is not None else 0
        codes[code] = [now, 0]
        if suppressed:
            log.info("session %s: sent %s: %s (%d more suppressed)", sid, code, text, suppressed)
        else:
            log.info("session %s: sent %s: %s", sid, code, text)

    def forget(self, session: str | None) -> None:
        """The session's connection is gone: log what is still suppressed, drop its state."""
        sid = session or _NO_SESSION
        for code, (_, suppressed) in self._seen.pop(sid, {}).items():
            if suppressed:
                log.info("session %s: %d more %s suppressed", sid, suppressed, code)


# The process's hook, installed on every Hub by `registry.install`.
error_log = ErrorLog()
