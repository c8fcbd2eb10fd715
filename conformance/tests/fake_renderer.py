"""A fake renderer adapter for testing the runner's renderer target (no browser).

    python fake_renderer.py [--bug BUG]...

It connects to the runner's WebSocket, keeps a tree with the suite's own reducer, and projects
it the way the spec's component pages say (Column, its server-sent fallback, Text, Button,
TextInput, Link; any other type as the fallback); when the connection drops it reconnects and
resumes. ``act`` ``{type: NODE, text}`` types into a TextInput key by key (``{fill: NODE, text}``
replaces its text in one edit): edits are coalesced
(PHL-COMP-020), never sent over ``max_frame_bytes`` (PHL-LIM-001), and what the user typed is
shown until every change is answered (the echo rule, PHL-COMP-021). Idle, it pings after
``heartbeat_seconds``; unanswered, it closes with 4000 and resumes (PHL-PING-003/004), on a
clock that ``control`` ``advance`` moves on (only when ``open`` asked for a clock, as the browser
adapter does). ``audit`` reports an empty page.

Bugs make it deliberately wrong: ``apply-stale`` (applies a patch whatever its base),
``ignore-move`` (leaves out every ``move`` operation of a patch), ``no-fallback``,
``no-resume`` (reconnects without hello.resume), ``no-echo-rule`` (a field shows the tree's
value), ``no-frame-limit`` (sends a change however large), ``log-token`` (the resume token in
the console), ``no-clock`` (control unsupported), ``no-heartbeat``, ``no-audit`` (an adapter
without the command).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from phloem_conformance.catalog_gen import COMPONENT_TYPE_PATTERN, TYPES
from phloem_conformance.components import fields
from phloem_conformance.schemas import load_protocol
from phloem_conformance.stdio_adapter import StdioAdapter, Unsupported
from phloem_conformance.tree import PatchError, Tree
from websockets.asyncio.client import connect

JOB_SCHEMAS = load_protocol("1.1")  # job messages are checked against their schemas (bounds too)
KNOWN = set(TYPES) | {"JobProgress"}  # the core catalog, generated from the schemas; 1.1's job bar
TERMINAL = {"succeeded", "failed", "cancelled", "interrupted"}
PAGE = "http://127.0.0.1/app/"  # the page's address, which relative Link URLs resolve against
SAFE_SCHEMES = {"http", "https", "mailto"}  # PHL-SEC-003
COMPONENT_TYPE = re.compile(COMPONENT_TYPE_PATTERN)  # a valid Column `fallback`
COALESCE = 0.05  # PHL-COMP-020: at most one change per field per 50 ms
DEFAULT_HEARTBEAT = 20.0  # seconds, when the welcome announces none


def safe_href(href: Any) -> str | None:
    """``href`` resolved against the page, as a browser's URL parser would (leading and
    trailing controls and spaces stripped, tabs and newlines removed, scheme case-insensitive);
    None unless the scheme is allowed or the URL does not parse (PHL-SEC-003)."""
    if not isinstance(href, str):
        return None
    text = re.sub(r"[\t\n\r]", "", href.strip("".join(map(chr, range(0x21)))))
    if not text:  # no URL at all, not the page itself (PHL-CLIENT-015)
        return None
    try:
        url = urlsplit(urljoin(PAGE, text))
        url.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return None
    if url.scheme.lower() not in SAFE_SCHEMES:
        return None
    if url.scheme.lower() in ("http", "https"):
        if not url.hostname:
            return None
        return url._replace(scheme=url.scheme.lower(), netloc=url.netloc.lower(), path=url.path or "/").geturl()
    return url._replace(scheme=url.scheme.lower()).geturl()


def normal_form(text: str) -> str:
    """White-space normal form (PHL-CLIENT-014): line breaks as \\n, other runs of white space as
    one space, every line trimmed, no blank lines at either end."""
    lines = [re.sub(r"\s+", " ", line).strip() for line in re.split(r"\r\n|\r|\n", text)]
    return "\n".join(lines).strip("\n")


def project_job(node: dict[str, Any], job: dict[str, Any] | None) -> dict[str, Any]:
    """JobProgress (spec/1.1/components/JobProgress.md): from the job store, not the props."""
    props, job = node.get("props", {}), job or {}
    state = job.get("state", "queued")
    parts = [state, job.get("stage"), job.get("message"), (job.get("error") or {}).get("message") if state == "failed" else None]
    name = props.get("label") or "Job"
    out: dict[str, Any] = {"role": "group", "name": name, "text": " · ".join(p for p in parts if p)}
    bar: dict[str, Any] = {"id": f"{node['id']}/bar", "type": "JobProgress", "role": "progressbar", "name": name, "children": []}
    if "fraction" in job:
        bar["value"] = f"{int(job['fraction'] * 100)}%"
    kids = [bar]
    if job and state not in TERMINAL and not job.get("cancel_requested") and props.get("cancel") is not False:
        kids.append({"id": f"{node['id']}/cancel", "type": "Button", "role": "button", "name": "Cancel", "enabled": True, "children": []})
    lines = job.get("lines", [])[-props["log"]:] if isinstance(props.get("log"), int) and props["log"] > 0 else []
    if lines:
        kids.append({"id": f"{node['id']}/log", "type": "Text", "role": "text", "text": " ".join(lines), "children": []})
    out["children"] = kids
    return out


def project(node: dict[str, Any], bugs: set[str], shown: dict[str, str],
            jobs: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The semantic node; ``shown``: what each text field displays instead of its ``value``."""
    kind, props = node["type"], node.get("props", {})
    out: dict[str, Any] = {"id": node["id"], "type": kind}

    def text(name: str) -> str:  # a prop that fails the schema reads as absent (PHL-COMP-004)
        value = props.get(name)
        return value if isinstance(value, str) else ""

    fallback = props.get("fallback") if kind == "Column" else None
    if kind == "Column" and isinstance(fallback, str) and COMPONENT_TYPE.fullmatch(fallback):
        if "no-fallback" not in bugs:  # PHL-COMP-018: exactly like the fallback for that type
            out.update(role="group", fallback=True, text=f"Unsupported component: {fallback}")
    elif kind == "Column":
        out["role"] = "group"
    elif kind == "Text":
        out.update(role="text", text=normal_form(text("text")))
    elif kind == "Button":
        out.update(role="button", name=text("label"), enabled=props.get("disabled") is not True)
    elif kind == "TextInput":
        value = shown.get(node["id"], text("value")) if "no-echo-rule" not in bugs else text("value")
        out.update(role="textbox", name=text("label"), value=value, enabled=props.get("disabled") is not True)
    elif kind == "Link":
        out.update(role="link", name=text("text"))
        href = safe_href(props.get("href"))
        if href is not None:
            out["href"] = href
    elif kind == "JobProgress":
        return {**out, **project_job(node, (jobs or {}).get(str(props.get("job"))))}
    elif kind in KNOWN:  # a core component with no hand-written branch: its projection rules
        out.update(fields(kind, props, shown.get(node["id"]), safe_href))
    elif "no-fallback" not in bugs:
        out.update(role="group", fallback=True, text=f"Unsupported component: {kind}")
    out["children"] = [project(c, bugs, shown, jobs) for c in node.get("children", [])]
    return out


