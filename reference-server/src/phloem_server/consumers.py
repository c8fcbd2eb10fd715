"""The WebSocket edge: frames in → phloem.runtime → frames out. No protocol logic lives here.

The consumer interprets the runtime's typed effects: app code (``Run``) goes to the session's
lane (`lanes`), off the event loop; the other effects say which session opened, which
connection lost its session to a resume, which session ended. While a lane has work, the loop
never touches that session itself: frames and wakes for it go through the lane too."""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer
from channels.sessions import InstanceSessionWrapper
from phloem.protocol.version import SUBPROTOCOL  # names the MAJOR version only
from phloem.runtime import Closed, Opened, Output, Resumed, Run, Superseded, Wake, settle

from . import errors, lanes, records, registry, updates
from .jobs import bridge as jobs_bridge
from .jobs import identity

log = logging.getLogger(__name__)
INTERNAL_ERROR, GOING_AWAY, TAKEN_OVER = 1011, 1001, 4409  # PHL-TRANSPORT-007, PHL-DELIV-011
_open: weakref.WeakSet[PhloemConsumer] = weakref.WeakSet()  # accepted, not yet disconnected


async def close_all(code: int = GOING_AWAY) -> None:
    """Close every open connection of this process (server shutdown: 1001, PHL-TRANSPORT-007);
    the ASGI servers' own shutdown would use 1012 (uvicorn) or drop the TCP (Daphne)."""
    for consumer in list(_open):
        try:
            await consumer.close(code)
        except Exception:  # one broken transport must not keep the others open
            log.debug("could not close a connection on shutdown", exc_info=True)


