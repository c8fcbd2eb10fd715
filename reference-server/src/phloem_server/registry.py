"""The process's runtime Hubs: one per loaded app, created once and shared by every
connection of this process.

Sessions live inside a Hub keyed by their resume token, so the transport never holds protocol
state; a scaled-out mode (several processes behind a Redis channel layer) can route a resume
to the process that owns the token without changing the consumer."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import phloem as ph
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULT = "default"


@dataclass(frozen=True)
class Served:
    app: Any  # the phloem App
    hub: Any  # its phloem.runtime.Hub
    path: str  # the script it was loaded from, for logs and SessionRecord


_lock = threading.Lock()
_served: dict[str, Served] = {}


def new_token() -> str:
    # 256 bits from the OS CSPRNG (PHL-SEC-004: at least 128); 43 characters, inside the
    # 16..256 the welcome.token schema allows.
    return secrets.token_urlsafe(32)


def install(app: Any, path: str, key: str = DEFAULT) -> Served:
    """Serve an already loaded app under `key`."""
    served = Served(app, ph.runtime.Hub(app, limits=ph.runtime.Limits(), new_token=new_token), path)
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


def clear() -> None:
    """Forget every served app (tests)."""
    with _lock:
        _served.clear()
