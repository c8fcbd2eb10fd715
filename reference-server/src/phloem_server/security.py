"""The WebSocket Origin check (PHL-TRANSPORT-006): a page on a foreign site must not drive a user's
session, so a foreign Origin is refused with HTTP 403 before the connection is accepted."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

log = logging.getLogger(__name__)
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def _origin_key(origin: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(origin.strip().lower())
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname or port is None:
        return None
    return parts.scheme, parts.hostname, port


def _allowed_hosts() -> list[str]:
    hosts = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not hosts:  # Django's own DEBUG default
        hosts = [".localhost", "127.0.0.1", "[::1]"]
    return hosts


def origin_allowed(headers: Iterable[tuple[bytes, bytes]], allowed_origins: Iterable[str]) -> bool:
    origin = host = None
    for name, value in headers:
        if name == b"origin":
            origin = value.decode("latin-1")
        elif name == b"host":
            host = value.decode("latin-1")
    if origin is None:
        # Browsers always send Origin on a WebSocket upgrade; only a non-browser client omits
        # it, and such a client is not the cross-site page this check exists to stop.
        return True
    key = _origin_key(origin)
    if key is None:  # includes "null" (sandboxed frames, file: pages)
        return False
    if key in {_origin_key(o) for o in allowed_origins}:
        return True
    if host is None:
        return False
    domain, port = split_domain_port(host.lower())
    # The Host must be one we serve (ALLOWED_HOSTS), or DNS rebinding would make any page
    # "same-origin" with us.
    if not domain or not validate_host(domain, _allowed_hosts()):
        return False
    scheme, origin_host, origin_port = key
    host_port = int(port) if port else _DEFAULT_PORTS[scheme]
    return (origin_host.strip("[]"), origin_port) == (domain.strip("[]"), host_port)


class OriginCheck:
    """ASGI middleware for the websocket scope: same-origin or `PHLOEM_ALLOWED_ORIGINS` only."""

    def __init__(self, application: Any, allowed_origins: Iterable[str] | None = None) -> None:
        self.application = application
        self.allowed_origins = allowed_origins

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        allowed = self.allowed_origins
        if allowed is None:
            allowed = getattr(settings, "PHLOEM_ALLOWED_ORIGINS", ())
        if scope["type"] == "websocket" and not origin_allowed(scope.get("headers", ()), allowed):
            origin = dict(scope.get("headers", ())).get(b"origin", b"").decode("latin-1")
            log.warning("refused a WebSocket from foreign origin %r (PHL-TRANSPORT-006)", origin)
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
