"""Who a connection's jobs belong to (PHL-JOB-050): the signed-in user, else an anonymous
browser identity the page response keeps in a signed cookie, so a reload, a second tab, or
the same browser on another server process of the deployment sees the same jobs.

The cookie is signed with its own key, not SECRET_KEY: the embedded server's SECRET_KEY is
made per process, and an identity that changed at every restart would hide the jobs whose
results the restart was meant to keep. The key is ``PHLOEM_OWNER_KEY`` (a setting, or the
environment; several server processes must share it), else a random key kept in the data
directory."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse

COOKIE = "phloem_owner"
SALT = "phloem.jobs.owner"
MAX_AGE = 400 * 24 * 3600  # seconds: the longest lifetime browsers honour (RFC 6265bis)
_signer: signing.TimestampSigner | None = None


def _key() -> str:
    explicit = getattr(settings, "PHLOEM_OWNER_KEY", None) or os.environ.get("PHLOEM_OWNER_KEY")
    if explicit:
        return str(explicit)
    data = getattr(settings, "DATA_DIR", None)
    if data is None:  # a Django project's own settings: its SECRET_KEY is stable
        return str(settings.SECRET_KEY)
    path = Path(data) / "owner.key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(32)
        # O_EXCL: two processes starting at once agree on the first one's key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as out:
            out.write(key)
        return key


def signer() -> signing.TimestampSigner:
    global _signer
    if _signer is None:
        _signer = signing.TimestampSigner(key=_key(), salt=SALT)
    return _signer


def anonymous(cookies: dict[str, str]) -> str | None:
    """The browser identity in a request's or WebSocket scope's cookies, if validly signed."""
    value = cookies.get(COOKIE)
    if not value:
        return None
    try:
        return signer().unsign(value, max_age=MAX_AGE)
    except signing.BadSignature:
        return None


def owner(scope: dict[str, Any]) -> str | None:
    """The job owner of a WebSocket scope: ``user:<pk>`` when signed in (the runtime's
    default), ``anon:<id>`` with a valid identity cookie, else None (the session itself)."""
    user = scope.get("user")
    if user is not None and user.is_authenticated:
        return None  # the runtime makes it f"user:{pk}"
    ident = anonymous(scope.get("cookies") or {})
    return f"anon:{ident}" if ident else None


def ensure_cookie(request: HttpRequest, response: HttpResponse) -> None:
    """Give a browser without a valid identity one (on the page response)."""
    if anonymous(request.COOKIES) is not None:
        return
    value = signer().sign(secrets.token_urlsafe(18))
    response.set_cookie(
        COOKIE,
        value,
        max_age=MAX_AGE,
        httponly=True,  # no script needs it: the WebSocket handshake carries it
        samesite="Lax",
        secure=request.is_secure(),
    )
