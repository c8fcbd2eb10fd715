"""One WebSocket connection, sans-IO: frames in, frames (and maybe a close code) out.

Every step goes through the transition table in :mod:`phloem.protocol.state`; this module only
holds the actions. The shell (a Channels consumer, the test client, the conformance adapter)
feeds each text frame as ``str`` and each binary frame as ``bytes`` with the current time,
sends ``out.frames`` in order, interprets ``out.effects`` (:mod:`phloem.runtime.effects`) in
order, then closes with ``out.close`` if it is set.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple

from phloem.protocol import inbound, outbound
from phloem.protocol.errors import LocalProtocolError, RemoteProtocolError, ServerFault
from phloem.protocol.state import AWAIT_HELLO, CLOSED, State, transition
from phloem.protocol.version import SUPPORTED_VERSIONS, pick_version
from phloem.runtime.effects import Closed, Effect, Opened, Resumed, Run, Wake, settle
from phloem.runtime.jobs import FEATURE as JOBS
from phloem.runtime.lifecycle import EXPIRED
from phloem.runtime.session import Session

if TYPE_CHECKING:
    from phloem.runtime.hub import Hub

logger = logging.getLogger("phloem.runtime")

Message = dict[str, Any]
# Hub(on_error=...): (session id or None before the handshake, the error message as sent).
ErrorHook = Callable[[str | None, Message], None]


class Output(NamedTuple):
    frames: list[str]
    close: int | None = None
    effects: tuple[Effect, ...] = ()


_NOTHING = Output([])
_SUPERSEDED_CLOSE = 4409  # PHL-DELIV-011: the session carries on over a newer connection
_SILENT_CLOSE = 4000  # PHL-PING-005: presumed dead; the session waits for a resume
SILENT_HEARTBEATS = 3  # heartbeat intervals without a frame before a connection is presumed dead


class Connection:
    __slots__ = (
        "_actions", "_heard", "_hub", "_superseded", "owner", "session", "state", "user",
        "user_name",
    )  # fmt: skip

    def __init__(
        self,
        hub: Hub,
        user: Hashable | None = None,
        user_name: str | None = None,
        now: float = 0.0,
        owner: str | None = None,
    ) -> None:
        self._hub = hub
        self.owner = owner  # who this connection's jobs belong to (None: its session)
        self._heard = now  # when the last frame arrived (the connection opened, at first)
        self.state: State = AWAIT_HELLO
        self.session: Session | None = None
        self.user = user  # opaque key of the authenticated user, None when anonymous
        self.user_name = user_name
        self._superseded = False
        # Action name (from the table) -> method; built once so dispatch is one dict lookup.
        self._actions: dict[str, Callable[[Any, float], Output]] = {
            "welcome": self._welcome,
            "refuse_version": self._refuse_version,
            "refuse_user": self._refuse_user,
            "require_handshake": self._require_handshake,
            "reject": self._reject,
            "unexpected": self._unexpected,
            "event": self._event,
            "ack": self._ack,
            "pong": self._pong,
            "resync": self._resync,
            "job_cancel": self._job_cancel,
            "peer_error": self._peer_error,
            "nothing": self._nothing,
            "detach": self._detach,
            "fail": self._fail,
        }

    # --- the shell's API -----------------------------------------------------------------------

    def receive(self, frame: str | bytes, now: float) -> Output:
        """Handle one frame from the client. The output starts with the frames of updates
        queued since the shell last drained (they come first: their seqs are lower), then
        the answer, then what handling it caused (job messages). With ``offload`` the answer
        may be a :class:`Run` whose output carries the last two."""
        if now > self._heard:  # heard(now), inline: every frame passes here
            self._heard = now
        self._hub.jobs.now = now
        # The common case, nothing queued either side, allocates nothing.
        pending = self.drain()
        out = self._receive(frame, now)
        if not self._hub.offload:
            out = settle(out)
        caused = self._caused()
        if pending is _NOTHING and caused is _NOTHING:
            return out
        return Output(
            pending.frames + out.frames + caused.frames, out.close, out.effects + caused.effects
        )

    def heard(self, now: float) -> None:
        """A frame arrived at ``now``. :meth:`receive` says so itself; a shell that queues
        frames behind a running handler says so on arrival, so that a connection whose
        handler is busy is not taken for silent (PHL-PING-005)."""
        if now > self._heard:
            self._heard = now

    def _caused(self) -> Output:
        """What the step just taken queued: this session's unsent frames (after the answer),
        and a :class:`Wake` for the owner's other sessions that got job frames."""
        session = self.session
        if session is None:
            return _NOTHING
        jobs = session.jobs
        if session.woken is None and not session.unsent and (jobs is None or not jobs.inbox):
            return _NOTHING  # every frame passes here: nothing queued, nothing allocated
        woken = session.take_woken()
        out = self.drain()
        if not woken:
            return out
        return Output(out.frames, None, (Wake(woken),))

    def drain(self) -> Output:
        """The frames of server-initiated updates (:meth:`Hub.push`) numbered for this
        connection's session and not yet sent; the shell sends them in order."""
        session = self.session
        if session is None or session.conn is not self:
            return _NOTHING
        jobs = session.jobs
        if jobs is not None and jobs.inbox:
            jobs.inbox.flush(session)  # job messages are numbered here, on the session's path
        if not session.unsent:
            return _NOTHING
        frames, session.unsent = session.unsent, []
        return Output(frames)

    @property
    def closed(self) -> bool:
        """The connection has ended (disconnected, closed by the server, or superseded)."""
        return self.state is CLOSED or self._superseded

    def deadline(self) -> float:
        """When :meth:`poll` will close this connection unless a frame arrives first."""
        limits = self.session.limits if self.session is not None else self._hub.limits
        return self._heard + SILENT_HEARTBEATS * limits.heartbeat_seconds

    def poll(self, now: float) -> Output:
        """What the connection does at ``now`` without a frame: a connection that has been
        silent for three heartbeat intervals is presumed dead and closed with 4000, its
        session kept for resume (PHL-PING-005). The shell calls it from a timer (at
        :meth:`deadline`, or periodically); it is idempotent."""
        if self.closed or now < self.deadline():
            return _NOTHING
        self._step("disconnect", None, now)
        return Output([], _SILENT_CLOSE)

    def _receive(self, frame: str | bytes, now: float) -> Output:
        if self._superseded:
            return Output([], _SUPERSEDED_CLOSE)
        limits = self.session.limits if self.session is not None else self._hub.limits
        try:
            inbound.check_size(frame, limits.max_frame_bytes)  # before parsing
            session = self.session
            if session is not None and "jobs" not in (session.features or ()):
                # A type the negotiated version and features do not define (PHL-ERR-009).
                msg = inbound.parse(frame, inbound.CLIENT_TYPES_WITHOUT_JOBS)
            else:
                msg = inbound.parse(frame)
        except RemoteProtocolError as exc:
            if exc.message_type == "error":
                return self._peer_error(None, now)  # never answer an error with one (PHL-ERR-007)
            return self._step("bad_frame", exc, now)
        kind = msg["type"]
        if kind == "hello":
            if pick_version(msg["versions"]) is None:
                kind = "hello.unsupported"
            elif (
                self.user is None
                and self._hub.app.page_options(msg.get("path", "/")).auth
                and self._resumed(msg, now) is None
            ):
                kind = "hello.unauthorized"  # PHL-SEC-007
        return self._step(kind, msg, now)

    def disconnect(self, now: float) -> None:
        """The transport is gone. The session stays resumable for its TTL. Idempotent."""
        if self.state is not CLOSED:
            self._step("disconnect", None, now)

    # --- dispatch ------------------------------------------------------------------------------

    def _step(self, event: str, arg: Any, now: float) -> Output:
        action, next_state = transition(self.state, event)  # raises on a closed connection
        return self._guard(event, self._actions[action], arg, now, next_state)

    def _later(
        self, event: str, call: Callable[[], Output | str], now: float
    ) -> Callable[[], Output]:
        """``call`` (the app-code half of an ``event`` step, handed to the shell as a
        :class:`Run`; a ``str`` it returns is the one frame of its answer), failing the way
        the step itself would."""

        def run() -> Output:
            before = self.session
            mark = len(before.unsent) if before is not None else 0
            out = self._guard(event, _call, call, now, None)
            session = self.session
            if self._superseded and session is not None and session.conn is not None:
                # A resume took the session while this call waited for its turn: its answer
                # goes out on the connection that holds the session now, before the frames
                # the call caused (their seqs are higher).
                session.unsent[mark:mark] = out.frames
                woken = session.take_woken()
                return Output([], None, (Wake(woken),)) if woken else _NOTHING
            caused = self._caused()  # after the answer: what the handler caused
            if caused is _NOTHING:
                return out
            return Output(
                out.frames + caused.frames, out.close or caused.close, out.effects + caused.effects
            )

        return run

    def _guard(
        self,
        event: str,
        action: Callable[[Any, float], Output],
        arg: Any,
        now: float,
        next_state: State | None,
    ) -> Output:
        try:
            out = action(arg, now)
        except (RemoteProtocolError, ServerFault) as exc:
            if exc.code == "handler_error" and self._hub.on_app_error is not None:
                self._hub.on_app_error(exc.__cause__ or exc)
            return self._reject(exc, now)  # refused: answered, state unchanged
        except LocalProtocolError:
            raise
        except Exception as exc:
            # A page that fails on its first render lands here too: app code, so the hook
            # hears of it (the test client re-raises it) besides the log.
            logger.exception("internal error handling %s", event)
            if self._hub.on_app_error is not None:
                self._hub.on_app_error(exc)
            failed, next_state = transition(self.state, "failure")
            out = self._actions[failed](None, now)
        if next_state is not None:
            self.state = next_state
        return out

    # --- actions -------------------------------------------------------------------------------

    def _reject(self, exc: RemoteProtocolError | ServerFault, now: float) -> Output:
        if self.session is None:  # no seq before the handshake (PHL-ERR-001)
            return Output([self._error(outbound.error(exc.code, exc.message, **exc.extra))])
        return Output([self._error(outbound.error(exc.code, exc.message, 0, **exc.extra))])

    def _error(self, msg: Message, session: Session | None = None) -> str:
        """Serialise a coded error (numbered once there is a session) and tell the hub's
        ``on_error`` hook of it. Every coded error this connection sends goes through here;
        replays after a resume do not, as they were reported when first sent."""
        session = session or self.session
        frame = session.emit(msg) if session is not None else outbound.dumps(msg)
        hook = self._hub.on_error
        if hook is not None:
            try:
                hook(session.id if session is not None else None, msg)
            except Exception:  # a broken hook must not break the protocol
                logger.exception("on_error hook raised")
        return frame

    def _require_handshake(self, msg: Message, now: float) -> Output:
        return self._reject(
            RemoteProtocolError("handshake_required", f"send hello before {msg['type']}"), now
        )

    def _unexpected(self, msg: Message, now: float) -> Output:
        return self._reject(
            RemoteProtocolError("unexpected_message", "hello was already received"), now
        )

    def _refuse_version(self, msg: Message, now: float) -> Output:
        # PHL-HS-004: fatal, no seq, then close 4406 (PHL-ERR-003).
        err = outbound.error(
            "version_unsupported",
            f"none of {msg['versions']} is supported",
            fatal=True,
            supported=SUPPORTED_VERSIONS,
        )
        return Output([self._error(err)], 4406)

    def _refuse_user(self, msg: Message, now: float) -> Output:
        # PHL-SEC-007: fatal, no seq (no session), no tree, then close 4401.
        err = outbound.error(
            "unauthorized", "this page requires a signed-in user; sign in and reload", fatal=True
        )
        return Output([self._error(err)], 4401)

    def _resumed(self, msg: Message, now: float) -> Session | None:
        """The session a hello's resume names, if it may be resumed on this connection."""
        resume = msg.get("resume")
        if resume is None:
            return None
        return self._hub._resumable(resume["token"], resume["seq"], now, self.user)

    def _welcome(self, msg: Message, now: float) -> Output:
        version = pick_version(msg["versions"])
        assert version is not None  # the table routes unsupported hellos elsewhere
        resume = msg.get("resume")
        existing = self._resumed(msg, now)
        if existing is None:  # also an unknown or expired resume (PHL-DELIV-007)
            return self._open(msg, version, now)
        assert resume is not None  # only a resume finds an existing session

        def take_over() -> Output:
            # In the session's lane: a handler of the connection it leaves may still run.
            if existing.jobs is not None:
                # Job messages queued while it was detached join the replay buffer first.
                existing.jobs.inbox.flush(existing)
            try:
                effects = self._hub.life(existing, "attach", now, self)
            except LocalProtocolError:
                # Expired while this waited for its turn (the shell's reaper runs on its own
                # schedule): as for any expired resume, a new session (PHL-DELIV-007).
                assert existing.life is EXPIRED
                return settle(self._open(msg, version, now))
            self.session = existing
            welcome = self._welcome_message(existing, version, resumed=True)
            snapshot = resume["seq"] < existing.trimmed  # no replay: a snapshot, then job sync
            frames = existing.resume(resume["seq"], welcome)
            if snapshot:
                frames += self._hub.jobs.sync(existing)  # PHL-JOB-041
            return Output(frames, None, (*effects, Resumed(existing.id)))

        return Output([], None, (Run(existing.id, self._later("hello", take_over, now)),))

    def _open(self, msg: Message, version: str, now: float) -> Output:
        """A new session for this connection (PHL-HS-007); its first render is app code."""
        session = self._hub._new_session(
            msg.get("path", "/"),
            now,
            msg.get("components"),
            self.user,
            self.user_name,
            self.owner,
            _features(version, msg.get("features") if self._hub.jobs_feature else None),
        )
        session.conn = self  # a new session starts attached (phloem.runtime.lifecycle)
        self.session = session

        def start() -> Output:
            try:
                session.start()  # the page function
            except BaseException:
                # The page cannot open: no session was ever announced, so the fatal error
                # carries no seq, as before a handshake.
                self._hub.life(session, "fail", now)
                self.session = None
                raise
            welcome = self._welcome_message(session, version, resumed=False)
            # PHL-HS-008: welcome seq 1, then the snapshot seq 2 at rev 1; then the state of
            # every job the session may see (PHL-JOB-041). The job table sends the session
            # nothing before its welcome: it joins the table only now.
            frames = [session.emit(welcome, replay=False), session.snapshot()]
            self._hub.jobs.attach(session)
            frames += self._hub.jobs.sync(session)
            return Output(frames, None, (Opened(session.id),))

        return Output([], None, (Run(session.id, self._later("hello", start, now)),))

    def _welcome_message(self, session: Session, version: str, resumed: bool) -> Message:
        limits = session.limits.announce(jobs=JOBS in session.features)
        return outbound.welcome(
            0,
            version,
            session.id,
            session.token,
            limits,
            resumed,
            sorted(session.features),
            components=session.accept,
        )

    def _supersede(self, now: float) -> None:
        """Another connection's resume took this one's session (the hub's lifecycle step);
        that connection's output tells the shell (:class:`Superseded`)."""
        self._step("superseded", None, now)
        self._superseded = True

    def _event(self, msg: Message, now: float) -> Output:
        session = self.session
        assert session is not None
        answer = session.handle_event(msg, now)
        if isinstance(answer, str):
            return Output([answer])
        hub = self._hub
        if not hub.offload:
            # No loop to protect: the handler runs inside this step's own guard, as settle()
            # would run the Run, without the closures and the effect (the hot path of the test
            # client and the stdio adapter).
            return Output([answer()])
        policy = hub.inline
        if policy is None:
            return Output([], None, (Run(session.id, self._later("event", answer, now)),))
        key = answer.key
        if policy.inline(key):  # known to be quick: no lane (phloem.runtime.inline)
            return Output([policy.timed(key, answer)])
        timed = partial(policy.timed, key, answer)
        return Output([], None, (Run(session.id, self._later("event", timed, now)),))

    def _ack(self, msg: Message, now: float) -> Output:
        assert self.session is not None
        seq = msg.get("seq")
        if seq is None:
            return _NOTHING
        if seq > self.session.seq:
            raise RemoteProtocolError(  # PHL-DELIV-014
                "invalid_message", f"ack of seq {seq}, but the last seq sent is {self.session.seq}"
            )
        self.session.acked(seq)  # PHL-DELIV-002
        return _NOTHING

    def _job_cancel(self, msg: Message, now: float) -> Output:
        assert self.session is not None
        if JOBS not in self.session.features:  # PHL-JOB-002: no jobs without the feature
            raise RemoteProtocolError("unknown_message_type", "job.cancel needs the jobs feature")
        session = self.session
        # A cancel may end a queued job at once, and a lifecycle change re-renders the
        # owner's pages: app code, so it runs in the session's lane like a handler.

        def cancel() -> str:
            return self._hub.jobs.cancel_request(session, msg, now)

        return Output([], None, (Run(session.id, self._later("job.cancel", cancel, now)),))

    def _pong(self, msg: Message, now: float) -> Output:
        # Frames are handled in order, so this pong follows every answer to earlier frames
        # (PHL-PING-002). Not numbered.
        return Output([outbound.dumps(outbound.pong(msg.get("id")))])

    def _resync(self, msg: Message, now: float) -> Output:
        assert self.session is not None
        return Output([self.session.snapshot()])  # PHL-PATCH-008

    def _peer_error(self, msg: Message | None, now: float) -> Output:
        if msg is None:
            logger.warning("dropped an invalid error message from the client")
        else:
            logger.warning("client reported %s: %s", msg["code"], msg["message"][:200])
        return _NOTHING

    def _nothing(self, arg: Any, now: float) -> Output:
        return _NOTHING

    def _detach(self, arg: Any, now: float) -> Output:
        session = self.session
        if session is not None and session.conn is self:  # not when superseded
            self._hub.life(session, "detach", now, self)
        return _NOTHING

    def _fail(self, arg: Any, now: float) -> Output:
        # Fatal: the last message on this connection, then close 1011 (PHL-ERR-003).
        err = outbound.error("internal_error", "the server failed; reconnect", fatal=True)
        session = self.session
        if session is None:
            return Output([self._error(err)], 1011)
        self._hub.life(session, "fail", now)
        return Output([self._error(err, session)], 1011, (Closed(session.id),))


def _call(call: Callable[[], Output | str], now: float) -> Output:
    """The action of a :class:`Run`'s step (:meth:`Connection._later`): ``call``'s output, or
    its one frame as an output."""
    out = call()
    return Output([out]) if isinstance(out, str) else out


def _features(version: str, offered: Any) -> frozenset[str]:
    """Features both sides support (PHL-HS-006); ``jobs`` only from protocol 1.1 on
    (PHL-JOB-001)."""
    if version == "1.0" or not offered or JOBS not in offered:
        return _NO_FEATURES
    return _JOBS_ONLY  # shared: a frozenset per session would cost ~200 bytes


_NO_FEATURES: frozenset[str] = frozenset()
_JOBS_ONLY = frozenset({JOBS})
