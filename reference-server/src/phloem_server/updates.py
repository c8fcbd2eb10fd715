"""Server-initiated updates: change a session from outside its events (a job, a timer, another
thread) and let its connection know.

The session in the runtime is the source of truth (`Hub.push` numbers the patch and keeps it
for replay); a wake carries no data, it only tells the session's consumer to drain. A consumer
that holds its session in this process (every session lives in the process that opened it)
is woken directly (`nudge`: a drain scheduled on the loop, one pending per consumer, no channel
layer round trip); the channel layer (`phloem.wake`) is for the rest. A wake that is lost
(the layer drops it, `ChannelFull`, or it expires) loses nothing: the consumer also sends what
is queued before its answer to every frame, and a resume replays it.

Wakes are best-effort, so a layer that fails (Redis gone) costs only their promptness: every
layer call here is bounded by `LAYER_TIMEOUT` and its failure is logged, not raised; events
are still answered from the in-process session, and a consumer whose layer receive fails keeps
its connection, retries with backoff and rejoins its group (`wakes`)."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from typing import Any, Protocol

import phloem as ph
from channels.exceptions import ChannelFull
from channels.layers import get_channel_layer

from . import lanes, registry

log = logging.getLogger(__name__)
WAKE = {"type": "phloem.wake"}
LAYER_TIMEOUT = 1.0  # seconds: bounds a layer call (a black-holed Redis must not stall a frame)
RETRY_FIRST, RETRY_MAX = 0.1, 5.0  # seconds: a failing consumer's waits between layer retries
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")  # channel layer group names
# Session ids are unique per process (s1, s2, ...), and several processes may share one Redis.
_PROCESS = secrets.token_hex(4)


class Holder(Protocol):
    """A consumer attached to a session of this process."""

    def nudge(self) -> None:
        """Drain the session's queued frames soon, on the loop (coalesced)."""


_held: dict[tuple[str, str], Holder] = {}  # (app key, session id) -> its consumer here
_flushes: set[asyncio.Task[None]] = set()  # detached sessions' flushes waiting for their lane


def hold(app_key: str, session_id: str, consumer: Holder) -> None:
    """``consumer`` serves the session now (it opened or resumed it): wake it directly."""
    _held[(app_key, session_id)] = consumer


def release(app_key: str, session_id: str, consumer: Holder) -> None:
    """``consumer`` is gone; a resume may already have handed the session to another."""
    if _held.get((app_key, session_id)) is consumer:
        del _held[(app_key, session_id)]


def nudge(app_key: str, session_id: str) -> bool:
    """Wake a session this process holds, without the channel layer (on the loop): its
    consumer drains; a detached session numbers its queued job messages into its replay
    buffer (in its lane, `Hub.flush`), so that a resume replays them. False: not held here."""
    consumer = _held.get((app_key, session_id))
    if consumer is not None:
        consumer.nudge()
        return True
    served = registry.find(app_key)
    session = served.hub.session(session_id) if served is not None else None
    if served is None or session is None:
        return False
    if session.conn is None:
        hub = served.hub
        if lanes.idle(app_key, session_id):
            hub.flush(session_id)
        else:
            task = asyncio.get_running_loop().create_task(
                lanes.run(app_key, session_id, lambda: hub.flush(session_id))
            )
            _flushes.add(task)
            task.add_done_callback(_flushes.discard)
    # Attached, and its consumer not registered yet: it drains once it is (PhloemConsumer).
    return True


def group(app_key: str, session_id: str) -> str:
    """The channel layer group of a session's consumers (at most one attached at a time)."""
    app, session = _UNSAFE.sub("_", app_key), _UNSAFE.sub("_", session_id)
    return f"phloem.{_PROCESS}.{app}.{session}"[:99]


def push(
    session_id: str, fn: Callable[[ph.UI], object], app_key: str = registry.DEFAULT
) -> Future[None]:
    """Run ``fn(ui)`` on the session's state (in its lane, see `lanes`), from any thread; the
    patch reaches the browser now if it is connected, on its resume otherwise. The returned
    future raises what ``fn`` raised, or ``phloem.runtime.UnknownSession``. From a coroutine on
    the serving loop, ``await apush(...)`` instead of waiting on the future.

    A handler may call it (for its own session too: ``ui.session``), typically to hand it to a
    job or thread that reports progress; but a handler must not wait on the future for its own
    session, which runs only after the handler has returned (the session's lane runs one call
    at a time)."""
    served = registry.get(app_key)
    if served.loop is None:
        raise RuntimeError("no connection has been served yet, so there is no session to update")
    return asyncio.run_coroutine_threadsafe(apush(session_id, fn, app_key), served.loop)


