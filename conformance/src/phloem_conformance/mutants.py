"""A frame-mutating proxy adapter: the suite tests itself by breaking a real implementation.

    python -m phloem_conformance.mutants --mutant NAME -- <real adapter command>

The proxy speaks adapter_protocol 1 on stdin/stdout, starts the real adapter and forwards
every command to it, and breaks the implementation in exactly one way (``NAME``; ``none``
breaks nothing). Where it sits depends on the real adapter's role:

- sdk: it rewrites the frames in the real adapter's ``send`` replies;
- server: it answers ``open`` with the URL of a WebSocket proxy in front of the real server
  (the upgrade's Origin, subprotocols, Cookie and Authorization are passed through, and a
  refusal comes back as is)
  and mutates server frames in flight;
- renderer: it gives the renderer the URL of a WebSocket proxy in front of the runner and
  mutates what the renderer sends, and it can rewrite the renderer's snapshots.

A mutant that drops a sequenced server message renumbers the following ones, so that the
suite has to notice the missing message itself, not a gap in ``seq``. The mutants themselves
are in mutant_catalogue.py; which cases must catch each mutant is in
``conformance/mutants/expected.yaml``; ``phloem-conformance mutants`` runs them and prints the
mutation score.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shlex
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed, InvalidStatus

from .mutant_catalogue import MUTANTS, Message, Mutant, State

__all__ = ["MUTANTS", "Mutant", "Mutator", "Proxy", "State", "main"]
_PASSED_HEADERS = {"cookie", "authorization"}  # credentials of the upgrade, passed upstream


class Mutator:
    """Applies one mutant to each direction, keeping seq consistent after drops."""

    def __init__(self, mutant: Mutant) -> None:
        self.mutant = mutant
        self.state = State()
        self.lock = threading.Lock()

    def reset(self) -> None:
        with self.lock:
            self.state = State()

    def server_text(self, text: str) -> list[str]:
        message = _parse(text)
        if message is None:
            return [text]
        with self.lock:
            if message.get("type") == "welcome" and message.get("resumed") is not True:
                self.state.shift = 0  # a new session numbers from 1 again
            if message.get("type") == "ui.snapshot":
                self.state.node_ids = _ids(message.get("root"))
            if self.mutant.s2c is None:
                return [text]
            out = self.mutant.s2c(message, self.state)
            if not out and isinstance(message.get("seq"), int):
                self.state.shift += 1
            if out == [message] and not self.state.shift:
                return [text]
            renumbered = []
            for item in out:
                if isinstance(item.get("seq"), int) and self.state.shift:
                    item = {**item, "seq": item["seq"] - self.state.shift}
                renumbered.append(json.dumps(item, ensure_ascii=False))
            return renumbered

    def client_text(self, text: str) -> list[str]:
        message = _parse(text)
        if message is None or self.mutant.c2s is None:
            return [text]
        with self.lock:
            out = self.mutant.c2s(message, self.state)
        return [text] if out == [message] else [json.dumps(m, ensure_ascii=False) for m in out]

    def tree(self, tree: Any) -> Any:
        if self.mutant.tree is None or tree is None:
            return tree
        with self.lock:
            return self.mutant.tree(tree, self.state)


def _parse(text: str) -> Message | None:
    try:
        message = json.loads(text)
    except ValueError:
        return None
    return message if isinstance(message, dict) else None


def _ids(node: Any) -> list[str]:
    if not isinstance(node, dict):
        return []
    out = [node["id"]] if isinstance(node.get("id"), str) else []
    for child in node.get("children") or []:
        out += _ids(child)
    return out


# ---- WebSocket proxy (server and renderer roles) ------------------------------------------


class WsPipe:
    """A WebSocket server that forwards each connection to ``upstream``, mutating frames.

    The upstream is always the server side (the real server, or the runner playing the server
    for a renderer), so frames from it are server messages and frames to it client messages.
    """

    def __init__(self, upstream: str, mutator: Mutator) -> None:
        self.upstream = upstream
        self.mutator = mutator
        self.server: Server | None = None
        self.pending: dict[int, ClientConnection] = {}

    async def start(self) -> None:
        self.server = await serve(
            self._handler,
            "127.0.0.1",
            0,
            process_request=self._process_request,
            select_subprotocol=self._select_subprotocol,
            max_size=None,
            ping_interval=None,
        )

    @property
    def url(self) -> str:
        assert self.server is not None
        port = next(iter(self.server.sockets)).getsockname()[1]
        parts = urlsplit(self.upstream)
        return f"ws://127.0.0.1:{port}{parts.path}{'?' + parts.query if parts.query else ''}"

    async def _process_request(self, connection: ServerConnection, request: Any) -> Any:
        offered = [
            p.strip()
            for h in request.headers.get_all("Sec-WebSocket-Protocol")
            for p in h.split(",")
            if p.strip()
        ]
        # Credentials too: a case's `connect: {user}` signs in with the adapter's login headers.
        passed = {k: v for k, v in request.headers.raw_items() if k.lower() in _PASSED_HEADERS}
        try:
            upstream = await connect(
                self.upstream,
                subprotocols=offered or None,
                origin=request.headers.get("Origin"),
                additional_headers=passed or None,
                max_size=None,
                ping_interval=None,
                open_timeout=10,
            )
        except InvalidStatus as exc:  # the upstream refused the upgrade: refuse it the same way
            return connection.respond(exc.response.status_code, "refused upstream\n")
        except Exception as exc:  # anything else: a bad gateway
            return connection.respond(502, f"upstream: {exc}\n")
        self.pending[id(connection)] = upstream
        return None

    def _select_subprotocol(self, connection: ServerConnection, offered: Any) -> Any:
        upstream = self.pending.get(id(connection))
        return upstream.subprotocol if upstream is not None else None

    async def _handler(self, downstream: ServerConnection) -> None:
        upstream = self.pending.pop(id(downstream))
        to_client = asyncio.create_task(self._pump(upstream, downstream, self.mutator.server_text))
        to_server = asyncio.create_task(self._pump(downstream, upstream, self.mutator.client_text))
        await asyncio.wait([to_client, to_server], return_when=asyncio.FIRST_COMPLETED)
        for task in (to_client, to_server):
            task.cancel()
        await asyncio.gather(to_client, to_server, return_exceptions=True)
        for ws in (upstream, downstream):
            _abort(ws)

    async def _pump(self, source: Any, sink: Any, mutate: Callable[[str], list[str]]) -> None:
        try:
            async for frame in source:
                for out in mutate(frame) if isinstance(frame, str) else [frame]:
                    await sink.send(out)
        except ConnectionClosed:
            pass
        # The source closed: pass the close on as it came (a dropped connection stays dropped).
        code = source.close_code
        with contextlib.suppress(ConnectionClosed):
            if code is None or code in (1005, 1006, 1015):
                _abort(sink)
            else:
                await sink.close(code, source.close_reason or "")

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


def _abort(ws: Any) -> None:
    with contextlib.suppress(Exception):
        ws.transport.abort()


class Loop:
    """An asyncio loop in a thread for the WebSocket proxies; stdio stays synchronous."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()

    def run(self, coro: Any, timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)


