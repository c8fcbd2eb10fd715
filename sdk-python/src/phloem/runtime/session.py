"""A session: one user's page, its state and tree, and the numbered messages sent to it.

A session outlives its connection (it waits ``resume_seconds`` for a resume), so the
numbering of server messages (PHL-DELIV-001) and the replay buffer (PHL-DELIV-004) live here.
It knows nothing of frames arriving; :mod:`phloem.runtime.connection` drives it.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Hashable, Mapping
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any

import orjson

from phloem.app.app import Page
from phloem.protocol import outbound
from phloem.protocol.catalog import CORE
from phloem.protocol.errors import PhloemError, RemoteProtocolError, ServerFault
from phloem.protocol.tree import Node, diff
from phloem.runtime.bucket import TokenBucket
from phloem.runtime.inline import code_of
from phloem.runtime.jobs import JobTable
from phloem.runtime.jobscope import SessionJobs
from phloem.runtime.lifecycle import ATTACHED, Life
from phloem.runtime.limits import Limits
from phloem.ui.bound import check_event
from phloem.ui.components import Column, Element, Event, Text
from phloem.ui.render import Handlers, Index, render
from phloem.ui.state import UI, Journal

if TYPE_CHECKING:
    from phloem.runtime.connection import Connection

logger = logging.getLogger("phloem.runtime")

_NOBODY: frozenset[str] = frozenset()

# Events each core component emits (PHL-EVT-003); a type not listed here is a custom component,
# whose events are the ones the app registered handlers for.
CATALOG_EVENTS: Mapping[str, frozenset[str]] = {k: v.events for k, v in CORE.items()}


class TreeTooLarge(PhloemError):
    """The page built a tree of more than ``limits.max_tree_nodes`` nodes (PHL-LIM-008)."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"the page built {size} nodes; the limit is {limit}")
        self.size = size
        self.limit = limit


def not_found_page(path: str) -> Page:
    def page(ui: UI) -> Element:
        return Column(Text(f"No page at {path}", id="phloem-not-found"), id="root")

    return page


class EventCall:
    """An event's app code, its handler then the page function, for the shell to run (it
    returns the answer's frame); ``key`` names that code (:mod:`phloem.runtime.inline`)."""

    __slots__ = ("event", "event_id", "handler", "session", "typed")

    def __init__(self, session: Session, handler: Any, event: Event, event_id: int, typed: bool):
        self.session, self.handler, self.event = session, handler, event
        self.event_id, self.typed = event_id, typed

    def __call__(self) -> str:
        return self.session._run(self.handler, self.event, self.event_id, self.typed)

    @property
    def key(self) -> Hashable:
        return (self.session.page, code_of(self.handler))


