"""A fake renderer adapter for testing the runner's renderer target (no browser).

    python fake_renderer.py [--bug apply-stale] [--bug no-fallback]

It connects to the runner's WebSocket, keeps a tree with the suite's own reducer, and projects
it the way the spec's component table says; when the connection drops it reconnects and
resumes. Bugs make it deliberately wrong (``no-resume``: reconnects without hello.resume).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import threading
from typing import Any

from phloem_conformance.tree import PatchError, Tree
from websockets.asyncio.client import connect

KNOWN = {"Column", "Text", "Button"}


def project(node: dict[str, Any], bugs: set[str]) -> dict[str, Any]:
    kind, props = node["type"], node.get("props", {})
    out: dict[str, Any] = {"id": node["id"], "type": kind}

    def text(name: str) -> str:  # a prop that fails the schema reads as absent (PHL-COMP-004)
        value = props.get(name)
        return value if isinstance(value, str) else ""

    if kind == "Column":
        out["role"] = "group"
    elif kind == "Text":
        out.update(role="text", text=text("text"))
    elif kind == "Button":
        out.update(role="button", name=text("label"), enabled=props.get("disabled") is not True)
    elif "no-fallback" not in bugs:
        out.update(role="group", fallback=True, text=f"Unsupported component: {kind}")
    out["children"] = [project(c, bugs) for c in node.get("children", [])]
    return out


def find(node: dict[str, Any] | None, node_id: str) -> dict[str, Any] | None:
    if node is None or node["id"] == node_id:
        return node
    return next((f for c in node["children"] if (f := find(c, node_id)) is not None), None)


class Renderer:
    def __init__(self, bugs: set[str]) -> None:
        self.bugs = bugs
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.ws: Any = None
        self.tree = Tree()
        self.event_id = 0
        self.reader: Any = None
        self.url = ""
        self.token: str | None = None
        self.last_seq = 0
        self.closing = False
        self.resync_pending = False
        self.unanswered: dict[int, dict[str, Any]] = {}  # resent after a resume (PHL-DELIV-009)

    def call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    async def open(self, url: str) -> None:
        self.tree, self.event_id, self.url, self.token, self.last_seq = Tree(), 0, url, None, 0
        self.closing, self.resync_pending, self.unanswered = False, False, {}
        await self.connect()

    async def connect(self) -> None:
        self.ws = await connect(self.url, subprotocols=["phloem.v1"], ping_interval=None,  # type: ignore[list-item]
                                max_size=2**25)  # PHL-LIM-007: 16 MiB frames
        self.welcomed = False
        hello: dict[str, Any] = {"type": "hello", "versions": ["1.0"], "components": dict.fromkeys(KNOWN, 1)}
        if self.token is not None and "no-resume" not in self.bugs:
            hello["resume"] = {"token": self.token, "seq": self.last_seq}
        await self.ws.send(json.dumps(hello))
        self.reader = asyncio.ensure_future(self.read(self.ws))

    async def read(self, ws: Any) -> None:
        with contextlib.suppress(Exception):  # a dropped connection
            await self.read_frames(ws)
        if not self.closing and ws.close_code in (None, 1001, 1006, 1011):
            await asyncio.sleep(0.05)
            await self.connect()

    async def read_frames(self, ws: Any) -> None:
        async for frame in ws:
            m = json.loads(frame)
            if m["type"] == "welcome":
                if m.get("version") != "1.0":  # not offered (PHL-HS-015)
                    self.closing = True
                    await ws.close(4002)
                    return
                resumed = m.get("resumed") is True and self.token is not None
                self.token = m["token"]
                if not resumed:  # a new session (PHL-DELIV-010)
                    self.tree, self.resync_pending, self.unanswered = Tree(), False, {}
                self.last_seq, self.welcomed = m["seq"] - 1, True
                for event in self.unanswered.values():
                    await ws.send(json.dumps(event))
            if "seq" in m:
                if m["seq"] != self.last_seq + 1:  # a gap (PHL-DELIV-013)
                    self.closing = True
                    await ws.close(4002)
                    return
                self.last_seq = m["seq"]
            if isinstance(m.get("event"), int):
                self.unanswered.pop(m["event"], None)
            if m["type"] == "ui.snapshot":
                self.tree.snapshot(m["root"], m["rev"])
                self.resync_pending = False
            elif m["type"] == "ui.patch" and not self.resync_pending:  # PHL-PATCH-014
                if "apply-stale" in self.bugs:
                    m = {**m, "base": self.tree.rev}
                try:
                    self.tree.apply(m)
                except PatchError:
                    self.resync_pending = True
                    await ws.send(json.dumps({"type": "resync", "rev": self.tree.rev}))
            elif m["type"] == "ping":
                await ws.send(json.dumps({"type": "pong", **({"id": m["id"]} if "id" in m else {})}))
            if "seq" in m:
                await ws.send(json.dumps({"type": "ack", "seq": m["seq"]}))

    async def click(self, node: str) -> None:
        target = find(self.tree.root, node)
        if target is None or target["type"] != "Button" or target["props"].get("disabled") is True:
            return  # only an enabled Button has a click (PHL-EVT-003, PHL-COMP-013)
        self.event_id += 1
        event = {"type": "event", "id": self.event_id, "node": node, "name": "click", "rev": self.tree.rev}
        self.unanswered[self.event_id] = event
        await self.ws.send(json.dumps(event))

    async def close(self) -> None:
        self.closing = True
        if self.ws is not None:
            await self.ws.close()
            self.ws = None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bug", action="append", default=[])
    bugs = set(parser.parse_args().bug)
    renderer = Renderer(bugs)
    for line in sys.stdin:
        cmd = json.loads(line)
        reply: dict[str, Any] = {"ok": True}
        if cmd["cmd"] == "hello":
            reply.update(role="renderer", fixtures=[],
                         implementation={"name": "fake-renderer", "version": "0", "language": "python"})
        elif cmd["cmd"] == "open":
            renderer.call(renderer.open(cmd["url"]))
        elif cmd["cmd"] == "act":
            renderer.call(renderer.click(cmd["action"]["click"]))
        elif cmd["cmd"] == "snapshot":
            root = renderer.tree.root
            reply["tree"] = None if root is None else project(root, bugs)
        elif cmd["cmd"] == "close":
            renderer.call(renderer.close())
        print(json.dumps(reply), flush=True)
        if cmd["cmd"] == "bye":
            return


if __name__ == "__main__":
    main()
