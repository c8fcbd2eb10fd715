"""The hub: one app, its live and resumable sessions, and new connections."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from phloem.app.app import App
from phloem.protocol.errors import LocalProtocolError
from phloem.runtime.connection import Connection, ErrorHook
from phloem.runtime.limits import Limits
from phloem.runtime.session import Session, not_found_page

_MIN_TOKEN = 16  # welcome.token minLength: long enough not to be guessed


def default_token() -> str:
    # PHL-SEC-004: 192 bits from a cryptographically secure source.
    return secrets.token_urlsafe(24)


class Hub:
    """Sessions of one app. Time and token generation are injected: ``new_token`` returns a
    fresh secret string of at least 16 characters on each call. ``on_app_error`` is told of
    every exception an app handler raised (already logged; the session lives on), and of an
    unexpected failure such as a page that cannot render its first tree (the connection then
    closes with 1011).

    ``on_error(session_id, message)`` is called once for every coded ``error`` message the
    runtime sends, client faults and server faults alike, just before the shell sends it:
    ``session_id`` is the session's id (``None`` before the handshake) and ``message`` the
    error as a dict (``type``, ``code``, ``message``, and ``seq``, ``event``, ``fatal``,
    ``limit``… when present). Treat it as read-only. Replays after a resume are not reported
    again. An exception from the hook is logged and otherwise ignored."""

    def __init__(
        self,
        app: App,
        limits: Limits | None = None,
        new_token: Callable[[], str] = default_token,
        on_app_error: Callable[[BaseException], None] | None = None,
        on_error: ErrorHook | None = None,
    ) -> None:
        self.app = app
        self.on_app_error = on_app_error
        self.on_error = on_error
        self.limits = limits if limits is not None else Limits()
        self.new_token = new_token
        self.sessions: dict[str, Session] = {}  # by resume token
        self._count = 0

    def connect(self, now: float) -> Connection:
        """A new connection, awaiting its hello."""
        return Connection(self)

    def expire(self, now: float) -> int:
        """Forget disconnected sessions older than the TTL; how many were forgotten."""
        dead = [s for s in self.sessions.values() if self._expired(s, now)]
        for session in dead:
            self._forget(session)
        return len(dead)

    def _expired(self, session: Session, now: float) -> bool:
        since = session.detached_at
        return since is not None and now - since >= self.limits.session_ttl_seconds

    def _resumable(self, token: str, seq: int, now: float) -> Session | None:
        """The session a resume names, unless it is unknown, expired or never sent ``seq``
        (PHL-DELIV-007)."""
        session = self.sessions.get(token)
        if session is None or self._expired(session, now) or seq > session.seq:
            return None
        return session

    def _new_session(self, path: str, now: float) -> Session:
        token = self.new_token()
        if len(token) < _MIN_TOKEN or token in self.sessions:
            raise LocalProtocolError(
                "internal_error", "new_token must return a fresh string of 16+ characters"
            )
        self._count += 1
        page = self.app.pages.get(path) or not_found_page(path)
        session = Session(f"s{self._count}", token, page, path, self.limits, now)
        self.sessions[token] = session
        return session

    def _forget(self, session: Session) -> None:
        self.sessions.pop(session.token, None)
