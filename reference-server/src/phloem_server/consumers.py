"""The WebSocket edge: frames in → phloem.runtime → frames out. No protocol logic lives here."""

from __future__ import annotations

import logging
import time
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer

from . import errors, records, registry

log = logging.getLogger(__name__)
SUBPROTOCOL = "phloem.v1"  # names the MAJOR version; hello/welcome settle MAJOR.MINOR
INTERNAL_ERROR = 1011


class PhloemConsumer(AsyncWebsocketConsumer):
    app_key = registry.DEFAULT  # which served app; set per route with as_asgi(app_key=...)
    conn: Any = None
    session: str | None = None

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels closes stale DB connections before every message, a thread hop per frame;
        # this consumer touches the database only through records (its own DB thread).
        handler = getattr(self, message["type"].replace(".", "_"), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        if SUBPROTOCOL not in self.scope.get("subprotocols", ()):
            # PHL-TRANSPORT-003: a client that does not offer phloem.v1 does not speak this protocol: refuse the
            # upgrade (HTTP 403) rather than accept and answer in a language it cannot read.
            log.warning("refused a WebSocket without subprotocol %s", SUBPROTOCOL)
            await self.close()
            return
        self.served = registry.get(self.app_key)
        self.conn = self.served.hub.connect(time.monotonic())
        await self.accept(SUBPROTOCOL)

    async def websocket_receive(self, message: dict[str, Any]) -> None:
        text = message.get("text")
        try:
            out = self.conn.receive(
                text if text is not None else message["bytes"], time.monotonic()
            )
        except Exception:
            # The runtime answers every protocol fault itself; reaching here is a server bug.
            log.exception("runtime failed on a frame; closing with %d", INTERNAL_ERROR)
            await self.close(INTERNAL_ERROR)
            return
        for frame in out.frames:
            await self.send(frame)
        if out.close is not None:
            await self.close(out.close)
        if self.session is None:
            self.session = errors.session_of(self.conn, out.frames)
            if self.session is not None:
                records.opened(self.session, self.served.path)
        errors.log_errors(out.frames, self.session)

    async def disconnect(self, code: int) -> None:
        if self.conn is not None:
            self.conn.disconnect(time.monotonic())
            if self.session is not None:
                records.closed(self.session)

# --- TEMP experiment ---
import os as _os
from channels.consumer import AsyncConsumer as _AC
_V = _os.environ.get("PHLOEM_VARIANT", "")
if _V == "stock":
    del PhloemConsumer.dispatch
if _V in ("stock", "layer"):
    pass
else:
    PhloemConsumer.channel_layer_alias = "__none__"
if _V == "layer":
    pass


class RawConsumer:
    """Experiment: plain ASGI app."""
    def __init__(self, scope, receive, send): pass

async def raw_app(scope, receive, send):
    msg = await receive()  # websocket.connect
    if SUBPROTOCOL not in scope.get("subprotocols", ()):
        await send({"type": "websocket.close"}); return
    served = registry.get()
    conn = served.hub.connect(time.monotonic())
    await send({"type": "websocket.accept", "subprotocol": SUBPROTOCOL})
    while True:
        msg = await receive()
        t = msg["type"]
        if t == "websocket.receive":
            text = msg.get("text")
            out = conn.receive(text if text is not None else msg["bytes"], time.monotonic())
            for f in out.frames:
                await send({"type": "websocket.send", "text": f})
            if out.close is not None:
                await send({"type": "websocket.close", "code": out.close})
        elif t == "websocket.disconnect":
            conn.disconnect(time.monotonic()); return
