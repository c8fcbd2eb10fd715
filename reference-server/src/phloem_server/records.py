"""SessionRecord writes, kept off the hot path: scheduled as background tasks that run the ORM
in Channels' database thread, so a slow disk never delays a frame."""

from __future__ import annotations

import asyncio
import logging

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone

from .models import SessionRecord

log = logging.getLogger(__name__)
_pending: set[asyncio.Task[None]] = set()


def enabled() -> bool:
    return bool(getattr(settings, "PHLOEM_RECORD_SESSIONS", True))


def opened(session: str, app_path: str) -> None:
    _schedule(_opened, session, app_path)


def closed(session: str) -> None:
    _schedule(_closed, session)


async def drain() -> None:
    """Wait for the writes scheduled so far (tests, shutdown)."""
    while _pending:
        await asyncio.gather(*list(_pending), return_exceptions=True)


def _schedule(write, *args: str) -> None:  # type: ignore[no-untyped-def]
    if not enabled():
        return
    task = asyncio.get_running_loop().create_task(_run(write, *args))
    _pending.add(task)  # the loop keeps only weak references to tasks
    task.add_done_callback(_pending.discard)


async def _run(write, *args: str) -> None:  # type: ignore[no-untyped-def]
    try:
        await database_sync_to_async(write)(*args)
    except Exception:
        # A record is bookkeeping: losing one must never break a session.
        log.exception("could not write the session record for %s", args[0])


def _opened(session: str, app_path: str) -> None:
    now = timezone.now()
    SessionRecord.objects.update_or_create(
        session=session,
        defaults={"app_path": app_path, "last_seen": now, "closed": None},
        create_defaults={"app_path": app_path, "created": now, "last_seen": now},
    )


def _closed(session: str) -> None:
    now = timezone.now()
    SessionRecord.objects.filter(session=session).update(last_seen=now, closed=now)
