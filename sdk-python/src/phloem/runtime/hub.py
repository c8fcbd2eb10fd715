"""The hub: one app, its live and resumable sessions, and new connections."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Hashable, Mapping

from phloem.app.app import App
from phloem.protocol.catalog import sent_as_themselves
from phloem.protocol.errors import LocalProtocolError, PhloemError
from phloem.runtime.connection import Connection, ErrorHook, Output
from phloem.runtime.effects import Effect, Superseded
from phloem.runtime.inline import InlinePolicy
from phloem.runtime.jobs import JobTable
from phloem.runtime.lifecycle import DETACHED, EXPIRED, life_transition
from phloem.runtime.limits import Limits
from phloem.runtime.session import Session, not_found_page
from phloem.ui.state import UI

_MIN_TOKEN = 16  # welcome.token minLength: long enough not to be guessed


def default_token() -> str:
    # PHL-SEC-004: 192 bits from a cryptographically secure source.
    return secrets.token_urlsafe(24)


def default_job_id() -> str:
    # PHL-JOB-050: 128 random bits; another owner cannot guess a job id.
    return "j" + secrets.token_urlsafe(16)


class UnknownSession(PhloemError, LookupError):
    """No live or resumable session has that id (it never existed, or it expired)."""


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
    again. An exception from the hook is logged and otherwise ignored.

    ``offload``: whether the shell runs app code itself. With ``True`` (the server), an output
    that needs app code carries a :class:`~phloem.runtime.effects.Run` for the shell to call
    off its event loop; with ``False`` (the test client, the stdio adapter) the core calls it
    before returning. ``inline`` (with ``offload``): an
    :class:`~phloem.runtime.inline.InlinePolicy` under which app code known to be quick runs
    in the step itself rather than as a :class:`Run`; none by default."""

    def __init__(
        self,
        app: App,
        limits: Limits | None = None,
        new_token: Callable[[], str] = default_token,
        on_app_error: Callable[[BaseException], None] | None = None,
        on_error: ErrorHook | None = None,
        offload: bool = False,
        new_job_id: Callable[[], str] = default_job_id,
        app_ref: str = "",
        jobs: bool = True,
        inline: InlinePolicy | None = None,
    ) -> None:
        self.app = app
        self.inline = inline  # with offload: quick app code may skip the lane (runtime.inline)
        # Whether the shell runs the table's commands on a job backend: a shell without one
        # does not offer the jobs feature (PHL-HS-006), so no client waits on a job forever.
        self.jobs_feature = jobs
        self.offload = offload
        self.on_app_error = on_app_error
        self.on_error = on_error
        self.limits = limits if limits is not None else Limits()
        self.new_token = new_token
        self.sessions: dict[str, Session] = {}  # by resume token
        self._by_id: dict[str, Session] = {}
        self._count = 0
        # The jobs of every owner with a session here; the shell runs its commands on a
        # backend and feeds the backend's updates back (docs/design/jobs-1.1.md §9).
        self.jobs = JobTable(new_job_id, app_ref)

    def connect(
        self,
        now: float,
        user: Hashable | None = None,
        user_name: str | None = None,
        owner: str | None = None,
    ) -> Connection:
        """A new connection, awaiting its hello. ``user`` is an opaque key of the connection's
        authenticated user (a Django user's pk), ``None`` when anonymous; ``user_name`` is
        what the app sees as ``ui.user`` (default ``str(user)``). ``owner`` names who its
        jobs belong to (an anonymous browser's cookie identity); default the user, else the
        session itself."""
        if user is not None and user_name is None:
            user_name = str(user)
        if owner is None and user is not None:
            owner = f"user:{user}"
        return Connection(self, user, user_name, now, owner)

    # --- server-initiated updates (design §5) ---------------------------------------------

    def push(self, session_id: str, fn: Callable[[UI], object], now: float) -> frozenset[str]:
        """Run ``fn(ui)`` on a session's state outside any event, re-render, and number the
        change as a ``ui.patch`` without ``event``. It goes to the replay buffer like every
        sequenced message, so a detached session gets it on resume (or a snapshot if the
        buffer overflowed), and to the session's unsent frames, which the attached connection
        hands out with :meth:`Connection.drain` (its next ``receive`` output also starts with
        them). ``fn`` is app code: a shell with an event loop calls this in the session's lane
        (see :class:`~phloem.runtime.effects.Run`).

        ``fn``'s exception propagates, with none of its changes kept; so does
        :class:`~phloem.runtime.session.TreeTooLarge`. An unknown or expired session raises
        :class:`UnknownSession`. Returns the ids of other sessions that got job frames from
        jobs ``fn`` started or cancelled (the shell wakes them as it wakes this one)."""
        session = self._by_id.get(session_id)
        if session is None or self._expired(session, now):
            raise UnknownSession(f"no session {session_id!r}")
        frame = session.post(fn)
        if frame is not None and session.conn is not None:
            session.unsent.append(frame)
        if session.jobs is not None:
            session.woke(session.jobs.commit())  # jobs fn started, after its patch (PHL-JOB-010)
        return session.take_woken()

    def post(self, session_id: str, fn: Callable[[UI], object], now: float) -> Output:
        """:meth:`push`, then the frames for the attached connection (none when detached):
        for a shell that owns the connection and sends them itself."""
        self.push(session_id, fn, now)
        session = self._by_id[session_id]
        return session.conn.drain() if session.conn is not None else Output([])

    def flush(self, session_id: str) -> None:
        """Number the job messages queued for a session without an attached connection, into
        its replay buffer (an attached one numbers them when its connection drains). App code
        may run (a job's lifecycle re-renders the page): a shell with an event loop calls it
        in the session's lane, like :meth:`push`."""
        session = self._by_id.get(session_id)
        if session is not None and session.conn is None and session.jobs is not None:
            session.jobs.inbox.flush(session)

    def session(self, session_id: str) -> Session | None:
        return self._by_id.get(session_id)

    # --- lifetime -----------------------------------------------------------------------------

    def expire(self, now: float) -> int:
        """Forget detached sessions older than their ``resume_seconds``; how many."""
        dead = [s for s in list(self.sessions.values()) if self._expired(s, now)]
        return len(dead)

    def _expired(self, session: Session, now: float) -> bool:
        """Whether the session is gone, moving a detached one past its time to expired."""
        since = session.detached_at
        if (
            session.life is DETACHED
            and since is not None
            and now - since >= session.limits.resume_seconds
        ):
            self.life(session, "expire", now)
        return session.life is EXPIRED

    # --- the session lifecycle (phloem.runtime.lifecycle) -------------------------------------

    def life(
        self, session: Session, event: str, now: float, conn: Connection | None = None
    ) -> list[Effect]:
        """Move ``session`` by its lifecycle table; the effects for the shell. ``conn`` is the
        connection that attaches or detaches."""
        action, next_state = life_transition(session.life, event)
        effects: list[Effect] = []
        if action == "supersede":
            previous = session.conn
            if previous is not None and previous is not conn:
                previous._supersede(now)
                effects.append(Superseded(previous))
            action = "attach"
        if action == "attach":
            session.conn = conn
            session.detached_at = None
            session.unsent.clear()  # the resume replays them
        elif action == "detach":
            session.conn = None
            session.detached_at = now
            session.unsent.clear()  # kept in the replay buffer for the resume
        elif action == "forget":
            self.sessions.pop(session.token, None)
            self._by_id.pop(session.id, None)
            self.jobs.detach(session)
            session.conn = None
            session.unsent.clear()
        session.life = next_state
        return effects

    def _resumable(
        self, token: str, seq: int, now: float, user: Hashable | None = None
    ) -> Session | None:
        """The session a resume names, unless it is unknown, expired, never sent ``seq``
        (PHL-DELIV-007) or belongs to another user (PHL-SEC-008)."""
        session = self.sessions.get(token)
        if session is None or self._expired(session, now) or seq > session.seq:
            return None
        if session.user is not None and session.user != user:
            return None
        return session

    def _new_session(
        self,
        path: str,
        now: float,
        components: Mapping[str, int] | None = None,
        user: Hashable | None = None,
        user_name: str | None = None,
        owner: str | None = None,
        features: frozenset[str] = frozenset(),
    ) -> Session:
        token = self.new_token()
        if len(token) < _MIN_TOKEN or token in self.sessions:
            raise LocalProtocolError(
                "internal_error", "new_token must return a fresh string of 16+ characters"
            )
        self._count += 1
        page = self.app.pages.get(path) or not_found_page(path)
        limits = self.limits.replace(self.app.page_options(path).limits)
        accept = sent_as_themselves(components) if components is not None else None
        session = Session(
            f"s{self._count}",
            token,
            page,
            path,
            limits,
            now,
            user=user,
            user_name=user_name,
            accept=accept,
            owner=owner,
            features=features,
            jobs=self.jobs,
        )
        self.sessions[token] = session
        self._by_id[session.id] = session
        return session  # it joins the job table after its welcome (Connection._open)
