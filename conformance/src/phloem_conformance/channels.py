"""How frames reach the implementation under test: through an SDK adapter, or a real WebSocket.

Every channel delivers what the peer sent as :class:`Incoming` items, in order, ending with a
``close`` item when the peer closes.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from .adapter import Adapter
from .catalog_gen import SUBPROTOCOL as SUBPROTOCOL  # names the MAJOR version (PHL-TRANSPORT-003)

_MAX_FRAME = 4 * 1024 * 1024


@dataclass(frozen=True)
class Incoming:
    kind: str  # "text" | "binary" | "close"
    text: str = ""
    data: bytes = b""
    code: int | None = None


class Channel:
    #: True when ``next`` can wait for frames the peer sends on its own (a real socket).
    live = True

    async def send_text(self, text: str) -> None:
        raise NotImplementedError

    async def send_binary(self, data: bytes) -> None:
        raise NotImplementedError

    async def next(self, timeout: float) -> Incoming | None:
        raise NotImplementedError

    async def reconnect(self, timeout: float) -> None:
        """Drop the transport and continue over a new connection (the ``reconnect`` step)."""
        raise NotImplementedError

    async def close_with(self, code: int, reason: str = "") -> None:
        """The runner, as client, closes the connection with ``code`` (``c2s_close``)."""
        raise NotImplementedError

    async def close(self) -> None:
        pass


class SdkChannel(Channel):
    """Sans-IO SDKs: each frame goes through the adapter's ``send``; replies queue up here.

    A case may hold several connections to the same app (``connect: {as: NAME}``); commands for
    any but the first carry ``"connection": NAME``. A reply's ``elsewhere`` holds what other
    connections received meanwhile (``{NAME: {"frames": [...], "close": CODE|null}}``: a
    takeover closes the old connection), routed to their channels through ``peers``.
    """

    live = False

    def __init__(
        self,
        adapter: Adapter,
        timeout: float,
        name: str = "main",
        peers: dict[str, SdkChannel] | None = None,
    ) -> None:
        self.adapter = adapter
        self.timeout = timeout
        self.name = name
        self.peers = {} if peers is None else peers
        self.peers[name] = self
        self.queue: collections.deque[Incoming] = collections.deque()
        self.closed = False

    def _command(self, command: dict[str, Any]) -> dict[str, Any]:
        return command if self.name == "main" else {**command, "connection": self.name}

    async def send_text(self, text: str) -> None:
        await self._send({"cmd": "send", "frame": text})

    async def send_binary(self, data: bytes) -> None:
        await self._send({"cmd": "send", "binary": base64.b64encode(data).decode()})

    async def _send(self, command: dict[str, Any]) -> None:
        if self.closed:
            return
        reply = await self.adapter.request(self._command(command), self.timeout)
        self.deliver_all(reply)

    def deliver_all(self, reply: dict[str, Any]) -> None:
        """Queue a reply's frames and close for this connection, and its ``elsewhere`` for
        the other named connections of the case."""
        self.deliver(reply)
        for name, other in (reply.get("elsewhere") or {}).items():
            if name in self.peers and isinstance(other, dict):
                self.peers[name].deliver(other)

    def deliver(self, reply: dict[str, Any]) -> None:
        self.queue.extend(Incoming("text", text=frame) for frame in reply.get("frames", []))
        if reply.get("close") is not None and not self.closed:
            self.closed = True
            self.queue.append(Incoming("close", code=reply["close"]))

    async def next(self, timeout: float) -> Incoming | None:
        # Nothing is pending unless a send produced it: the SDK is sans-IO.
        return self.queue.popleft() if self.queue else None

    async def reconnect(self, timeout: float) -> None:
        # Frames not yet read were "lost with the connection"; the next send is a new connection.
        await self.adapter.request(self._command({"cmd": "disconnect"}), self.timeout)
        self.queue.clear()
        self.closed = False

    async def close_with(self, code: int, reason: str = "") -> None:
        # The SDK sees the client's close (code) and the connection is gone; as after a
        # reconnect, the adapter's next send on this name arrives on a new connection.
        await self.adapter.request(self._command({"cmd": "disconnect", "code": code}), self.timeout)
        self.queue.clear()


class _SocketChannel(Channel):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[Incoming] = asyncio.Queue()
        self.ws: ClientConnection | ServerConnection | None = None
        self._pump: asyncio.Task[None] | None = None

    def _attach(self, ws: ClientConnection | ServerConnection) -> None:
        self.ws = ws
        self._pump = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for frame in self.ws:
                if isinstance(frame, str):
                    self.queue.put_nowait(Incoming("text", text=frame))
                else:
                    self.queue.put_nowait(Incoming("binary", data=frame))
        except ConnectionClosed:
            pass
        finally:
            # close_code is the code the peer sent, or 1006 when the connection just dropped.
            self.queue.put_nowait(Incoming("close", code=self.ws.close_code or 1006))

    async def send_text(self, text: str) -> None:
        assert self.ws is not None
        with contextlib.suppress(ConnectionClosed):  # the close shows up in the queue
            await self.ws.send(text)

    async def send_binary(self, data: bytes) -> None:
        assert self.ws is not None
        with contextlib.suppress(ConnectionClosed):
            await self.ws.send(data)

    async def next(self, timeout: float) -> Incoming | None:
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None

    async def close_with(self, code: int, reason: str = "") -> None:
        if self.ws is not None:
            await self.ws.close(code, reason)
        if self._pump is not None:
            await asyncio.gather(self._pump, return_exceptions=True)
        self.queue = asyncio.Queue()  # the server's close answers the runner's, nothing to judge

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._pump is not None:
            await asyncio.gather(self._pump, return_exceptions=True)

    async def _drop(self) -> None:
        """Abort the TCP connection without a close frame (the peer sees 1006), forget its frames."""
        if self.ws is not None:
            self.ws.transport.abort()
        if self._pump is not None:
            await asyncio.gather(self._pump, return_exceptions=True)
        self.queue = asyncio.Queue()
        self.ws = None
        self._pump = None


class ClientSocketChannel(_SocketChannel):
    """The runner as client of a server under test."""

    def __init__(self, url: str, origin: str | None, headers: dict[str, str] | None = None) -> None:
        super().__init__()
        self.url = url
        self.origin = origin
        self.headers = headers or {}  # sent with every upgrade (an authenticated user's cookie)

    @classmethod
    async def open(
        cls, url: str, origin: str | None, timeout: float, headers: dict[str, str] | None = None
    ) -> ClientSocketChannel:
        channel = cls(url, origin, headers)
        await channel._connect(timeout)
        return channel

    async def _connect(self, timeout: float) -> None:
        ws = await asyncio.wait_for(
            connect(
                self.url,
                subprotocols=[SUBPROTOCOL],  # type: ignore[list-item]
                origin=self.origin,  # type: ignore[arg-type]
                additional_headers=self.headers or None,
                max_size=_MAX_FRAME,
                ping_interval=None,
                open_timeout=timeout,
            ),
            timeout,
        )
        self._attach(ws)

    async def reconnect(self, timeout: float) -> None:
        await self._drop()
        await self._connect(timeout)

    @property
    def subprotocol(self) -> str | None:
        return self.ws.subprotocol if self.ws else None


class ServerSocketChannel(_SocketChannel):
    """The runner plays the server for a renderer under test: one connection per case."""

    def __init__(self) -> None:
        super().__init__()
        self.server: Server | None = None
        # Connections the renderer opened and the runner has not taken yet: after a drop, or
        # after the renderer closed the last one itself (it may reconnect before a step asks).
        self.arrivals: asyncio.Queue[ServerConnection] = asyncio.Queue()
        self.done = asyncio.Event()

    @classmethod
    async def start(cls) -> ServerSocketChannel:
        channel = cls()
        channel.server = await serve(
            channel._handler,
            "127.0.0.1",
            0,
            subprotocols=[SUBPROTOCOL],  # type: ignore[list-item]
            max_size=_MAX_FRAME,
            ping_interval=None,
        )
        return channel

    @property
    def url(self) -> str:
        assert self.server is not None
        port = next(iter(self.server.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}/phloem/ws"

    async def _handler(self, ws: ServerConnection) -> None:
        live = self.ws is not None and self._pump is not None and not self._pump.done()
        if live or not self.arrivals.empty():  # one connection at a time
            await ws.close(1008, "one connection per case")
            return
        self.arrivals.put_nowait(ws)
        await self.done.wait()

    async def reconnect(self, timeout: float) -> None:
        """Drop the renderer's connection (unless it closed it itself) and take the one it opens next."""
        await self._drop()
        if not await self.wait_connected(timeout):
            raise TimeoutError(f"renderer did not reconnect within {timeout:g} s")

    async def wait_connected(self, timeout: float) -> bool:
        if self.ws is not None:
            return True
        try:
            ws = await asyncio.wait_for(self.arrivals.get(), timeout)
        except TimeoutError:
            return False
        self._attach(ws)
        return True

    @property
    def subprotocol(self) -> str | None:
        return self.ws.subprotocol if self.ws else None

    async def close(self) -> None:
        self.done.set()
        await super().close()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


