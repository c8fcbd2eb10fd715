"""A protocol 1.1 client with the jobs feature, over a real WebSocket, for the live job tests:
it carries a browser identity cookie (signed with the key the servers share) and collects
job messages by job id."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
from django.core import signing
from phloem_server.jobs import identity
from websockets.asyncio.client import ClientConnection, connect

OWNER_KEY = "test-owner-key-shared-by-the-servers"
BUDGET = 60.0  # seconds for anything a loaded machine must do (start Python, load an app)


def cookie(browser: str) -> str:
    """The identity cookie a browser named ``browser`` got from a page of these servers."""
    value = signing.TimestampSigner(key=OWNER_KEY, salt=identity.SALT).sign(browser)
    return f"{identity.COOKIE}={value}"


class JobClient:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.seen: list[dict[str, Any]] = []
        self.seqs: list[int] = []

    async def send(self, msg: dict[str, Any]) -> None:
        await self.ws.send(orjson.dumps(msg).decode())

    async def recv(self, timeout: float = BUDGET) -> dict[str, Any]:
        msg: dict[str, Any] = orjson.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        self.seen.append(msg)
        if "seq" in msg:
            self.seqs.append(msg["seq"])
            await self.send({"type": "ack", "seq": msg["seq"]})
        return msg

    async def hello(self) -> dict[str, Any]:
        await self.send({"type": "hello", "versions": ["1.1"], "features": ["jobs"], "path": "/"})
        welcome = await self.recv()
        assert welcome["type"] == "welcome", welcome
        assert "jobs" in welcome.get("features", []), welcome
        return welcome

    async def start(self, name: str, params: dict[str, Any]) -> str:
        """Start a job through the page's input; its id (from its first job.state)."""
        event_id = next(self.ids)
        value = f"{name} {json.dumps(params)}"
        await self.send(
            {"type": "event", "id": event_id, "node": "start", "name": "change", "value": value}
        )
        queued = await self.until(lambda m: m["type"] == "job.state" and m["state"] == "queued")
        return str(queued["job"])

    async def cancel(self, job: str) -> dict[str, Any]:
        event_id = next(self.ids)
        await self.send({"type": "job.cancel", "id": event_id, "job": job})
        return await self.until(lambda m: m.get("event") == event_id)

    async def until(
        self, match: Callable[[dict[str, Any]], bool], budget: float = BUDGET
    ) -> dict[str, Any]:
        """The first message (already seen, or to come) that matches."""
        for msg in self.seen:
            if match(msg):
                self.seen.remove(msg)
                return msg
        deadline = time.monotonic() + budget
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no matching message within {budget} s: {self.seen}")
            msg = await self.recv(left)
            if match(msg):
                self.seen.remove(msg)
                return msg

    async def state(self, job: str, state: str, budget: float = BUDGET) -> dict[str, Any]:
        return await self.until(
            lambda m: m["type"] == "job.state" and m["job"] == job and m["state"] == state, budget
        )


def job_message(kind: str, job: str, **fields: Any) -> Callable[[dict[str, Any]], bool]:
    def match(m: dict[str, Any]) -> bool:
        if m["type"] != kind or m.get("job") != job:
            return False
        return all(m.get(k) == v for k, v in fields.items())

    return match


@contextlib.asynccontextmanager
async def job_client(url: str, browser: str | None) -> AsyncIterator[JobClient]:
    ws_url = url.replace("http://", "ws://", 1) + "/phloem/ws"
    headers = {"Cookie": cookie(browser)} if browser else {}
    async with connect(
        ws_url,
        subprotocols=["phloem.v1"],
        origin=url,
        additional_headers=headers,  # type: ignore[list-item]
    ) as ws:
        yield JobClient(ws)
