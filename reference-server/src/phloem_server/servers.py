"""Starting an ASGI server programmatically: Daphne or uvicorn, same limits, same ready hook."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# PHL-LIM-006: above the protocol's max_frame_bytes (64 KiB) so an oversized frame reaches the runtime,
# which answers frame_too_large, instead of the transport dropping the connection.
TRANSPORT_MAX_MESSAGE = 1024 * 1024
SERVERS = ("uvicorn", "daphne")

Ready = Callable[[int], None]  # called with the bound port once the socket listens


def import_early(server: str) -> None:
    """Daphne installs its asyncio Twisted reactor on import; it must come before anything
    else imports Twisted."""
    if server == "daphne":
        import daphne.server  # noqa: F401


def run(server: str, application: Any, host: str, port: int, ready: Ready) -> None:
    if server == "daphne":
        _run_daphne(application, host, port, ready)
    elif server == "uvicorn":
        _run_uvicorn(application, host, port, ready)
    else:
        raise ValueError(f"unknown server {server!r}; choose one of {', '.join(SERVERS)}")


def _run_daphne(application: Any, host: str, port: int, ready: Ready) -> None:
    from daphne.endpoints import build_endpoint_description_strings
    from daphne.server import Server

    def on_ready() -> None:
        # Daphne calls this after binding (the TCP listen is synchronous) and before its
        # reactor runs; connections made meanwhile wait in the listen backlog.
        if server.listening_addresses:
            ready(server.listening_addresses[0][1])

    server = Server(
        application,
        endpoints=build_endpoint_description_strings(host=host, port=port),
        websocket_max_message_size=TRANSPORT_MAX_MESSAGE,
        websocket_max_frame_size=TRANSPORT_MAX_MESSAGE,
        verbosity=0,
        ready_callable=on_ready,
    )
    server.run()


def _run_uvicorn(application: Any, host: str, port: int, ready: Ready) -> None:
    import uvicorn

    class Server(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            if self.started:
                ready(self.servers[0].sockets[0].getsockname()[1])

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
