"""The built renderer (renderer-react/dist) as files in memory: located once, each file read
and compressed once, so serving a page costs a dict lookup."""

from __future__ import annotations

import gzip
import hashlib
import html
import mimetypes
import re
import threading
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from django.conf import settings

_PACKAGE = Path(__file__).resolve().parent
# A wheel ships the renderer inside the package; a checkout has it built beside the server.
_CANDIDATES = (_PACKAGE / "static" / "phloem", _PACKAGE.parents[2] / "renderer-react" / "dist")
# Bundlers name hashed assets name-HASH.ext (Vite: 8 base64url characters).
_HASHED = re.compile(r"[.-][A-Za-z0-9_-]{8,}\.[A-Za-z0-9]+$")
_COMPRESSIBLE = (
    "text/",
    "application/javascript",
    "application/json",
    "image/svg+xml",
    "application/wasm",
    "application/manifest+json",
)
_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".wasm": "application/wasm",
    ".woff2": "font/woff2",
    ".webmanifest": "application/manifest+json",
}
_MIN_GZIP = 1024  # smaller bodies gain less than the header costs


@dataclass(frozen=True)
class File:
    body: bytes
    gzipped: bytes | None
    content_type: str
    etag: str
    immutable: bool


def dist_dir() -> Path:
    configured = getattr(settings, "PHLOEM_RENDERER_DIST", None)
    if configured:
        return Path(configured)
    for candidate in _CANDIDATES:
        if (candidate / "index.html").is_file():
            return candidate
    return _CANDIDATES[-1]


def safe_relative(path: str) -> PurePosixPath | None:
    """`path` as a relative path that stays inside its root, else None (traversal)."""
    if "\\" in path or "\x00" in path:
        return None
    rel = PurePosixPath(path)
    if rel.is_absolute() or any(part in ("..", ".", "") for part in path.split("/")):
        return None
    return rel


_cache: dict[Path, File] = {}
_lock = threading.Lock()


def read(path: Path) -> File | None:
    """The file at `path` (already known to be inside the dist), cached; None if absent."""
    found = _cache.get(path)
    if found is not None:
        return found
    if not path.is_file():
        return None
    body = path.read_bytes()
    content_type = (
        _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    )
    if content_type.startswith("text/") or content_type == "application/javascript":
        content_type += "; charset=utf-8"
    compress = len(body) >= _MIN_GZIP and content_type.startswith(_COMPRESSIBLE)
    file = File(
        body=body,
        gzipped=gzip.compress(body, 9, mtime=0) if compress else None,
        content_type=content_type,
        etag='"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"',
        immutable=bool(_HASHED.search(path.name)),
    )
    if not settings.DEBUG:  # in DEBUG a rebuilt renderer shows up without a restart
        with _lock:
            _cache[path] = file
    return file


_mounted: dict[tuple[str, str], File] = {}
_ASSET_REF = re.compile(r"""(=\s*["']?)/assets/""")  # src="/assets/..." (Vite's base "/")


def mounted(index: File, prefix: str) -> File:
    """index.html for an app mounted at `prefix` ("/tools/counter/") in a Django project: its
    assets under the prefix, and the prefix named for the renderer (config.ts), which puts its
    socket there and takes hello.path relative to it."""
    key = (index.etag, prefix)
    found = _mounted.get(key)
    if found is not None:
        return found
    quoted = html.escape(prefix, quote=True)
    text = _ASSET_REF.sub(lambda m: f"{m[1]}{quoted}assets/", index.body.decode("utf-8"))
    text = text.replace("<head>", f'<head>\n    <meta name="phloem-base" content="{quoted}" />', 1)
    body = text.encode("utf-8")
    file = File(
        body=body,
        gzipped=gzip.compress(body, 9, mtime=0) if index.gzipped is not None else None,
        content_type=index.content_type,
        etag='"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"',
        immutable=False,
    )
    with _lock:
        _mounted[key] = file
    return file


def clear() -> None:
    with _lock:
        _cache.clear()
        _mounted.clear()