def find(node: dict[str, Any] | None, node_id: str) -> dict[str, Any] | None:
    if node is None or node["id"] == node_id:
        return node
    return next((f for c in node.get("children", []) if (f := find(c, node_id)) is not None), None)


@dataclass
class Edit:
    """A text field whose typed text wins over its ``value`` (PHL-COMP-021)."""

    text: str
    pending: bool = True  # edited since the last change went out (or it could not go)
    unanswered: set[int] = field(default_factory=set)  # changes sent, not yet answered
    timer: asyncio.TimerHandle | None = None
    due: float = 0.0  # when the timer fires, on the renderer's clock (``now``)


class Renderer:
    def __init__(self, bugs: set[str]) -> None:
        self.bugs = bugs
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.ws: Any = None
        self.tree = Tree()
        self.event_id = 0
        self.reader: Any = None
        self.ticker: Any = None
        self.url = ""
        self.token: str | None = None
        self.last_seq = 0
        self.closing = False
        self.welcomed = False
        self.resync_pending = False
        self.unanswered: dict[int, dict[str, Any]] = {}  # resent after a resume (PHL-DELIV-009)
        self.edits: dict[str, Edit] = {}
        self.jobs: dict[str, dict[str, Any]] = {}  # the job store (PHL-JOB-070)
        self.owners: dict[int, str] = {}  # unanswered change id -> node
        self.sent_at: dict[str, float] = {}  # when each field last sent a change
        self.limits: dict[str, Any] = {}
        self.console: list[str] = []
        # The clock `control` moves on: the loop's time plus what was advanced.
        self.offset = 0.0
        self.last_sent = self.last_received = 0.0
        self.ping_at: float | None = None  # a heartbeat ping is out, unanswered

    def call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    def now(self) -> float:
        return self.loop.time() + self.offset

    async def open(self, url: str) -> None:
        self.tree, self.event_id, self.url, self.token, self.last_seq = Tree(), 0, url, None, 0
        self.closing, self.resync_pending, self.unanswered = False, False, {}
        self.reset_edits()
        self.sent_at, self.limits, self.console, self.offset = {}, {}, [], 0.0
        await self.connect()
        self.ticker = asyncio.ensure_future(self.tick_forever())

    async def connect(self) -> None:
        self.ws = await connect(self.url, subprotocols=["phloem.v1"], ping_interval=None,  # type: ignore[list-item]
                                max_size=2**25)  # PHL-LIM-007: 16 MiB frames
        self.welcomed, self.ping_at = False, None
        self.last_sent = self.last_received = self.now()
        hello: dict[str, Any] = {"type": "hello", "versions": ["1.1", "1.0"], "features": ["jobs"],
                                 "path": "/",  # PHL-CLIENT-010
                                 "components": dict.fromkeys(sorted(KNOWN), 1)}
        if self.token is not None and "no-resume" not in self.bugs:
            hello["resume"] = {"token": self.token, "seq": self.last_seq}
        await self.send(hello)
        self.reader = asyncio.ensure_future(self.read(self.ws))

    async def send(self, message: dict[str, Any]) -> None:
        self.last_sent = self.now()
        await self.ws.send(json.dumps(message))

    async def read(self, ws: Any) -> None:
        with contextlib.suppress(Exception):  # a dropped connection
            await self.read_frames(ws)
        if not self.closing and ws is self.ws and ws.close_code in (None, 1001, 1006, 1011, 4000):
            await asyncio.sleep(0.05)  # PHL-TRANSPORT-008
            await self.connect()

    async def read_frames(self, ws: Any) -> None:
        async for frame in ws:
            self.last_received, self.ping_at = self.now(), None
            m = json.loads(frame)
            if m["type"] == "welcome":
                if m.get("version") not in ("1.0", "1.1"):  # not offered (PHL-HS-015)
                    self.closing = True
                    await ws.close(4002)
                    return
                resumed = m.get("resumed") is True and self.token is not None
                self.token = m["token"]
                if "log-token" in self.bugs:
                    self.console.append(f"[console.log] welcome {m['token']}")
                self.limits = m.get("limits") or {}
                if not resumed:  # a new session (PHL-DELIV-010): what belonged to the old one goes
                    self.tree, self.resync_pending, self.unanswered = Tree(), False, {}
                    self.jobs = {}
                    self.reset_edits()
                self.last_seq, self.welcomed = m["seq"] - 1, True
                for event in self.unanswered.values():
                    await self.send(event)
                if resumed and self.resync_pending:  # lost with the old connection (PHL-CLIENT-011)
                    await self.send({"type": "resync", "rev": self.tree.rev})
            if "seq" in m:
                if m["seq"] != self.last_seq + 1:  # a gap (PHL-DELIV-013)
                    self.closing = True
                    await ws.close(4002)
                    return
                self.last_seq = m["seq"]
            if m["type"] == "ui.snapshot":
                try:
                    self.tree.snapshot(m["root"], m["rev"])
                    self.resync_pending = False
                except PatchError as exc:  # unusable: keep the tree, one resync (PHL-CLIENT-012)
                    await self.send({"type": "error", "code": "invalid_message", "message": str(exc)[:1024]})
                    if not self.resync_pending:
                        self.resync_pending = True
                        await self.send({"type": "resync", "rev": self.tree.rev})
            elif m["type"] == "ui.patch" and not self.resync_pending:  # PHL-PATCH-014
                if "apply-stale" in self.bugs:
                    m = {**m, "base": self.tree.rev}
                if "ignore-move" in self.bugs:
                    m = {**m, "ops": [op for op in m["ops"] if "move" not in op]}
                try:
                    self.tree.apply(m)
                except PatchError:
                    self.resync_pending = True
                    await self.send({"type": "resync", "rev": self.tree.rev})
            elif m["type"].startswith("job."):
                problems = JOB_SCHEMAS.server_errors(m)
                if problems:  # dropped and reported, as any invalid server message (PHL-ERR-006)
                    await self.send({"type": "error", "code": "invalid_message", "message": problems[0][:1024]})
                else:
                    self.job_message(m)
            elif m["type"] == "ping":
                await self.send({"type": "pong", **({"id": m["id"]} if "id" in m else {})})
            if isinstance(m.get("event"), int):  # a patch, ack or error answering an event
                self.unanswered.pop(m["event"], None)
                self.answered(m["event"], m.get("code") if m["type"] == "error" else None)
            if "seq" in m:
                await self.send({"type": "ack", "seq": m["seq"]})

    def job_message(self, m: dict[str, Any]) -> None:
        job = self.jobs.setdefault(m["job"], {"lines": []})
        if job.get("state") in TERMINAL and m["type"] != "job.state":
            return  # nothing after a terminal state (PHL-JOB-073)
        if m["type"] == "job.log":
            job["lines"] = job["lines"][: m["offset"]] + m["lines"]
            return
        if m["type"] == "job.state" and m.get("attempt", 1) > job.get("attempt", 1):
            # A new attempt starts over (spec/1.1/jobs.md, "Lifecycle"); its log goes on.
            job = self.jobs[m["job"]] = {"lines": job["lines"], "attempt": m["attempt"]}
        fields = {**m.get("progress", {}), **{k: v for k, v in m.items() if k in
                  ("state", "fraction", "stage", "message", "error", "cancel_requested")}}
        if "fraction" in fields:
            fields["fraction"] = max(fields["fraction"], job.get("fraction", 0.0))
        job.update(fields)
        if m["type"] == "job.progress" and job.get("state", "queued") == "queued":
            job["state"] = "running"

    # ---- user actions --------------------------------------------------------------------

    async def appear(self, node: str) -> None:
        """Waits (a while) for the node to be on screen, as a browser adapter waits for its element."""
        for _ in range(100):
            if find(self.tree.root, node) is not None:
                return
            await asyncio.sleep(0.02)

    async def click(self, node: str) -> None:
        if node.endswith("/cancel"):  # a JobProgress node's cancel control (PHL-JOB-072)
            target = find(self.tree.root, node.removesuffix("/cancel"))
            job_id = str((target or {}).get("props", {}).get("job"))
            job = self.jobs.get(job_id)
            if target is not None and job and job.get("state") not in TERMINAL and not job.get("cancel_requested"):
                job["cancel_requested"] = True
                self.event_id += 1
                self.unanswered[self.event_id] = {"type": "job.cancel", "id": self.event_id, "job": job_id}
                await self.send(self.unanswered[self.event_id])
            return
        await self.appear(node)
        target = find(self.tree.root, node)
        if target is None or target["type"] != "Button" or target.get("props", {}).get("disabled") is True:
            return  # only an enabled Button has a click (PHL-EVT-003, PHL-COMP-013)
        await self.emit(node, "click")

    async def emit(self, node: str, name: str, **extra: Any) -> dict[str, Any] | None:
        """Sends an event; None (nothing sent) when its frame would exceed max_frame_bytes."""
        event = {"type": "event", "id": self.event_id + 1, "node": node, "name": name, **extra, "rev": self.tree.rev}
        limit = self.limits.get("max_frame_bytes")
        if isinstance(limit, int) and len(json.dumps(event).encode()) > limit and "no-frame-limit" not in self.bugs:
            return None  # PHL-LIM-001: not sent; the field would say the text is too long
        self.event_id += 1
        self.unanswered[self.event_id] = event
        await self.send(event)
        return event

    def field(self, node: str) -> dict[str, Any] | None:
        target = find(self.tree.root, node)
        return target if target is not None and target["type"] == "TextInput" else None

    async def type(self, node: str, text: str, clear: bool, delay_ms: int) -> None:
        """Keystrokes into a TextInput; a disabled field (or anything else) takes none."""
        await self.appear(node)
        for index, char in enumerate([""] * clear + list(text)):
            target = self.field(node)
            if target is None or target.get("props", {}).get("disabled") is True:
                return
            value = target.get("props", {}).get("value")
            current = self.edits[node].text if node in self.edits else value if isinstance(value, str) else ""
            typed = "" if clear and index == 0 else current + char
            if typed != current:
                self.edit(node, typed)
            if delay_ms:
                await asyncio.sleep(delay_ms / 1000)

    async def fill(self, node: str, text: str) -> None:
        """The field's whole text replaced in one edit (a paste); a disabled field takes none."""
        await self.appear(node)
        target = self.field(node)
        if target is not None and target.get("props", {}).get("disabled") is not True:
            self.edit(node, text)

    def edit(self, node: str, text: str) -> None:
        entry = self.edits.get(node)
        if entry is None:
            entry = self.edits[node] = Edit(text)
        entry.text, entry.pending = text, True
        if entry.timer is None:  # sent at once unless this field sent one in the last 50 ms
            wait = self.sent_at.get(node, -1e9) + COALESCE - self.now()
            entry.due = self.now() + max(wait, 0)
            entry.timer = self.loop.call_later(max(wait, 0), lambda: asyncio.ensure_future(self.flush(node, entry)))

    async def flush(self, node: str, entry: Edit) -> None:
        entry.timer = None
        if not entry.pending or self.edits.get(node) is not entry or not self.welcomed:
            return
        target = self.field(node)
        if target is None or target.get("props", {}).get("disabled") is True:
            entry.pending = False  # PHL-COMP-013: a disabled field sends nothing
            return self.settle(node)
        event = await self.emit(node, "change", value=entry.text)
        if event is None:
            return  # too long: stays an unsent edit, shown as typed
        self.sent_at[node], entry.pending = self.now(), False
        entry.unanswered.add(event["id"])
        self.owners[event["id"]] = node

    def answered(self, event_id: int, code: str | None = None) -> None:
        node = self.owners.pop(event_id, None)
        if node is not None and node in self.edits:
            entry = self.edits[node]
            entry.unanswered.discard(event_id)
            if code == "rate_limited" and not entry.pending and not any(e > event_id for e in entry.unanswered):
                self.edit(node, entry.text)  # sent again as a new change (PHL-CLIENT-009)
            self.settle(node)

    def settle(self, node: str) -> None:
        """Every change answered and no edit pending: the field shows its tree's value again."""
        entry = self.edits.get(node)
        if entry is not None and not entry.pending and not entry.unanswered:
            del self.edits[node]

    def reset_edits(self) -> None:
        for entry in self.edits.values():
            if entry.timer is not None:
                entry.timer.cancel()
        self.edits, self.owners = {}, {}

    async def snapshot(self) -> dict[str, Any] | None:
        """Computed on the loop, where the tree and the edits change."""
        shown = {node: entry.text for node, entry in self.edits.items()}
        root = self.tree.root
        return None if root is None else project(root, self.bugs, shown, self.jobs)

    # ---- the clock and the heartbeat -----------------------------------------------------

    async def advance(self, seconds: float) -> None:
        """The clock jumps on: the timers due meanwhile fire now (coalesced edits, heartbeat)."""
        self.offset += seconds
        for node, entry in list(self.edits.items()):
            if entry.timer is not None and entry.due <= self.now():
                entry.timer.cancel()
                await self.flush(node, entry)
        await self.tick()

    async def tick_forever(self) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            while not self.closing:
                await asyncio.sleep(0.05)
                await self.tick()

    async def tick(self) -> None:
        """PHL-PING-003: ping after heartbeat_seconds of sending nothing; PHL-PING-004: nothing
        received within heartbeat_seconds of that ping: close with 4000 (PHL-TRANSPORT-009),
        then resume on a new connection."""
        if self.closing or not self.welcomed or self.ws is None or "no-heartbeat" in self.bugs:
            return
        heartbeat = self.limits.get("heartbeat_seconds", DEFAULT_HEARTBEAT)
        now = self.now()
        with contextlib.suppress(Exception):  # the connection is already going
            if self.ping_at is not None and now - self.ping_at >= heartbeat:
                self.welcomed, self.ping_at = False, None
                await self.ws.close(4000)
            elif self.ping_at is None and now - self.last_sent >= heartbeat:
                await self.send({"type": "ping"})
                self.ping_at = now

    async def close(self) -> None:
        self.closing = True
        self.reset_edits()
        if self.ticker is not None:
            self.ticker.cancel()
        if self.ws is not None:
            await self.ws.close()
            self.ws = None

    def audit(self) -> dict[str, Any]:
        return {"url": PAGE, "console": list(self.console), "local_storage": {}, "session_storage": {},
                "cookies": ""}