async def apush(
    session_id: str, fn: Callable[[ph.UI], object], app_key: str = registry.DEFAULT
) -> None:
    """:func:`push`, on the serving loop. ``fn`` is app code: it runs in the session's lane
    (`lanes`), off the loop and in turn with the session's events."""
    hub, now = registry.get(app_key).hub, time.monotonic()
    others = await lanes.run(app_key, session_id, lambda: hub.push(session_id, fn, now))
    # Jobs ``fn`` started or cancelled also reach the owner's other sessions (PHL-JOB-042).
    for other in sorted(others):
        await wake(app_key, other)
    await wake(app_key, session_id)


async def wake(app_key: str, session_id: str) -> None:
    """Tell the session's consumer that frames are queued for it (a push, a job message): it
    drains them. Best-effort, like every wake: a missed one is made up by the next answer."""
    if nudge(app_key, session_id):
        return
    layer = get_channel_layer()
    if layer is None:
        return  # no layer: the consumer sends the update with its next answer, or the resume
    for retry in (True, False):
        try:
            async with asyncio.timeout(LAYER_TIMEOUT):  # inline, unlike wait_for: no extra task
                await layer.group_send(group(app_key, session_id), WAKE)
        except ChannelFull:  # some layers raise it from group_send; the update waits, safely
            log.debug("wake for %s dropped: channel full", session_id)
        except Exception as exc:  # the layer is down: the update waits for a frame or the resume
            if retry and not _outage.down:
                # A pooled connection that outlived an outage (Redis restarted) fails once and
                # is dropped by the pool; a fresh one tells whether the layer is really down.
                continue
            _outage.failed("a wake could not be sent", exc)
        else:
            _outage.ok()
        return


async def join(layer: Any, group_name: str, channel: str) -> None:
    """Add a consumer to its session's group; on failure log and go on without wakes (the
    consumer's retrying receive, `wakes`, rejoins once the layer answers again)."""
    try:
        async with asyncio.timeout(LAYER_TIMEOUT):
            await layer.group_add(group_name, channel)
    except Exception as exc:
        _outage.failed("a connection could not join its wake group", exc)
    else:
        _outage.ok()


async def leave(layer: Any, group_name: str, channel: str) -> None:
    """Remove a consumer from its group; on failure log and go on (the layer forgets the
    member after its `group_expiry`; a wake sent to it meanwhile expires unread, harmlessly)."""
    try:
        async with asyncio.timeout(LAYER_TIMEOUT):
            await layer.group_discard(group_name, channel)
    except Exception as exc:
        _outage.failed("a connection could not leave its wake group", exc)


Message = dict[str, Any]


def wakes(
    receive: Callable[[], Awaitable[Message]], rejoin: Callable[[], Awaitable[None]]
) -> Callable[[], Awaitable[Message]]:
    """``receive`` (a consumer's channel layer receive) made best-effort. Where it raises, the
    connection would end (Channels' dispatch loop propagates it); here it is retried after a
    backoff, each time after ``rejoin()`` (which must not raise: `join`), since a restarted
    Redis has forgotten the group."""

    async def receive_wake() -> Message:
        delay = RETRY_FIRST
        while True:
            began = time.monotonic()
            try:
                return await receive()
            except Exception as exc:  # CancelledError (disconnect) is not an Exception
                _outage.failed("a connection's wake receive failed; retrying", exc)
            if time.monotonic() - began > RETRY_MAX:
                delay = RETRY_FIRST  # it had worked a while: a new failure, not the same outage
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX)
            await rejoin()

    return receive_wake


class _Outage:
    """Logs a layer outage once (WARNING) and its end once (INFO), not once per call."""

    down = False

    def failed(self, what: str, exc: BaseException) -> None:
        if self.down:
            log.debug("channel layer still unreachable: %s (%r)", what, exc)
            return
        self.down = True
        log.warning(
            "channel layer unreachable (%r): %s. Events are still answered; server-initiated "
            "updates reach a connection with its next frame or resume until the layer is back",
            exc,
            what,
        )

    def ok(self) -> None:
        if self.down:
            self.down = False
            log.info("channel layer reachable again; wakes resume")


_outage = _Outage()
