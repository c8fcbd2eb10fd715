"""Which job backend this server uses: ``PHLOEM_JOBS`` (a setting, or the environment) is
``embedded`` (the default: worker processes of this server) or ``celery`` (workers started
with `phloem worker app.py`, through the Redis at ``PHLOEM_REDIS_URL``).

Tunables (settings or environment, seconds): ``PHLOEM_JOB_WORKERS`` (embedded pool size,
default the CPU count), ``PHLOEM_JOB_HEARTBEAT`` (how often a running job's lease is renewed
and its progress saved, default 1), ``PHLOEM_JOB_LEASE`` (a running job whose lease is older
is dead, default 30) and ``PHLOEM_JOB_REAP`` (how often a server looks for dead jobs, default
10). A crashed Celery worker's job is therefore reported within LEASE + REAP seconds (40 by
default); an embedded worker's at once, and a crashed embedded server's when it restarts."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from phloem.jobs import JobUpdate

KINDS = ("embedded", "celery")


def option(name: str, default: float) -> float:
    value = getattr(settings, name, None) or os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number of seconds, not {value!r}") from None
    if number <= 0:
        raise ImproperlyConfigured(f"{name} must be greater than 0, not {value!r}")
    return number


def kind() -> str:
    chosen = getattr(settings, "PHLOEM_JOBS", None) or os.environ.get("PHLOEM_JOBS") or "embedded"
    if chosen not in KINDS:
        raise ImproperlyConfigured(f"PHLOEM_JOBS must be one of {', '.join(KINDS)}, not {chosen!r}")
    return str(chosen)


def make(sink: Callable[[JobUpdate], None], app_path: str) -> Any:
    if kind() == "celery":
        from .distributed import CeleryBackend

        return CeleryBackend(sink, app_path)
    from .embedded import ProcessBackend

    workers = int(option("PHLOEM_JOB_WORKERS", float(os.cpu_count() or 1)))
    return ProcessBackend(sink, app_path, workers, option("PHLOEM_JOB_HEARTBEAT", 1.0))
