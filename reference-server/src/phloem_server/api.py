"""The REST API under /api/v1/: what a client, a monitor or a tool can learn over plain HTTP
before it opens a WebSocket. Read-only JSON; `openapi.yaml` beside this module describes every
endpoint and is served at /api/v1/openapi.json.

Errors are JSON too, `{"code": ..., "message": ...}` like the protocol's own `error`: 404
`not_found` for any other path under /api/, 405 `method_not_allowed` with `Allow` for a method
other than GET or HEAD, 503 `no_app` when no app is configured."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

import orjson
import yaml
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.urls import path, re_path
from phloem import App
from phloem.protocol.catalog import CORE
from phloem.protocol.version import SUBPROTOCOL, SUPPORTED_VERSIONS

from . import registry

WEBSOCKET_PATH = "/phloem/ws"  # routing.websocket_urlpatterns
# Features this server can enable (PHL-HS-006); protocol 1.0 defines none.
FEATURES: tuple[str, ...] = ()
ALLOW = "GET, HEAD"
OPENAPI = Path(__file__).with_name("openapi.yaml")

# A coroutine function, not any awaitable: Django's path() tells async views apart by that.
View = Callable[[HttpRequest], Coroutine[Any, Any, HttpResponse]]


def _json(body: object, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    """`body` as JSON (bytes: already serialized)."""
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    response = HttpResponse(content, status=status, content_type="application/json")
    response["Content-Length"] = str(len(content))  # lets the server skip chunked encoding
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-cache"
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _error(status: int, code: str, message: str, **headers: str) -> HttpResponse:
    return _json({"code": code, "message": message}, status, headers)


def endpoint(view: Callable[[HttpRequest], Awaitable[object]]) -> View:
    """A read-only JSON endpoint: GET and HEAD, anything else 405 with `Allow`; the view
    returns the body, this turns it into the JSON response."""

    @functools.wraps(view)
    async def handle(request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            return _error(
                405,
                "method_not_allowed",
                f"{request.method} is not allowed on {request.path}; use GET",
                Allow=ALLOW,
            )
        try:
            body = await view(request)
        except ImproperlyConfigured as exc:
            return _error(503, "no_app", str(exc))
        response = _json(body)
        if request.method == "HEAD":  # the GET's headers, no body (RFC 9110 §9.3.2)
            response.content = b""
        return response

    return handle


@endpoint
async def health(request: HttpRequest) -> object:
    return {"status": "ok", "protocol": list(SUPPORTED_VERSIONS)}


@endpoint
async def protocol(request: HttpRequest) -> object:
    """What a `welcome` would state, before connecting: the versions, the limits as this
    server announces them in `welcome.limits`, the core components and their props schema
    major versions (PHL-HS-016 sends any other type as a fallback), and the features."""
    hub = registry.get().hub
    return {
        "versions": list(SUPPORTED_VERSIONS),
        "subprotocol": SUBPROTOCOL,
        "websocket": WEBSOCKET_PATH,
        "limits": hub.limits.announce(),
        "components": {kind: info.version for kind, info in sorted(CORE.items())},
        "features": list(FEATURES),
    }


@endpoint
async def pages(request: HttpRequest) -> object:
    app = registry.get().app
    return {
        "app": app.name,
        "pages": [_page(app, route, fn) for route, fn in sorted(app.pages.items())],
    }


def _page(app: App, route: str, fn: Callable[..., object]) -> dict[str, object]:
    doc = inspect.getdoc(fn)
    options = app.page_options(route)
    return {
        "path": route,
        "name": getattr(fn, "__name__", None) or route,
        # The page function's docstring, first line: what the author says the page is.
        "title": doc.strip().splitlines()[0] if doc and doc.strip() else None,
        "auth": bool(options.auth),
    }


@functools.cache
def _openapi() -> bytes:
    return orjson.dumps(yaml.safe_load(OPENAPI.read_text(encoding="utf-8")))


@endpoint
async def openapi(request: HttpRequest) -> object:
    return _openapi()


async def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    return _error(404, "not_found", f"no API endpoint at {request.path}")


urlpatterns = [
    path("v1/health", health, name="api-health"),
    path("v1/protocol", protocol, name="api-protocol"),
    path("v1/pages", pages, name="api-pages"),
    path("v1/openapi.json", openapi, name="api-openapi"),
    re_path(r"^(?P<rest>.*)$", not_found, name="api-not-found"),
]