class Session:
    __slots__ = (
        "accept", "bucket", "compact", "conn", "detached_at", "features", "handlers", "id",
        "index", "inputs", "jobs", "journal", "last_event", "life", "limits", "owner", "page",
        "path", "rev", "sent", "sent_bytes", "seq", "token", "tree", "trimmed", "unsent", "user",
        "user_name", "woken",
    )  # fmt: skip

    def __init__(
        self,
        sid: str,
        token: str,
        page: Page,
        path: str,
        limits: Limits,
        now: float,
        *,
        user: Hashable | None = None,
        user_name: str | None = None,
        accept: Mapping[str, int] | None = None,
        owner: str | None = None,
        features: frozenset[str] = frozenset(),
        jobs: JobTable | None = None,
    ):
        self.id = sid
        self.token = token
        self.page = page
        self.path = path
        self.limits = limits
        self.user = user  # the opaque key of the authenticated user; None: anonymous
        self.user_name = user_name
        self.accept = accept  # types sent as themselves (welcome.components); None: all
        self.journal = Journal()  # the app's state (ui.state), undoable while a handler runs
        self.inputs: dict[str, Any] = {}  # node id -> value of an unbound input (ui.bound)
        # Jobs belong to the owner, not the session (PHL-JOB-050): the shell names it (a user,
        # an anonymous browser); without one the session is its own owner.
        # A shell's owner keys carry a prefix ("user:…", "anon:…"); a bare session id cannot
        # collide with them, and costs no string of its own.
        self.owner = owner if owner is not None else sid
        self.features = features  # welcome.features (PHL-HS-006)
        self.jobs = SessionJobs(jobs, self.owner) if jobs is not None else None
        self.compact: dict[str, int] | None = None  # replay key -> seq of the newest such message
        # The first tree is built by start(): app code, which the shell runs off its loop.
        self.tree: Node = Node("", "Column")
        self.handlers: Handlers = {}
        self.index: Index = {}
        self.rev = 1  # PHL-HS-008: a new session's first snapshot is revision 1
        self.seq = 0
        self.sent: deque[tuple[int, str]] = deque()  # (seq, frame), oldest first
        self.sent_bytes = 0
        self.trimmed = 0  # highest seq that can no longer be replayed
        self.last_event = -1
        self.bucket = TokenBucket(limits.max_events_per_second, limits.event_burst, now)
        self.conn: Connection | None = None
        self.life: Life = ATTACHED  # phloem.runtime.lifecycle; the hub moves it
        self.detached_at: float | None = None
        # Frames of server-initiated updates (Hub.push) not yet handed to a connection; the
        # attached connection's next output starts with them.
        self.unsent: list[str] = []
        # Ids of other sessions (of the same job owner) that got job frames from what this
        # session did; the connection hands them to the shell as a Wake effect.
        self.woken: set[str] | None = None

    @property
    def store(self) -> dict[str, Any]:
        return self.journal.store

    def start(self) -> None:
        """Build the first tree (app code). A first tree over the limit raises
        :class:`TreeTooLarge`: the page cannot open (PHL-LIM-009)."""
        self.tree, self.handlers, self.index = self._render()

    def woke(self, ids: AbstractSet[str]) -> None:
        """Sessions that got job frames queued by this session's handler or cancel."""
        others = [i for i in ids if i != self.id]
        if others:
            if self.woken is None:
                self.woken = set()
            self.woken.update(others)

    def take_woken(self) -> frozenset[str]:
        woken, self.woken = self.woken, None
        return frozenset(woken) if woken else _NOBODY

    def ui(self) -> UI:
        return UI(self.journal, self.path, self.user_name, self.id, self.jobs)

    def _render(self) -> tuple[Node, Handlers, Index]:
        tree, handlers, index = render(self.page(self.ui()), self.inputs, self.accept)
        if len(index) > self.limits.max_tree_nodes:  # PHL-LIM-008
            raise TreeTooLarge(len(index), self.limits.max_tree_nodes)
        return tree, handlers, index

    # --- numbered messages -----------------------------------------------------------------

    def emit(self, msg: dict[str, Any], replay: bool = True, compact: str | None = None) -> str:
        """Number ``msg`` with the next seq, serialise it and keep it for replay. A ``compact``
        key replaces the previous message with that key in the replay buffer (a job's newest
        progress supersedes the older, PHL-JOB-040)."""
        self.seq += 1
        msg["seq"] = self.seq
        frame = outbound.dumps(msg)
        if compact is not None:
            self._supersede(compact)
        if replay:
            self.sent.append((self.seq, frame))
            self.sent_bytes += len(frame)
            limits = self.limits
            while self.sent and (
                len(self.sent) > limits.replay_messages or self.sent_bytes > limits.replay_bytes
            ):
                self._drop_oldest()
        return frame

    def _supersede(self, key: str) -> None:
        if self.compact is None:
            self.compact = {}
        old = self.compact.get(key)
        self.compact[key] = self.seq
        if old is None or old <= self.trimmed:
            return
        for i in range(len(self.sent) - 1, -1, -1):  # newest first: it is usually recent
            seq, frame = self.sent[i]
            if seq == old:
                del self.sent[i]
                self.sent_bytes -= len(frame)
                return

    def forget_compact(self, key: str) -> None:
        if self.compact is not None:
            self.compact.pop(key, None)

    def _drop_oldest(self) -> None:
        seq, frame = self.sent.popleft()
        self.sent_bytes -= len(frame)
        self.trimmed = seq

    def acked(self, seq: int) -> None:
        """The client processed every message up to ``seq`` (PHL-DELIV-002, PHL-DELIV-003).
        A seq never sent is ignored here; the caller decides whether to complain."""
        if seq > self.seq:
            return
        while self.sent and self.sent[0][0] <= seq:
            self._drop_oldest()
        self.trimmed = max(self.trimmed, seq)

    def resume(self, seq: int, welcome: dict[str, Any]) -> list[str]:
        """Frames for a resume from ``seq``, the last seq the client processed.

        The welcome takes ``seq + 1`` and the missed messages follow renumbered from
        ``seq + 2`` (PHL-DELIV-005), so the client's count runs on unbroken; when some were
        dropped from the buffer, a snapshot of the current tree follows instead (PHL-DELIV-006).
        """
        assert seq <= self.seq  # a larger one starts a new session (PHL-DELIV-007)
        missed = None if seq < self.trimmed else [f for s, f in self.sent if s > seq]
        self.sent.clear()
        self.sent_bytes = 0
        self.seq = self.trimmed = seq
        frames = [self.emit(welcome, replay=False)]  # a welcome is never replayed
        if missed is None:
            frames.append(self.snapshot())
        else:
            frames.extend(self.emit(orjson.loads(frame)) for frame in missed)
        return frames

    def snapshot(self) -> str:
        return self.emit(outbound.snapshot(0, self.rev, self.tree))

    # --- events ----------------------------------------------------------------------------

    def handle_event(self, msg: Mapping[str, Any], now: float) -> str | EventCall:
        """Check one event; the frame that answers it (PHL-EVT-004) when no app code runs, or
        else the call that runs its handler and returns that frame (the shell decides where it
        runs). Refusals are raised as :class:`RemoteProtocolError` carrying the event id."""
        event_id: int = msg["id"]
        ack = msg.get("ack")
        if event_id <= self.last_event:
            # A resend after a reconnect: acknowledged, not applied again (PHL-EVT-005), before
            # the rate limit and without a token (PHL-LIM-012): a resend refused as rate_limited
            # would read as "not applied" and could be retried under a new id.
            if ack is not None and ack <= self.seq:
                self.acked(ack)
            return self.emit(outbound.ack(0, event_id))
        if not self.bucket.take(now):
            # Dropped before handling, so it does not count as handled (PHL-LIM-004, PHL-EVT-005)
            # and takes no token (PHL-LIM-012).
            raise RemoteProtocolError(
                "rate_limited",
                f"more than {self.limits.max_events_per_second} events per second",
                event=event_id,
                limit=self.limits.max_events_per_second,
            )
        self.last_event = event_id
        if ack is not None:
            if ack > self.seq:  # PHL-DELIV-015: not trusted, and the event is not applied
                raise RemoteProtocolError(
                    "invalid_message",
                    f"ack of seq {ack}, but the last seq sent is {self.seq}",
                    event=event_id,
                )
            self.acked(ack)
        node_id: str = msg["node"]
        name: str = msg["name"]
        node = self.index.get(node_id)
        if node is None:
            rev = msg.get("rev")
            if rev is not None and rev < self.rev:  # PHL-EVT-007
                raise RemoteProtocolError(
                    "stale_revision",
                    f"node {node_id!r} is gone since revision {rev}",
                    event=event_id,
                )
            raise RemoteProtocolError("unknown_node", f"no node {node_id!r}", event=event_id)
        on = self.handlers.get(node_id)
        handler = on.get(name) if on is not None else None
        known = CATALOG_EVENTS.get(node.type)
        if (name not in known) if known is not None else (handler is None):  # PHL-EVT-008
            raise RemoteProtocolError(
                "unknown_event", f"{node.type} emits no {name!r} event", event=event_id
            )
        if node.props.get("disabled") is True:
            # A disabled control's event is acknowledged and has no effect (PHL-COMP-013,
            # PHL-COMP-014): its handler never runs, a disabled field keeps its text.
            return self.emit(outbound.ack(0, event_id))
        value = msg.get("value")
        typed = check_event(node.type, name, value, event_id)  # sets a bound value?
        if handler is None and not typed:
            return self.emit(outbound.ack(0, event_id))
        return EventCall(self, handler, Event(node_id, name, value), event_id, typed)

    def _run(self, handler: Any, event: Event, event_id: int, typed: bool = False) -> str:
        saved = self._save()
        try:
            if typed:
                self.inputs[event.node] = event.value  # PHL-COMP-022
            if handler is not None:
                handler(event)
            self.journal.pause()  # the page function reads state; it does not change it
            tree, handlers, index = self._render()
        except TreeTooLarge as exc:
            self._restore(saved)  # nothing of the event applies (PHL-LIM-009)
            if self.jobs is not None:
                self.jobs.rollback()
            logger.warning("event %s on %r: %s", event.name, event.node, exc)
            raise ServerFault("tree_too_large", str(exc), event=event_id, limit=exc.limit) from None
        except Exception as exc:
            # The app's bug: log it with its traceback here, tell the client only what failed
            # (PHL-ERR-004), and keep none of the handler's changes (PHL-EVT-010).
            self._restore(saved)
            if self.jobs is not None:
                self.jobs.rollback()  # a failed handler starts no job (PHL-EVT-010)
            logger.exception("handler for %s on %r raised", event.name, event.node)
            raise ServerFault(
                "handler_error",
                f"the app failed handling {event.name} on {event.node!r}: {type(exc).__name__}",
                event=event_id,
            ) from exc
        frame = self._commit(tree, handlers, index, event_id)
        answer = frame if frame is not None else self.emit(outbound.ack(0, event_id))
        if self.jobs is not None:
            # After the answer, in this call: its job messages follow it (PHL-JOB-010), and a
            # handler that raised never gets here (PHL-EVT-010).
            touched = self.jobs.commit()
            if touched:
                self.woke(touched)
        return answer

    def post(self, fn: Callable[[UI], object]) -> str | None:
        """Run ``fn(ui)`` against the session's state outside any event, re-render and number a
        ``ui.patch`` without ``event`` (None when the tree did not change). ``fn``'s exception
        (or :class:`TreeTooLarge`) propagates, with none of its changes kept."""
        saved = self._save()
        try:
            fn(self.ui())
            self.journal.pause()
            tree, handlers, index = self._render()
        except BaseException:
            self._restore(saved)
            if self.jobs is not None:
                self.jobs.rollback()
            raise
        # Jobs it started reach the table when the caller commits them, after this frame is
        # queued (Hub.push): the answer first, then what it caused.
        return self._commit(tree, handlers, index, None)

    def refresh(self) -> bool:
        """Re-render after a job's lifecycle changed; whether a patch was queued for the
        attached connection (it is in the replay buffer either way). An app failure is
        logged and leaves the tree as it was."""
        try:
            frame = self.post(lambda ui: None)
        except Exception:
            logger.exception("re-rendering %s after a job change failed", self.id)
            return False
        if frame is not None and self.conn is not None:
            self.unsent.append(frame)  # queued like a push's patch (Hub.push)
        return frame is not None

    def _commit(
        self, tree: Node, handlers: Handlers, index: Index, event: int | None
    ) -> str | None:
        self.journal.commit()
        ops = diff(self.tree, tree)
        self.tree, self.handlers, self.index = tree, handlers, index
        if not ops:
            return None
        base = self.rev
        self.rev += 1  # 1.0 servers send rev = base + 1 (PHL-PATCH-010)
        return self.emit(outbound.patch(0, base, self.rev, ops, event))

    def _save(self) -> dict[str, Any] | None:
        # PHL-EVT-010: from here on, the journal snapshots each value the handler reaches.
        self.journal.begin()
        return dict(self.inputs) if self.inputs else None  # most pages have no unbound input

    def _restore(self, inputs: dict[str, Any] | None) -> None:
        self.journal.rollback()
        self.inputs.clear()
        if inputs:
            self.inputs.update(inputs)
