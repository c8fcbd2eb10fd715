"""The process's runtime Hubs: one per served app, created once and shared by every
connection of this process.

Sessions live inside a Hub keyed by their resume token, so the transport never holds protocol
state; a scaled-out mode (several processes behind a Redis channel layer) can route a resume
to the process that owns the token without changing the consumer."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import phloem as ph
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from phloem.runtime.inline import InlinePolicy

from . import errors

log = logging.getLogger(__name__)
DEFAULT = "default"


@dataclass
class Served:
    app: ph.App
    hub: ph.runtime.Hub
    path: str  # the script it was loaded from, for logs and SessionRecord
    # The event loop that serves it: the Hub is not thread-safe, so everything that touches
    # it (frames, pushes from other threads) runs there.
    loop: asyncio.AbstractEventLoop | None = field(default=None, repr=False)
    _reaper: asyncio.Task[None] | None = field(default=None, repr=False)

    def start_reaper(self) -> None:
        """Forget sessions whose resume time has passed, from a task on the serving loop."""
        if self._reaper is None or self._reaper.done():
            self.loop = asyncio.get_running_loop()
            self._reaper = self.loop.create_task(self._reap())

    async def _reap(self) -> None:
        # A quarter of the shortest resume time: a dead session lingers at most 25 % past it.
        pages = self.app.options.values()
        shortest = min(
            [self.hub.limits.resume_seconds]
            + [o.limits["resume_seconds"] for o in pages if "resume_seconds" in o.limits]
        )
        interval = max(1.0, shortest / 4)
        while True:
            await asyncio.sleep(interval)
            gone = self.hub.expire(time.monotonic())
            if gone:
                log.debug("forgot %d expired session(s) of %s", gone, self.path)


_lock = threading.Lock()
_served: dict[str, Served] = {}


def limits() -> ph.runtime.Limits:
    """`ph.runtime.Limits` with the PHLOEM_LIMITS setting's overrides (a dict of its fields,
    e.g. ``{"max_tree_nodes": 5000, "resume_seconds": 300}``). Checked when Django starts
    (`PhloemServerConfig.ready`), so a typo fails the server's start, not its first session."""
    overrides = getattr(settings, "PHLOEM_LIMITS", None) or {}
    if not isinstance(overrides, dict):
        raise ImproperlyConfigured(
            f"PHLOEM_LIMITS must be a dict of limit names to values, not {overrides!r}"
        )
    try:
        return ph.runtime.Limits().replace(overrides)
    except ValueError as exc:
        raise ImproperlyConfigured(f"PHLOEM_LIMITS: {exc}") from None


def inline_policy() -> InlinePolicy | None:
    """PHLOEM_INLINE_QUICK_HANDLERS (off by default): app code that proved quick (within 1 ms,
    three times in a row) runs on the event loop, saving the lane's two thread wake-ups per
    event (about a fifth of the server's CPU per click, bench/bench_rtt.py). The price: a
    handler that turns slow holds the loop, and every connection, once before it is sent back
    to its lane (phloem.runtime.inline). For servers whose handlers are all quick."""
    if not getattr(settings, "PHLOEM_INLINE_QUICK_HANDLERS", False):
        return None
    return InlinePolicy(time.perf_counter)


def install(app: ph.App, path: str, key: str = DEFAULT) -> Served:
    """Serve an already loaded app under `key`."""
    # Tokens come from the runtime's default_token (CSPRNG, PHL-SEC-004). Every coded error
    # the runtime sends is logged by the hook, client faults throttled (errors.ErrorLog).
    # offload: the consumers run app code off the event loop (phloem_server.lanes).
    # Jobs run on the backend of phloem_server.jobs (worker processes, or Celery with --jobs).
    hub = ph.runtime.Hub(
        app, limits=limits(), on_error=errors.error_log, offload=True, inline=inline_policy()
    )
    served = Served(app, hub, path)
    with _lock:
        _served[key] = served
    return served


def load(path: str | Path, key: str = DEFAULT) -> Served:
    """Run the app script at `path` (ph.load_app) and serve it under `key`."""
    return install(ph.load_app(str(path)), str(path), key)


def get(key: str = DEFAULT) -> Served:
    """What is served under `key`; the default loads `settings.PHLOEM_APP` on first use."""
    found = _served.get(key)
    if found is not None:
        return found
    path = getattr(settings, "PHLOEM_APP", None) if key == DEFAULT else None
    if not path:
        raise ImproperlyConfigured(
            f"No Phloem app is served under {key!r}: set PHLOEM_APP to the app script's path "
            "(or start the server with `phloem run app.py`)"
        )
    with _lock:
        if key in _served:
            return _served[key]
    return load(path, key)


def find(key: str) -> Served | None:
    """What is served under `key`, if anything is yet (never loads an app)."""
    return _served.get(key)


def clear() -> None:
    """Forget every served app (tests)."""
    with _lock:
        for served in _served.values():
            if served._reaper is not None:
                served._reaper.cancel()
        _served.clear()
