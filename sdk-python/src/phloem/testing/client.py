"""Test an app without a browser: ``TestClient(app).click("inc")``.

The client speaks the real protocol to a real :class:`~phloem.runtime.Hub` in memory, keeps the
tree up to date by applying patches as a renderer would, and raises the app's own exception
when a handler fails, so a failing test shows the app's traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import count
from typing import Any

import orjson

from phloem.app.app import App
from phloem.jobs.inline import InlineBackend
from phloem.jobs.model import JobUpdate
from phloem.protocol.errors import PhloemError
from phloem.protocol.tree import Node, apply
from phloem.runtime.hub import Hub
from phloem.runtime.limits import Limits
from phloem.ui.state import UI

_TICK = 0.05  # seconds of fake time per message: 20 events/s stays under the rate limit


class ServerError(PhloemError):
    """The server answered with a coded ``error`` message."""

    def __init__(self, message: dict[str, Any]) -> None:
        super().__init__(f"{message['code']}: {message['message']}")
        self.code: str = message["code"]
        self.message = message


class TestClient:
    __test__ = False  # a helper, not a pytest test class

    def __init__(
        self,
        app: App,
        path: str = "/",
        *,
        limits: Limits | None = None,
        user: str | None = None,
        owner: str | None = None,
    ) -> None:
        """``user``: the signed-in user's name (``ui.user``); ``None`` is anonymous. ``owner``:
        who the session's jobs belong to (default the user, else the session).

        Jobs run only when the test says so: :meth:`run_jobs` runs the queued ones in this
        thread with this client's fake clock, so a job test is deterministic."""
        tokens = count(1)
        job_ids = count(1)
        self.hub = Hub(
            app,
            limits,
            lambda: f"test-token-{next(tokens):08d}",
            self._app_failed,
            new_job_id=lambda: f"job-{next(job_ids)}",
        )
        self.now = 0.0
        self._updates: list[JobUpdate] = []
        self.backend = InlineBackend(app.jobs, lambda u: self._updates.append(u), lambda: self.now)
        self.jobs: dict[str, dict[str, Any]] = {}  # what the client knows of each job
        self.connection = self.hub.connect(self.now, user=user, owner=owner)
        self.messages: list[dict[str, Any]] = []  # every server message, in order
        self.rev = 0
        self._tree: Node | None = None
        self._event_ids = count(1)
        self._app_error: BaseException | None = None
        hello = {"type": "hello", "versions": ["1.1", "1.0"], "features": ["jobs"], "path": path}
        replies = self.send(hello)
        if self._app_error is not None:  # the page failed to render: show the app's traceback
            raise self._app_error
        if replies and replies[0]["type"] == "error":  # e.g. unauthorized
            raise ServerError(replies[0])
        self.session: str = replies[0]["session"]

    # --- queries ---------------------------------------------------------------------------

    @property
    def tree(self) -> Node:
        if self._tree is None:
            raise ServerError({"code": "internal_error", "message": "no tree received"})
        return self._tree

    def find(self, node_id: str) -> Node:
        node = self.tree.find(node_id)
        if node is None:
            raise KeyError(f"no node {node_id!r} on the page")
        return node

    def text(self, node_id: str) -> str:
        """What the node shows: a Text's text, a Button's label."""
        node = self.find(node_id)
        for prop in ("text", "label"):
            if prop in node.props:
                return str(node.props[prop])
        raise KeyError(f"node {node_id!r} ({node.type}) shows no text")

    # --- actions ---------------------------------------------------------------------------

    def click(self, node_id: str) -> dict[str, Any]:
        return self.event(node_id, "click")

    def type(self, node_id: str, text: str) -> dict[str, Any]:
        """The user changes a TextInput's text to ``text``."""
        return self.event(node_id, "change", text)

    def post(self, fn: Callable[[UI], object]) -> list[dict[str, Any]]:
        """A server-initiated update of this session (:meth:`Hub.post`); the messages it sent,
        applied to :attr:`tree`."""
        self.now += _TICK
        out = self.hub.post(self.session, fn, self.now)
        replies = [orjson.loads(f) for f in out.frames]
        for reply in replies:
            self._receive(reply)
        self._pump()
        return replies

    # --- jobs --------------------------------------------------------------------------------

    def run_jobs(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Run the queued jobs (at most ``limit``) to their end, here and now; the messages
        the session got meanwhile, applied to :attr:`tree` and :attr:`jobs`."""
        self._pump()
        self.backend.run(limit)
        return self._deliver()

    def advance(self, seconds: float) -> list[dict[str, Any]]:
        """Move the fake clock on; the messages that came due (held progress, a cancel's
        deadline)."""
        self.now += seconds
        self.hub.jobs.poll(self.now)
        return self._deliver()

    def cancel_job(self, job_id: str) -> dict[str, Any]:
        """The user cancels a job: ``job.cancel``; the answer (an ack), or
        :class:`ServerError` (``unknown_job``)."""
        msg = {"type": "job.cancel", "id": next(self._event_ids), "job": job_id}
        replies = self.send(msg)
        answer = next(r for r in replies if r.get("event") == msg["id"])
        if answer["type"] == "error":
            raise ServerError(answer)
        return answer

    def _pump(self) -> None:
        for command in self.hub.jobs.commands():
            command.run(self.backend)
        updates, self._updates = self._updates, []
        for update in updates:
            self.hub.jobs.apply(update, self.now)

    def _deliver(self) -> list[dict[str, Any]]:
        self._pump()
        replies = [orjson.loads(f) for f in self.connection.drain().frames]
        for reply in replies:
            self._receive(reply)
        return replies

    def event(self, node_id: str, name: str, value: Any = None) -> dict[str, Any]:
        """Send an event; the server's answer (a patch or an ack). A coded error is raised as
        :class:`ServerError`; a failing handler re-raises the app's exception."""
        msg: dict[str, Any] = {"type": "event", "id": next(self._event_ids), "node": node_id}
        msg.update(name=name, rev=self.rev)
        if value is not None:
            msg["value"] = value
        replies = self.send(msg)
        if self._app_error is not None:
            error, self._app_error = self._app_error, None
            raise error
        # The answer names the event; job messages it caused may follow it.
        reply = next((r for r in replies if r.get("event") == msg["id"]), replies[-1])
        if reply["type"] == "error":
            raise ServerError(reply)
        return reply

    def send(self, msg: dict[str, Any] | str | bytes) -> list[dict[str, Any]]:
        """Send one raw message and return the server's replies, applied to :attr:`tree`."""
        self.now += _TICK
        frame = msg if isinstance(msg, (str, bytes)) else orjson.dumps(msg).decode()
        out = self.connection.receive(frame, self.now)
        replies = [orjson.loads(f) for f in out.frames]
        for reply in replies:
            self._receive(reply)
        self._pump()  # jobs the handler started are queued on the backend (not run)
        return replies

    def _receive(self, msg: dict[str, Any]) -> None:
        self.messages.append(msg)
        if msg["type"].startswith("job."):
            job = self.jobs.setdefault(msg["job"], {"lines": []})
            if msg["type"] == "job.log":  # an offset makes a re-sent tail land once
                job["lines"][msg["offset"] :] = msg["lines"]
            else:
                job.update({k: v for k, v in msg.items() if k not in ("type", "seq", "job")})
                job.update(msg.get("progress", {}))
        if msg["type"] == "ui.snapshot":
            self._tree, self.rev = Node.from_wire(msg["root"]), msg["rev"]
        elif msg["type"] == "ui.patch":
            if self._tree is None or msg["base"] != self.rev:
                self.send({"type": "resync", "rev": self.rev})  # PHL-PATCH-008
                return
            self._tree, self.rev = apply(self._tree, msg["ops"]), msg["rev"]

    def _app_failed(self, exc: BaseException) -> None:
        self._app_error = exc