class FakeAdapter(StdioAdapter):
    """The fake over the shared stdio helper; ``--bug no-audit`` leaves ``audit`` out of
    ``supports``, ``--bug no-clock`` installs no clock (``control`` answers unsupported)."""

    def __init__(self, bugs: set[str]) -> None:
        self.role = "renderer"
        self.implementation = {"name": "fake-renderer", "version": "0", "language": "python"}
        self.bugs = bugs
        self.renderer = Renderer(bugs)
        self.clock = False

    def supports(self) -> list[str]:
        return [c for c in super().supports() if not (c == "audit" and "no-audit" in self.bugs)]

    def cmd_open(self, cmd: dict[str, Any]) -> dict[str, Any]:
        # A clock only when the runner asks for one (the case has a renderer control step).
        self.clock = cmd.get("clock") is True and "no-clock" not in self.bugs
        self.renderer.call(self.renderer.open(cmd["url"]))
        return {}

    def cmd_act(self, cmd: dict[str, Any]) -> dict[str, Any]:
        action, renderer = cmd["action"], self.renderer
        if "type" in action:
            clear, delay = bool(action.get("clear")), int(action.get("delay_ms", 0))
            renderer.call(renderer.type(action["type"], action["text"], clear, delay))
        elif "fill" in action:
            renderer.call(renderer.fill(action["fill"], action["text"]))
        else:
            renderer.call(renderer.click(action["click"]))
        return {}

    def cmd_snapshot(self, cmd: dict[str, Any]) -> dict[str, Any]:
        return {"tree": self.renderer.call(self.renderer.snapshot())}

    def cmd_control(self, cmd: dict[str, Any]) -> dict[str, Any]:
        if not self.clock or cmd.get("op") != "advance":  # like a browser adapter opened without
            raise Unsupported("no clock installed")
        self.renderer.call(self.renderer.advance(float(cmd["seconds"])))
        return {}

    def cmd_audit(self, cmd: dict[str, Any]) -> dict[str, Any]:
        return self.renderer.audit()

    def cmd_close(self, cmd: dict[str, Any]) -> dict[str, Any]:
        self.renderer.call(self.renderer.close())
        return {}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bug", action="append", default=[])
    FakeAdapter(set(parser.parse_args().bug)).serve()


if __name__ == "__main__":
    main()
