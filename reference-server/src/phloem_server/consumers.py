"""The WebSocket edge: frames in → phloem.runtime → frames out. No protocol logic lives here."""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer

from . import errors, records, registry, updates
from .jobs import bridge as jobs_bridge
from .jobs import identity

log = logging.getLogger(__name__)
SUBPROTOCOL = "phloem.v1"  # names the MAJOR version; hello/welcome settle MAJOR.MINOR
INTERNAL_ERROR, GOING_AWAY = 1011, 1001  # PHL-TRANSPORT-007
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
    superseded: asyncio.Task[None] | None = None  # the 1001 close, once another took over
    silence: asyncio.TimerHandle | None = None  # fires at the connection's deadline (PHL-PING-005)
    silence_at = 0.0  # when `silence` fires (time.monotonic)
    silent_close: asyncio.Task[None] | None = None  # the 4000 close of a silent connection
    job_owner: str | None = None  # whose jobs this connection sees (jobs.identity)

    def __init__(self, app_key: str | None = None, **kwargs: Any) -> None:
        # Channels' consumers ignore as_asgi's keywords; this one is ours.
        super().__init__(**kwargs)
        if app_key is not None:
            self.app_key = app_key

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels closes stale DB connections before every message: a thread hop that
        # doubled server CPU per event (bench/bench_rtt.py). This consumer touches the
        # database only through `records`, whose DB thread does its own cleanup.
        handler = getattr(self, message["type"].replace(".", "_"), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        if SUBPROTOCOL not in self.scope.get("subprotocols", ()):
            # PHL-TRANSPORT-003: a client that does not offer phloem.v1 does not speak this
            # protocol; refuse the upgrade (HTTP 403) rather than talk past it.
            log.warning("refused a WebSocket without subprotocol %s", SUBPROTOCOL)
            await self.close()
            return
        self.served = registry.get(self.app_key)
        self.served.start_reaper()
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
        # A resume on another connection takes this one's session (PHL-DELIV-011).
        self.conn.on_superseded = self._superseded
        await self.accept(SUBPROTOCOL)
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
        try:
            out = self.conn.receive(
                text if text is not None else message["bytes"], time.monotonic()
            )
        except Exception:
            # The runtime answers every protocol fault itself; reaching here is a server bug.
            log.exception("runtime failed on a frame; closing with %d", INTERNAL_ERROR)
            await self.close(INTERNAL_ERROR)
            return
        self.jobs.after()  # the jobs its handlers started or cancelled go to the backend
        for frame in out.frames:  # updates queued since the last wake come first
            await self.send(frame)
        if out.close is not None:
            await self.close(out.close)
        elif self.conn.deadline() < self.silence_at:
            self._watch_silence()
        session = self.conn.session
        if session is not None and self.session is None:
            self.session = session.id
            records.opened(session.id, self.served.path)
            await self._join_group()
            if self.job_owner is None:  # no identity: the session owns its jobs
                self.job_owner = session.owner
                await self.jobs.attach(self.job_owner)

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
        if self.conn is not None:
            for frame in self.conn.drain().frames:
                await self.send(frame)

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
            self.conn.disconnect(time.monotonic())
            # A superseded connection's session lives on elsewhere: its record stays open.
            if self.session is not None and self.superseded is None:
                records.closed(self.session)
            if self.session is not None:
                errors.error_log.forget(self.session)
                if self.channel_layer is not None:
                    await updates.leave(self.channel_layer, self._group(), self.channel_name)

    def _superseded(self) -> None:
        # Called synchronously from inside the other connection's receive; close from a task
        # (held here: the loop keeps only weak references to tasks).
        self.superseded = asyncio.get_running_loop().create_task(self.close(GOING_AWAY))
