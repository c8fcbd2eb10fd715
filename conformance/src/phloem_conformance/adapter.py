"""The stdio side of the adapter protocol: one JSON object per line each way (adapter_protocol 1)."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import signal
import sys
from typing import Any

from . import ADAPTER_PROTOCOL

_LINE_LIMIT = 64 * 1024 * 1024  # a reply may carry many large frames
# The commands an adapter may lack; its hello reply's ``supports`` lists those it has. The
# runner asks for no other optional command (harnesses.py), so a case needing one is N/A.
OPTIONAL_COMMANDS = frozenset({"control", "connect", "login", "audit"})


class AdapterError(Exception):
    """The adapter crashed, timed out, replied with garbage or with ``ok: false``."""


class Adapter:
    def __init__(self, command: str, *, verbose: bool = False, timeout_factor: float = 1.0) -> None:
        self.command = command
        # Sent in hello: the adapter scales its own budgets (a browser action's) by it.
        self.timeout_factor = timeout_factor
        self.verbose = verbose
        self.process: asyncio.subprocess.Process | None = None
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=40)
        self._stderr_task: asyncio.Task[None] | None = None
        self.hello: dict[str, Any] = {}

    async def start(self) -> dict[str, Any]:
        """Start the process and exchange ``hello``; returns the adapter's hello reply."""
        self.process = await asyncio.create_subprocess_shell(
            self.command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            limit=_LINE_LIMIT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            # Its own process group, so stopping it also stops what the shell started.
            start_new_session=True,
        )
        self._stderr_task = asyncio.create_task(self._drain_stderr())
        hello = {
            "cmd": "hello",
            "adapter_protocol": ADAPTER_PROTOCOL,
            "timeout_factor": self.timeout_factor,
        }
        self.hello = await self.request(hello, 60 * self.timeout_factor)
        return self.hello

    async def _drain_stderr(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        async for raw in self.process.stderr:
            line = raw.decode(errors="replace").rstrip()
            self.stderr_tail.append(line)
            if self.verbose:
                print(f"[adapter] {line}", file=sys.stderr)

    async def request(self, command: dict[str, Any], timeout: float) -> dict[str, Any]:
        """The reply to ``command``; an ``ok: false`` reply raises :class:`AdapterError`."""
        reply = await self.exchange(command, timeout)
        if reply.get("ok") is not True:
            raise AdapterError(f"adapter refused {command['cmd']!r}: {reply.get('error')}")
        return reply

    async def exchange(self, command: dict[str, Any], timeout: float) -> dict[str, Any]:
        """The reply to ``command`` (a JSON object), ``ok: false`` included; raises
        :class:`AdapterError` only when the adapter crashed, timed out or wrote garbage."""
        if self.process is None or self.process.returncode is not None:
            raise AdapterError("adapter is not running")
        assert self.process.stdin is not None and self.process.stdout is not None
        try:
            self.process.stdin.write(json.dumps(command).encode() + b"\n")
            await self.process.stdin.drain()
            raw = await asyncio.wait_for(self.process.stdout.readline(), timeout)
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise AdapterError(f"adapter exited ({exc}){self._tail()}") from None
        except TimeoutError:
            raise AdapterError(
                f"adapter did not answer {command['cmd']!r} within {timeout:.0f} s{self._tail()}"
            ) from None
        if not raw:
            await asyncio.sleep(0)  # let the exit status arrive
            raise AdapterError(f"adapter exited (status {self.process.returncode}){self._tail()}")
        try:
            reply = json.loads(raw)
        except ValueError:
            raise AdapterError(f"adapter wrote a line that is not JSON: {raw[:200]!r}") from None
        if not isinstance(reply, dict):
            raise AdapterError(f"adapter refused {command['cmd']!r}: {reply}")
        return reply

    def _tail(self) -> str:
        return ("\nadapter stderr:\n" + "\n".join(self.stderr_tail)) if self.stderr_tail else ""

    async def stop(self) -> None:
        """``bye``, then end of input; the process group is killed if it does not exit."""
        process = self.process
        if process is None:
            return
        if process.returncode is None:
            with contextlib.suppress(AdapterError):
                await self.request({"cmd": "bye"}, 10)
            if process.stdin is not None:
                process.stdin.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), 10)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)  # leftovers of the adapter's own children
        await process.wait()
        if self._stderr_task is not None:
            try:
                await asyncio.wait_for(asyncio.gather(self._stderr_task, return_exceptions=True), 5)
            except TimeoutError:
                self._stderr_task.cancel()
