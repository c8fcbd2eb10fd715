"""A protocol client over Channels' in-memory WebsocketCommunicator (no network)."""

from __future__ import annotations

from typing import Any

import orjson
from channels.testing import WebsocketCommunicator
from phloem_server import routing

ORIGIN = [(b"host", b"127.0.0.1:8000"), (b"origin", b"http://127.0.0.1:8000")]


def communicator(headers=ORIGIN, subprotocols=("phloem.v1",)) -> WebsocketCommunicator:
    return WebsocketCommunicator(
        routing.application, "/phloem/ws", headers=list(headers), subprotocols=list(subprotocols)
    )


class Session:
    def __init__(self, comm: WebsocketCommunicator) -> None:
        self.comm = comm
        self.event_id = 0

    @classmethod
    async def open(cls, path: str = "/counter") -> tuple[Session, dict[str, Any], dict[str, Any]]:
        comm = communicator()
        connected, subprotocol = await comm.connect()
        assert connected and subprotocol == "phloem.v1"
        session = cls(comm)
        await session.send({"type": "hello", "versions": ["1.0"], "path": path})
        welcome, snapshot = await session.recv(), await session.recv()
        return session, welcome, snapshot

    async def send(self, msg: dict[str, Any]) -> None:
        await self.comm.send_to(text_data=orjson.dumps(msg).decode())

    async def send_raw(self, text: str | None = None, data: bytes | None = None) -> None:
        await self.comm.send_to(text_data=text, bytes_data=data)

    async def recv(self) -> dict[str, Any]:
        out = await self.comm.receive_output(timeout=2)
        assert out["type"] == "websocket.send", out
        return orjson.loads(out["text"])

    async def click(self, node: str) -> dict[str, Any]:
        self.event_id += 1
        await self.send({"type": "event", "id": self.event_id, "node": node, "name": "click"})
        return await self.recv()

    async def close(self) -> None:
        await self.comm.disconnect()


def find(node: dict[str, Any], type_: str) -> dict[str, Any]:
    """The first node of `type_` in a tree, depth first."""
    if node["type"] == type_:
        return node
    for child in node.get("children", ()):
        try:
            return find(child, type_)
        except LookupError:
            pass
    raise LookupError(type_)
