"""The Phloem reference server: a reusable Django app serving phloem apps over Channels."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any


def push(session_id: str, fn: Callable[[Any], object], app_key: str = "default") -> Future[None]:
    """Update a session from any thread (a job): ``fn(ui)`` runs in the serving loop and the
    patch reaches its browser. See :func:`phloem_server.updates.push`."""
    from .updates import push as push_

    return push_(session_id, fn, app_key)


__all__ = ["push"]
