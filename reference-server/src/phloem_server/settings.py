"""Settings for the embedded default (`phloem run app.py`): one process, SQLite, in-memory
channel layer (Redis with `PHLOEM_REDIS_URL`, `phloem run --redis URL`). A Django project that adds `phloem_server` to INSTALLED_APPS uses its own
settings instead; the `PHLOEM_*` names below are the ones it may set."""

import json
import os
import secrets
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured


def _data_dir() -> Path:
    # Outside the user's project so `phloem run` leaves no files next to app.py.
    explicit = os.environ.get("PHLOEM_DATA_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_DATA_HOME")
    return (Path(xdg) if xdg else Path.home() / ".local" / "share") / "phloem"


DATA_DIR = _data_dir()

# Session cookies are checked against the key (the user's session auth hash), so with a
# per-process key a login lasts as long as the process; a deployment sets its own.
SECRET_KEY = os.environ.get("PHLOEM_SECRET_KEY") or secrets.token_urlsafe(50)
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
if os.environ.get("PHLOEM_HOST") and os.environ["PHLOEM_HOST"] not in ("0.0.0.0", "::"):
    ALLOWED_HOSTS.append(os.environ["PHLOEM_HOST"])
# Names this server is reached by when bound to all interfaces (--host 0.0.0.0), comma-separated.
ALLOWED_HOSTS += [h for h in os.environ.get("PHLOEM_ALLOWED_HOSTS", "").split(",") if h]

# auth, contenttypes and sessions: the WebSocket's user comes from Django's session cookie
# (channels.auth.AuthMiddlewareStack); `phloem run` migrates their tables with ours.
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "phloem_server",
]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "phloem_server.urls"
ASGI_APPLICATION = "phloem_server.asgi.application"
TEMPLATES: list[dict[str, object]] = []

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(DATA_DIR / "phloem.sqlite3"),
        # Job workers, the server's threads and `phloem worker` processes write at once
        # (issue 10). WAL lets readers run beside a writer and makes a commit an append to the
        # log (synchronous=NORMAL: ~1 ms instead of ~15 ms measured under load; a commit
        # survives kill -9, only an OS crash may lose the newest). IMMEDIATE transactions wait
        # for the write lock (busy timeout) instead of failing with "database is locked" when
        # a transaction that began by reading turns into a writer.
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        },
    }
}


def _channel_layers() -> dict[str, dict[str, Any]]:
    # The layer carries only wakes (updates.py): Redis is the production option, e.g. for its
    # bounded memory and its operations tooling; the sessions stay in this process either way.
    url = os.environ.get("PHLOEM_REDIS_URL")
    if not url:
        return {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    try:  # RedisChannelLayer keywords besides hosts, e.g. {"expiry": 60, "capacity": 100}
        options = json.loads(os.environ.get("PHLOEM_REDIS_OPTIONS") or "{}")
    except ValueError as exc:
        raise ImproperlyConfigured(f"PHLOEM_REDIS_OPTIONS is not JSON: {exc}") from None
    if not isinstance(options, dict) or "hosts" in options:
        raise ImproperlyConfigured(
            "PHLOEM_REDIS_OPTIONS must be a JSON object of RedisChannelLayer options "
            "(the host is PHLOEM_REDIS_URL)"
        )
    # redis-py 8 reads with a 5 s socket timeout by default, which aborts channels_redis's 5 s
    # blocking pop on every idle channel (channels_redis issue 422): allow the pop its 5 s and
    # still notice a Redis that stopped answering.
    host = {"address": url, "socket_timeout": 10}
    return {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [host], **options},
        }
    }


CHANNEL_LAYERS = _channel_layers()

USE_TZ = True
TIME_ZONE = "UTC"
USE_I18N = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The app script to serve; `phloem run` installs the loaded app directly instead.
PHLOEM_APP = os.environ.get("PHLOEM_APP")
# A built renderer to serve instead of the shipped one (`phloem run --renderer DIR`).
PHLOEM_RENDERER_DIST = os.environ.get("PHLOEM_RENDERER_DIST") or None
PHLOEM_ALLOWED_ORIGINS = [o for o in os.environ.get("PHLOEM_ALLOWED_ORIGINS", "").split(",") if o]
# Overrides of phloem.runtime.Limits fields, e.g. {"max_tree_nodes": 5000, "resume_seconds": 300};
# checked at startup. Embedded mode reads them as JSON from the environment.
PHLOEM_LIMITS = json.loads(os.environ.get("PHLOEM_LIMITS") or "{}")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "phloem_server": {
            "handlers": ["stderr"],
            "level": os.environ.get("PHLOEM_LOG_LEVEL", "INFO"),
        },
        "django": {"handlers": ["stderr"], "level": "WARNING"},
    },
}
