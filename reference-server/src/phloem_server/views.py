"""HTTP: every page path gets the renderer's index.html; /assets/… its hashed files.
Async views, so serving a file never hops to a worker thread."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from . import renderer
from .jobs import identity

# Only the renderer's own scripts run: no script from the server executes (PHL-SEC-001).
DEFAULT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: https:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "frame-ancestors 'self'"
)
_NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>Phloem: renderer not built</title>
<h1>The Phloem renderer is not built</h1>
<p>No <code>index.html</code> in <code>{dist}</code>.</p>
<p>Build it with <code>npm --prefix renderer-react ci &amp;&amp; npm --prefix renderer-react run build</code>
(or <code>make build</code>), or point the <code>PHLOEM_RENDERER_DIST</code> setting at a built renderer.</p>
"""


@require_safe
async def page(request: HttpRequest, path: str = "") -> HttpResponse:
    dist = renderer.dist_dir()
    if path:
        rel = renderer.safe_relative(path)
        if rel is None:
            raise Http404("no such page")
        # Top-level files the bundler copies as-is (favicon.svg, robots.txt) are themselves.
        if len(rel.parts) == 1 and rel.name != "index.html":
            file = renderer.read(dist / rel)
            if file is not None:
                return _respond(request, file)
    index = renderer.read(dist / "index.html")
    if index is None:
        html = _NOT_BUILT.format(dist=dist).encode()
        return HttpResponse(html, status=503, content_type="text/html; charset=utf-8")
    # Mounted under a prefix (`path("tools/counter/", include("phloem_server.urls"))`): what
    # the request path has before the page path.
    prefix = request.path[: len(request.path) - len(path)] if path else request.path
    if prefix != "/":
        index = renderer.mounted(index, prefix if prefix.endswith("/") else prefix + "/")
    response = _respond(request, index)
    csp = getattr(settings, "PHLOEM_CSP", DEFAULT_CSP)
    if csp:
        response["Content-Security-Policy"] = csp
    identity.ensure_cookie(request, response)  # whose jobs this browser sees
    return response


@require_safe
async def asset(request: HttpRequest, path: str) -> HttpResponse:
    rel = renderer.safe_relative(path)
    file = renderer.read(renderer.dist_dir() / "assets" / rel) if rel is not None else None
    if file is None:
        raise Http404("no such asset")
    return _respond(request, file)


def _respond(request: HttpRequest, file: renderer.File) -> HttpResponse:
    headers = {"ETag": file.etag, "X-Content-Type-Options": "nosniff", "Vary": "Accept-Encoding"}
    # A hashed name changes with its content, so browsers may keep it forever; anything else
    # (index.html above all) is revalidated so a new build is seen at once.
    headers["Cache-Control"] = (
        "public, max-age=31536000, immutable" if file.immutable else "no-cache"
    )
    if request.headers.get("If-None-Match") == file.etag:
        return HttpResponse(status=304, headers=headers)
    body = file.body
    if file.gzipped is not None and "gzip" in request.headers.get("Accept-Encoding", ""):
        body = file.gzipped
        headers["Content-Encoding"] = "gzip"
    headers["Content-Length"] = str(len(body))  # lets the server skip chunked encoding
    return HttpResponse(body, content_type=file.content_type, headers=headers)
