"""The floors' servers, each the least that serves a counter over a WebSocket (bench/floors.py).

    python bench/floor_servers.py websockets               # a bare `websockets` server, vanilla JS
    python bench/floor_servers.py asgi --server uvicorn [--dist DIR]  # a bare ASGI app (page: DIR's)

Both speak one message each way: the client sends anything (a click), the server answers
``{"text": "Count: N"}``, and sends ``Count: 0`` when a connection opens. The ASGI app runs on
the very server configuration `phloem run` uses (`phloem_server.servers.run`), so a ratio to it
isolates what Phloem adds to the ASGI server. Prints the same ready line as `phloem run`.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import mimetypes
import sys
from pathlib import Path
from typing import Any

# Builds its DOM from the first message, as Phloem's renderer does from the first snapshot, so
# "first content" means the same thing: the page loaded, connected and shows the count.
VANILLA = b"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>floor</title>
</head><body><div id="app"></div><script>
const ws = new WebSocket(`ws://${location.host}/ws`);
ws.onmessage = (e) => {
  let count = document.querySelector('[data-node-id="count"]');
  if (!count) {
    count = document.createElement("p");
    count.dataset.nodeId = "count";
    const button = document.createElement("button");
    button.dataset.nodeId = "inc";
    button.textContent = "Increment";
    button.onclick = () => ws.send('{"type":"click"}');
    document.getElementById("app").append(count, button);
  }
  count.textContent = JSON.parse(e.data).text;
};
</script></body></html>"""


def _ready(title: str, port: int) -> None:
    print(f"Phloem: serving {title} at http://127.0.0.1:{port}", flush=True)


def _count(n: int) -> str:
    return f'{{"text":"Count: {n}"}}'


async def serve_websockets() -> None:
    from websockets.asyncio.server import ServerConnection, serve
    from websockets.datastructures import Headers
    from websockets.http11 import Request, Response

    def page(connection: ServerConnection, request: Request) -> Response | None:
        if request.path == "/ws":
            return None  # the upgrade
        headers = Headers(
            [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(VANILLA)))]
        )
        return Response(200, "OK", headers, VANILLA)

    async def counter(ws: ServerConnection) -> None:
        n = 0
        await ws.send(_count(n))
        async for _ in ws:
            n += 1
            await ws.send(_count(n))

    async with serve(counter, "127.0.0.1", 0, process_request=page, compression=None) as server:
        _ready("a bare websockets server", server.sockets[0].getsockname()[1])
        await asyncio.Future()


def asgi_app(dist: Path | None) -> Any:
    """The page in ``dist`` (a build), or the vanilla one."""
    files = {"/index.html": VANILLA}
    if dist is not None:
        files = {
            "/" + str(p.relative_to(dist)): p.read_bytes() for p in dist.rglob("*") if p.is_file()
        }
    files["/"] = files["/index.html"]
    # Gzipped once, as Phloem's static files are served: the bytes compare like for like.
    zipped = {path: gzip.compress(body) for path, body in files.items()}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            kind = mimetypes.guess_type(path)[0] or "text/html"
            accepts = b"gzip" in dict(scope["headers"]).get(b"accept-encoding", b"")
            body = (zipped if accepts else files).get(path)
            status = 200 if body is not None else 404
            body = body if body is not None else b"not found"
            headers = [
                (b"content-type", kind.encode()),
                (b"content-length", str(len(body)).encode()),
            ]
            if accepts and status == 200:
                headers.append((b"content-encoding", b"gzip"))
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        elif scope["type"] == "websocket":
            await receive()  # websocket.connect
            await send({"type": "websocket.accept"})
            n = 0
            await send({"type": "websocket.send", "text": _count(n)})
            while (await receive())["type"] == "websocket.receive":
                n += 1
                await send({"type": "websocket.send", "text": _count(n)})

    return app


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["websockets", "asgi"])
    parser.add_argument("--server", default="uvicorn")
    parser.add_argument("--dist", type=Path)
    args = parser.parse_args()
    if args.kind == "websockets":
        asyncio.run(serve_websockets())
        return 0
    import os

    import django
    from phloem_server import servers

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "phloem_server.settings")

    servers.import_early(args.server)
    django.setup()  # `servers.run` shuts Phloem's consumers down on exit: none here
    title = f"a bare ASGI app on {args.server}"
    servers.run(args.server, asgi_app(args.dist), "127.0.0.1", 0, lambda port: _ready(title, port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
