"""`phloem run` as a subprocess on a free loopback port, for tests that need a real server."""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

READY = re.compile(r"Phloem: serving (?P<title>.+) at (?P<url>http://\S+)")


@dataclass(frozen=True)
class Running:
    url: str  # http://127.0.0.1:PORT
    pid: int
    title: str

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1) + "/phloem/ws"


@contextmanager
def phloem_run(
    app: Path,
    data_dir: Path,
    server: str | None = None,
    timeout: float = 30,
    args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    reload_flags: bool = True,
) -> Iterator[Running]:
    """Yields the running server once it listens. ``args`` go to `phloem run`, ``env`` over
    this process's environment; ``reload_flags=False`` for a `phloem run` older than reload on
    save (bench_blocking's ``--before`` commit), which knows no ``--no-reload``."""
    # Tests and benchmarks judge production behaviour: no file watcher, no tracebacks shown,
    # unless a test asks for development mode with --reload.
    mode = () if "--reload" in args or not reload_flags else ("--no-reload",)
    cmd = [sys.executable, "-m", "phloem_server.cli", "run", str(app), "--port", "0", *mode, *args]
    if server:
        cmd += ["--server", server]
    env = {**os.environ, "PHLOEM_DATA_DIR": str(data_dir), **(env or {})}
    env.pop("DJANGO_SETTINGS_MODULE", None)  # the embedded settings, not the tests'
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stderr: list[str] = []
    reader = threading.Thread(target=_drain, args=(proc.stderr, stderr), daemon=True)
    reader.start()
    try:
        title, url = _wait_ready(proc, timeout, stderr)
        yield Running(url, proc.pid, title)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        # The server's job workers may hold its stderr a moment longer: wait for the reader
        # briefly, then close; a read cut short by the close is expected (_drain).
        reader.join(5)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()


def _drain(pipe: IO[str] | None, sink: list[str]) -> None:
    """Collect the server's stderr (for the error message of a failed start)."""
    if pipe is None:
        return
    # Closed by phloem_run's cleanup while the server's job workers still held it open.
    with contextlib.suppress(ValueError):
        sink.extend(pipe)


def _wait_ready(proc: subprocess.Popen[str], timeout: float, stderr: list[str]) -> tuple[str, str]:
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    lines: list[str] = []
    # readline blocks; the server prints its ready line promptly or exits, so a reader
    # thread with a deadline is enough.
    found: list[tuple[str, str]] = []

    def read() -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            lines.append(line)
            match = READY.search(line)
            if match:
                found.append((match["title"], match["url"]))
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(max(0.0, deadline - time.monotonic()))
    if not found:
        proc.kill()
        raise RuntimeError(
            f"`phloem run` did not report listening within {timeout} s "
            f"(exit {proc.poll()}).\nstdout:\n{''.join(lines)}\nstderr:\n{''.join(stderr)}"
        )
    return found[0]


class TcpProxy:
    """A loopback TCP proxy whose "network" can be cut: :meth:`down` resets every proxied
    connection (RST: no WebSocket close frame, no FIN) and resets new ones until :meth:`up`.
    It drops a browser's WebSocket without the browser's cooperation. One thread owns every
    socket (a selector loop), so a reset is a real close, not one deferred by a blocked recv."""

    def __init__(self, upstream_port: int) -> None:
        self._upstream = ("127.0.0.1", upstream_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.setblocking(False)
        self.port: int = self._listener.getsockname()[1]
        self._want_down = False
        self._stop = False
        self._cut = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def down(self) -> None:
        """Reset every connection; returns once they are reset."""
        self._cut.clear()
        self._want_down = True
        self._cut.wait(5)

    def up(self) -> None:
        self._want_down = False

    def close(self) -> None:
        self._stop = True
        self._thread.join(5)
        self._listener.close()

    @staticmethod
    def _reset(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()

    def _loop(self) -> None:
        sel = selectors.DefaultSelector()
        sel.register(self._listener, selectors.EVENT_READ)
        peers: dict[socket.socket, socket.socket] = {}

        def drop(sock: socket.socket, reset: bool) -> None:
            for s in (sock, peers.pop(sock, None)):
                if s is None or s.fileno() < 0:
                    continue
                peers.pop(s, None)
                sel.unregister(s)
                if reset:
                    self._reset(s)
                else:
                    with contextlib.suppress(OSError):
                        s.shutdown(socket.SHUT_RDWR)
                    s.close()

        while not self._stop:
            if self._want_down and peers:
                for sock in list(peers):
                    if sock in peers:
                        drop(sock, reset=True)
            if self._want_down:
                self._cut.set()
            for key, _ in sel.select(0.01):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                if sock is self._listener:
                    try:
                        client, _ = sock.accept()
                    except OSError:
                        continue
                    if self._want_down:
                        self._reset(client)
                        continue
                    try:
                        upstream = socket.create_connection(self._upstream, timeout=5)
                    except OSError:
                        self._reset(client)
                        continue
                    for s in (client, upstream):
                        s.setblocking(False)
                        sel.register(s, selectors.EVENT_READ)
                    peers[client], peers[upstream] = upstream, client
                    continue
                if sock not in peers:
                    continue
                try:
                    data = sock.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    drop(sock, reset=False)
                    continue
                peer = peers[sock]
                peer.setblocking(True)  # loopback: a short blocking send is fine here
                try:
                    peer.sendall(data)
                except OSError:
                    drop(sock, reset=True)
                    continue
                peer.setblocking(False)
        for sock in list(peers):
            if sock in peers:
                drop(sock, reset=True)
        sel.close()