@dataclass(frozen=True)
class UpgradeAnswer:
    status: int
    headers: dict[str, str]


async def probe_upgrade(
    url: str, origin: str | None, subprotocols: list[str], timeout: float, host: str | None = None
) -> UpgradeAnswer:
    """Send one WebSocket upgrade request by hand and return the HTTP status line's code.

    A raw request, so that any answer (101, 403, 400...) is observed as it is, whatever a
    WebSocket client library would make of it. The connection is closed right after.
    """
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "wss" else 80)
    ssl = parts.scheme == "wss"
    lines = [
        f"GET {parts.path or '/'}{'?' + parts.query if parts.query else ''} HTTP/1.1",
        f"Host: {host or f'{parts.hostname}:{port}'}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}",
        "Sec-WebSocket-Version: 13",
    ]
    if origin is not None:
        lines.append(f"Origin: {origin}")
    if subprotocols:
        lines.append(f"Sec-WebSocket-Protocol: {', '.join(subprotocols)}")
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(parts.hostname, port, ssl=ssl), timeout
    )
    try:
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    except asyncio.IncompleteReadError as exc:
        head = exc.partial
    finally:
        writer.transport.abort()
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    fields = status_line.split(" ", 2)
    if len(fields) < 2 or not fields[1].isdigit():
        raise OSError(f"not an HTTP answer to the upgrade: {status_line!r}")
    headers = {}
    for line in header_lines:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return UpgradeAnswer(int(fields[1]), headers)