# ---- the proxy adapter ----------------------------------------------------------------------


class Proxy:
    def __init__(self, mutant: Mutant, command: str) -> None:
        self.mutator = Mutator(mutant)
        self.child = subprocess.Popen(
            command, shell=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )
        self.role: str | None = None
        self.loop: Loop | None = None
        self.pipes: dict[str, WsPipe] = {}  # server role: one per upstream URL, kept across cases
        self.case_pipe: WsPipe | None = None  # renderer role: one per case

    def forward(self, command: dict[str, Any]) -> dict[str, Any]:
        assert self.child.stdin is not None and self.child.stdout is not None
        self.child.stdin.write(json.dumps(command) + "\n")
        self.child.stdin.flush()
        line = self.child.stdout.readline()
        if not line:
            raise RuntimeError(f"the real adapter exited (status {self.child.wait()})")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def pipe(self, upstream: str) -> WsPipe:
        if self.loop is None:
            self.loop = Loop()
        pipe = WsPipe(upstream, self.mutator)
        self.loop.run(pipe.start())
        return pipe

    def handle(self, command: dict[str, Any]) -> dict[str, Any]:
        name = command.get("cmd")
        if name == "open":
            self.mutator.reset()
            if self.role == "renderer":
                self.case_pipe = self.pipe(command["url"])
                return self.forward({**command, "url": self.case_pipe.url})
            reply = self.forward(command)
            if self.role == "server" and reply.get("ok") and "url" in reply:
                if reply["url"] not in self.pipes:
                    self.pipes[reply["url"]] = self.pipe(reply["url"])
                reply = {**reply, "url": self.pipes[reply["url"]].url}
            return reply
        if name == "send" and self.role == "sdk" and "frame" in command:
            frames = self.mutator.client_text(command["frame"])
            if not frames:  # the frame is lost on its way: nothing comes back
                return {"ok": True, "frames": [], "close": None}
            command = {**command, "frame": frames[0]}
        reply = self.forward(command)
        if name == "hello":
            self.role = reply.get("role")
            if reply.get("ok") and isinstance(reply.get("implementation"), dict):
                impl = reply["implementation"]
                reply["implementation"] = {
                    **impl,
                    "name": f"{impl.get('name', '?')} [mutant {self.mutator.mutant.name}]",
                }
        elif name in ("send", "control") and reply.get("ok") and "frames" in reply:
            # A control reply carries what the SDK sent meanwhile (a fixture job's messages).
            reply["frames"] = [
                out for frame in reply.get("frames", []) for out in self.mutator.server_text(frame)
            ]
        elif name == "snapshot" and reply.get("ok"):
            reply["tree"] = self.mutator.tree(reply.get("tree"))
        elif name == "close" and self.case_pipe is not None:
            assert self.loop is not None
            self.loop.run(self.case_pipe.close())
            self.case_pipe = None
        return reply

    def shutdown(self) -> None:
        if self.loop is not None:
            for pipe in [*self.pipes.values(), *([self.case_pipe] if self.case_pipe else [])]:
                with contextlib.suppress(Exception):
                    self.loop.run(pipe.close(), 5)
        if self.child.stdin is not None:
            with contextlib.suppress(OSError):
                self.child.stdin.close()
        try:
            self.child.wait(10)
        except subprocess.TimeoutExpired:
            self.child.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m phloem_conformance.mutants", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--mutant", required=True, choices=sorted(MUTANTS))
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- the real adapter command")
    args = parser.parse_args(argv)
    words = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not words:
        parser.error("give the real adapter command after --")
    command = words[0] if len(words) == 1 else shlex.join(words)
    proxy = Proxy(MUTANTS[args.mutant], command)
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            command_in: dict[str, Any] = {}
            try:
                command_in = json.loads(line)
                reply = proxy.handle(command_in)
            except Exception as exc:  # every command gets exactly one reply
                reply = {"ok": False, "error": f"mutant proxy: {type(exc).__name__}: {exc}"}
            sys.stdout.write(json.dumps(reply) + "\n")
            sys.stdout.flush()
            if command_in.get("cmd") == "bye":
                return 0
    finally:
        proxy.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
