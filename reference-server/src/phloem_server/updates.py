"""Server-initiated updates: change a session from outside its events (a job, a timer, another
thread) and let its connection know.

The session in the runtime is the source of truth (`Hub.push` numbers the patch and keeps it
for replay); the channel layer only wakes the session's consumer, with a message that carries
no data (`phloem.wake`). A wake that the layer drops (`ChannelFull`) or expires loses nothing:
the consumer also sends what is queued before its answer to every frame, and a resume replays
it."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from concurrent.futures import Future

import phloem as ph
from channels.exceptions import ChannelFull
from channels.layers import get_channel_layer

from . import registry

log = logging.getLogger(__name__)
WAKE = {"type": "phloem.wake"}
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")  # channel layer group names


def group(app_key: str, session_id: str) -> str:
    """The channel layer group of a session's consumers (at most one attached at a time)."""
    return f"phloem.{_UNSAFE.sub('_', app_key)}.{_UNSAFE.sub('_', session_id)}"[:99]


def push(
    session_id: str, fn: Callable[[ph.UI], object], app_key: str = registry.DEFAULT
) -> Future[None]:
    """Run ``fn(ui)`` on the session's state in the serving event loop, from any thread; the
    patch reaches the browser now if it is connected, on its resume otherwise. The returned
    future raises what ``fn`` raised, or ``phloem.runtime.UnknownSession``. From a coroutine on
    the serving loop, ``await apush(...)`` instead of waiting on the future."""
    served = registry.get(app_key)
    if served.loop is None:
        raise RuntimeError("no connection has been served yet, so there is no session to update")
    return asyncio.run_coroutine_threadsafe(apush(session_id, fn, app_key), served.loop)


async def apush(
    session_id: str, fn: Callable[[ph.UI], object], app_key: str = registry.DEFAULT
) -> None:
    """:func:`push`, on the serving loop."""
    registry.get(app_key).hub.push(session_id, fn, time.monotonic())
    layer = get_channel_layer()
    if layer is None:
        return  # no layer: the consumer sends the update with its next answer, or the resume
    try:
        await layer.group_send(group(app_key, session_id), WAKE)
    except ChannelFull:  # some layers raise it from group_send; the update waits, safely
        log.debug("wake for %s dropped: channel full", session_id)
