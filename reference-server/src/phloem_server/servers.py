"""Starting an ASGI server programmatically: Daphne or uvicorn, same limits, same ready hook."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

# PHL-LIM-006: above the protocol's max_frame_bytes (64 KiB) so an oversized frame reaches the runtime,
# which answers frame_too_large, instead of the transport dropping the connection.
TRANSPORT_MAX_MESSAGE = 1024 * 1024
SERVERS = ("uvicorn", "daphne")
# How long a thread may hold the GIL while another waits for it (CPython's default is 5 ms).
# Handlers run on pool threads (`lanes`); a handler burning pure-Python CPU would otherwise keep
# the event loop waiting up to 5 ms at each of a click's three GIL hand-overs. At 1 ms other
# sessions' clicks stay a few milliseconds (bench/bench_blocking.py); threads that compete for
# the GIL switch more often, and nothing changes while only one thread wants it.
# PHLOEM_SWITCH_INTERVAL overrides it (seconds), for measuring.
SWITCH_INTERVAL = 0.001

Ready = Callable[[int], None]  # called with the bound port once the socket listens


def import_early(server: str) -> None:
    """Daphne installs its asyncio Twisted reactor on import; it must come before anything
    else imports Twisted."""
    if server == "daphne":
        import daphne.server  # noqa: F401


def run(
    server: str,
    application: Any,
    host: str,
    port: int,
    ready: Ready,
    websocket_timeout: float | None = None,
) -> None:
    """``websocket_timeout`` (Daphne only): close every WebSocket after that many seconds, as
    Daphne does after 86400 s by default; clients resume (design §5). uvicorn has no such
    timeout."""
    sys.setswitchinterval(float(os.environ.get("PHLOEM_SWITCH_INTERVAL", SWITCH_INTERVAL)))
    if server == "daphne":
        _run_daphne(application, host, port, ready, websocket_timeout)
    elif server == "uvicorn":
        _run_uvicorn(application, host, port, ready)
    else:
        raise ValueError(f"unknown server {server!r}; choose one of {', '.join(SERVERS)}")


def _run_daphne(
    application: Any, host: str, port: int, ready: Ready, websocket_timeout: float | None
) -> None:
    import asyncio

    from daphne.endpoints import build_endpoint_description_strings
    from daphne.server import Server
    from twisted.internet import defer, reactor

    from .consumers import close_all

    def on_ready() -> None:
        # Daphne calls this after binding (the TCP listen is synchronous) and before its
        # reactor runs; connections made meanwhile wait in the listen backlog.
        server.ws_factory.protocol = _daphne_protocol()
        if server.listening_addresses:
            ready(server.listening_addresses[0][1])

    server = Server(
        application,
        endpoints=build_endpoint_description_strings(host=host, port=port),
        websocket_max_message_size=TRANSPORT_MAX_MESSAGE,
        websocket_max_frame_size=TRANSPORT_MAX_MESSAGE,
        verbosity=0,
        ready_callable=on_ready,
        **({} if websocket_timeout is None else {"websocket_timeout": websocket_timeout}),
    )

    async def going_away() -> None:
        await close_all()
        # Twisted drops connections at shutdown without flushing what they buffered; give
        # the close frames a moment to leave (uvicorn's shutdown waits 0.1 s alike).
        await asyncio.sleep(0.1)

    # Added before Daphne's own trigger, so the closes go out before it cancels consumers.
    reactor.addSystemEventTrigger(
        "before",
        # Twisted types `reactor` with zope Interfaces, whose methods omit `self`: without
        # the mypy-zope plugin mypy reads every argument one place off.
        "shutdown",  # type: ignore[arg-type]
        lambda: defer.Deferred.fromFuture(asyncio.ensure_future(going_away())),
    )
    server.run()


def _daphne_protocol() -> type:
    from daphne.ws_protocol import WebSocketProtocol

    class Protocol(WebSocketProtocol):  # type: ignore[misc]
        def serverClose(self, code: int | None = None) -> None:
            # Autobahn's sendClose refuses 1001 and 1011 (it allows 1000 and 3000-4999 only),
            # yet RFC 6455 §7.4.1 gives servers both and the protocol uses them
            # (PHL-TRANSPORT-007): send the close frame directly.
            if code in (1001, 1011):
                self.sendCloseFrame(code=code, isReply=False)
            else:
                super().serverClose(code)

    return Protocol


def _run_uvicorn(application: Any, host: str, port: int, ready: Ready) -> None:
    import uvicorn

    from .consumers import close_all

    class Server(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            if self.started:
                ready(self.servers[0].sockets[0].getsockname()[1])

        async def shutdown(self, sockets: Any = None) -> None:
            await close_all()
            await super().shutdown(sockets)

    config = uvicorn.Config(
        application,
        host=host,
        port=port,
        ws="websockets-sansio",
        ws_max_size=TRANSPORT_MAX_MESSAGE,
        # Frames are a few hundred bytes: compressing each costs more CPU than it saves
        # on loopback or a LAN, and Daphne does not negotiate it either.
        ws_per_message_deflate=False,
        lifespan="off",
        access_log=False,
        log_level="warning",
        server_header=False,
    )
    Server(config).run()