# Channels ships no type information (channels-stubs requires django-stubs<6, which needs
# mypy<1.20), so the base class is Any to mypy.
class PhloemConsumer(AsyncWebsocketConsumer):  # type: ignore[misc]
    app_key = registry.DEFAULT  # which served app; set per route with as_asgi(app_key=...)
    conn: Any = None
    session: str | None = None
    superseded: asyncio.Task[None] | None = None  # the 4409 close, once another took over
    silence: asyncio.TimerHandle | None = None  # fires at the connection's deadline (PHL-PING-005)
    silence_at = 0.0  # when `silence` fires (time.monotonic)
    silent_close: asyncio.Task[None] | None = None  # the 4000 close of a silent connection
    running = False  # a Run of this connection is in its lane: it is not silent, it waits
    ended = False  # the session ended for good (Closed) and its record says so
    job_owner: str | None = None  # whose jobs this connection sees (jobs.identity)
    _frames_to: Any = None  # the ASGI send for frames (`_websocket_send`)
    nudged = False  # a drain of the session's queued frames is scheduled (updates.nudge)

    def __init__(self, app_key: str | None = None, **kwargs: Any) -> None:
        # Channels' consumers ignore as_asgi's keywords; this one is ours.
        super().__init__(**kwargs)
        if app_key is not None:
            self.app_key = app_key
        # One message handled at a time, as Channels dispatches them, and a direct wake's
        # drain takes its turn among them: frames go out in the order they were numbered.
        self.turn = asyncio.Lock()
        self.drainer: asyncio.Task[None] | None = None

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels closes stale DB connections before every message: a thread hop that
        # doubled server CPU per event (bench/bench_rtt.py). This consumer touches the
        # database only through `records`, whose DB thread does its own cleanup.
        handler = getattr(self, message["type"].replace(".", "_"), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        async with self.turn:
            await handler(message)

    def nudge(self) -> None:
        """Frames are queued for this connection's session (a job message, a push): drain
        them soon, on the loop, in turn with the frames being handled (`updates.nudge`).
        Wakes that come before the drain runs are served by it."""
        if self.nudged or self.conn is None or self.conn.closed:
            return
        self.nudged = True
        self.drainer = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        async with self.turn:
            self.nudged = False  # from here on, a new wake needs a new drain
            if self.conn is not None and not self.conn.closed:
                await self._core(self.conn.drain)

    async def connect(self) -> None:
        if SUBPROTOCOL not in self.scope.get("subprotocols", ()):
            # PHL-TRANSPORT-003: a client that does not offer phloem.v1 does not speak this
            # protocol; refuse the upgrade (HTTP 403) rather than talk past it.
            log.warning("refused a WebSocket without subprotocol %s", SUBPROTOCOL)
            await self.close()
            return
        self.served = registry.get(self.app_key)
        self.served.start_reaper()
        lanes.warm()
        user = self.scope.get("user")  # set by AuthMiddlewareStack, when the stack has it
        owner = identity.owner(self.scope)
        named = {"owner": owner} if owner is not None else {}
        if user is not None and user.is_authenticated:
            self.conn = self.served.hub.connect(
                time.monotonic(), user.pk, user.get_username(), **named
            )
        else:
            self.conn = self.served.hub.connect(time.monotonic(), **named)
        self.jobs = jobs_bridge.get(self.app_key)
        self.job_owner = getattr(self.conn, "owner", None)
        if self.job_owner is not None:  # before the hello: its sync shows the owner's jobs
            await self.jobs.attach(self.job_owner)
        await self.accept(SUBPROTOCOL)
        self._frames_to = _websocket_send(self.base_send)
        _open.add(self)
        self._watch_silence()

    def _watch_silence(self) -> None:
        # One timer per connection, re-armed when it fires: frames move the deadline on
        # (Connection.receive) without touching the timer, so a busy connection costs nothing.
        # Only a deadline that came closer (the page's heartbeat is shorter than the server's
        # default, known once the hello picked the page) re-arms it early.
        if self.silence is not None:
            self.silence.cancel()
        deadline = self.conn.deadline()
        self.silence_at = deadline
        delay = max(0.0, deadline - time.monotonic())
        self.silence = asyncio.get_running_loop().call_later(delay, self._check_silence)

    def _check_silence(self) -> None:
        session = self.conn.session
        if self.running or (session is not None and not lanes.idle(self.app_key, session.id)):
            # App code of this session is running: the client waits for its answer (and its
            # frames wait behind it), so it is not silent; look again shortly.
            self.silence = asyncio.get_running_loop().call_later(1.0, self._check_silence)
            return
        out = self.conn.poll(time.monotonic())
        if out.close is None:
            if not self.conn.closed:
                self._watch_silence()
            return
        # Silent for three heartbeat intervals: presumed dead, closed with 4000, the session
        # kept for the resume (PHL-PING-005).
        log.info("closing a connection silent for three heartbeat intervals (4000)")
        self.silent_close = asyncio.get_running_loop().create_task(self.close(out.close))

    async def websocket_receive(self, message: dict[str, Any]) -> None:
        text = message.get("text")
        frame = text if text is not None else message["bytes"]
        now = time.monotonic()
        try:
            close = await self._core(lambda: self.conn.receive(frame, now))
        except Exception:
            # The runtime answers every protocol fault itself; reaching here is a server bug.
            log.exception("runtime failed on a frame; closing with %d", INTERNAL_ERROR)
            await self.close(INTERNAL_ERROR)
            return
        self.jobs.after()  # the jobs its handlers started or cancelled go to the backend
        if close is not None:
            await self.close(close)
        elif self.conn.deadline() < self.silence_at:
            self._watch_silence()

    async def _core(self, step: Callable[[], Output]) -> int | None:
        """Run ``step`` (a call into the runtime) on the loop, or in the session's lane while
        that has work; then carry out what it returned. The close code, if any."""
        session = self.conn.session
        if session is None or lanes.idle(self.app_key, session.id):
            out = step()  # the common case: nothing of this session runs elsewhere
        else:
            out = await lanes.run(self.app_key, session.id, lambda: settle(step()))
        return await self._carry_out(out)

    async def _carry_out(self, out: Output) -> int | None:
        send = self._frames_to
        for frame in out.frames:  # updates queued since the last wake come first
            await send({"type": "websocket.send", "text": frame})
        close = out.close
        held = False
        for effect in out.effects:
            if type(effect) is Run:
                self.running = True
                try:
                    more = await lanes.run(
                        self.app_key, effect.session, _settled(effect, self.jobs)
                    )
                finally:
                    self.running = False
                close = await self._carry_out(more) or close
            elif type(effect) is Opened or type(effect) is Resumed:
                if self.session is None:
                    self.session = effect.session
                    records.opened(effect.session, self.served.path)
                    updates.hold(self.app_key, effect.session, self)
                    held = True
                    await self._join_group()
                    session = self.conn.session
                    if self.job_owner is None and session is not None:
                        # No identity: the session owns its jobs.
                        self.job_owner = session.owner
                        await self.jobs.attach(self.job_owner)
            elif type(effect) is Superseded:
                _supersede(effect.connection)
            elif type(effect) is Wake:  # job frames queued for the owner's other sessions
                for session_id in sorted(effect.sessions):
                    if not updates.nudge(self.app_key, session_id):
                        await updates.wake(self.app_key, session_id)
            elif type(effect) is Closed and not self.ended:
                self.ended = True  # recorded once, here rather than at the disconnect
                records.closed(effect.session)
        if held:  # what was queued for the session before this consumer was known to hold it
            close = await self._core(self.conn.drain) or close
        return close

    @property
    def channel_receive(self) -> Callable[[], Awaitable[dict[str, Any]]]:
        return self._wakes

    @channel_receive.setter
    def channel_receive(self, receive: Callable[[], Awaitable[dict[str, Any]]]) -> None:
        # Channels sets this to the layer's receive and ends the connection if it raises;
        # wakes are best-effort, so a failing layer (Redis gone) is retried instead.
        self._wakes = updates.wakes(receive, self._join_group)

    async def _join_group(self) -> None:
        if self.session is not None and self.channel_layer is not None:
            await updates.join(self.channel_layer, self._group(), self.channel_name)

    async def phloem_wake(self, message: dict[str, Any]) -> None:
        """A server-initiated update is queued for this connection (`updates.push`)."""
        if self.conn is not None and not self.conn.closed:
            await self._core(self.conn.drain)

    def _group(self) -> str:
        assert self.session is not None
        return updates.group(self.app_key, self.session)

    async def disconnect(self, code: int) -> None:
        _open.discard(self)
        if self.silence is not None:
            self.silence.cancel()
        if self.job_owner is not None:
            await self.jobs.detach(self.job_owner)
        if self.conn is not None:
            now = time.monotonic()
            session = self.conn.session
            if session is None or lanes.idle(self.app_key, session.id):
                self.conn.disconnect(now)
            else:  # after what the lane holds for the session
                await lanes.run(self.app_key, session.id, lambda: self.conn.disconnect(now))
            # A superseded connection's session lives on elsewhere: its record stays open.
            if self.session is not None and self.superseded is None and not self.ended:
                records.closed(self.session)
            if self.session is not None:
                updates.release(self.app_key, self.session, self)
                errors.error_log.forget(self.session)
                if self.channel_layer is not None:
                    await updates.leave(self.channel_layer, self._group(), self.channel_name)


def _websocket_send(send: Callable[[dict[str, Any]], Awaitable[None]]) -> Any:
    """The ASGI send under Channels' session middleware, for this connection's frames. The
    middleware saves a session on ``http.response.start`` only, and reads the lazy session
    twice on every message it passes on: 6 % of the server's GIL when a browser gets the
    messages of 100 busy jobs (py-spy). A WebSocket frame skips it."""
    wrapper = getattr(send, "__self__", None)
    while isinstance(wrapper, InstanceSessionWrapper):
        send = wrapper.real_send
        wrapper = getattr(send, "__self__", None)
    return send


def _settled(run: Run, jobs: jobs_bridge.Bridge) -> Callable[[], Output]:
    def call() -> Output:
        out = settle(run.call())
        jobs.dispatch()  # the jobs it started go to the backend now, before its answer is sent
        return out

    return call


def _supersede(connection: object) -> None:
    """A resume took ``connection``'s session: close its consumer with 4409 (PHL-DELIV-011),
    from a task held by that consumer (the loop keeps only weak references to tasks)."""
    for consumer in _open:
        if consumer.conn is connection and consumer.superseded is None:
            consumer.superseded = asyncio.get_running_loop().create_task(consumer.close(TAKEN_OVER))
