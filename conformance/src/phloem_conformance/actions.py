"""Steps served by the adapter rather than the wire: ``user`` actions and ``render`` snapshots
(renderer), ``control`` of the IUT itself, and the ``audit`` of a renderer's page."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from . import registry
from .divergence import ControlUnsupported
from .matching import CaseError, concretize, match
from .registry import Doc

if TYPE_CHECKING:
    from .session import Session


@registry.step(
    "user",
    body={
        "type": "object",
        "description": "A user action on the renderer: click a node, type text into a text field keystroke by keystroke (clear: empty it first), or fill a text field with text in one edit.",
        "oneOf": [
            {
                "required": ["click"],
                "properties": {"click": {"type": "string"}},
                "additionalProperties": False,
            },
            {
                "required": ["type", "text"],
                "properties": {
                    "type": {"type": "string"},
                    "text": {"type": "string"},
                    "clear": {"type": "boolean"},
                    "delay_ms": {"type": "integer", "minimum": 0, "maximum": 1000},
                },
                "additionalProperties": False,
            },
            {
                "required": ["fill", "text"],
                "description": "Replace the text field's whole text with text in one edit (one input event, as a paste over the selected text does); a disabled field takes nothing.",
                "properties": {"fill": {"type": "string"}, "text": {"type": "string"}},
                "additionalProperties": False,
            },
        ],
    },
    roles=("renderer",),
    docs=[
        Doc(
            "`user: {click: NODE}`, `{type: NODE, text, clear?, delay_ms?}` or `{fill: NODE, text}`",
            "—",
            "`act`: a click; typing key by key; the field's whole text replaced in one edit (a case "
            "about a long text fills it, so the browser's work does not grow with the text)",
        )
    ],
)
async def user(session: Session, step: dict[str, Any]) -> None:
    action = concretize(step["user"], session.bindings)
    if session.act is None:
        raise CaseError("user step without a renderer")
    session.transcript.add("user", action)
    await session.act(action)


@registry.step(
    "render",
    body={"$ref": "#/$defs/pattern"},
    roles=("renderer",),
    docs=[
        Doc("`render: PATTERN`", "—", "`snapshot`, retried until it matches or the step times out")
    ],
)
async def render(session: Session, step: dict[str, Any]) -> None:
    if session.snapshot is None:
        raise CaseError("render step without a renderer")
    # A retried assertion with a deadline (like Playwright's expect), not a sleep: the
    # renderer may commit the DOM a frame after it handled the message.
    deadline = time.monotonic() + session.timeout
    while True:
        tree = await session.snapshot()
        mismatch = match(step["render"], tree, session.bindings)
        if mismatch is None:
            session.transcript.add("render", tree)
            return
        if time.monotonic() >= deadline:
            session.transcript.add("render", tree)
            raise session.mismatch("render", mismatch, tree)
        await asyncio.sleep(0.05)


@registry.step(
    "control",
    body={
        "type": "object",
        "minProperties": 1,
        "maxProperties": 1,
        "properties": {
            "advance": {"type": "number", "exclusiveMinimum": 0},
            "job": {
                "type": "object",
                "description": "Since 1.1: a step of the fixture's newest job (conformance/fixtures/jobs-long.md).",
                "minProperties": 1,
                "maxProperties": 1,
                "properties": {
                    "advance": {"type": "object"},
                    "log": {"type": "array", "items": {"type": "string"}},
                    "complete": {},
                    "fail": {"type": "string"},
                    "hold": {
                        "const": True,
                        "description": "Every worker that could start a run is taken: the next run stays queued until release.",
                    },
                    "release": {"const": True, "description": "The workers a hold took are free again."},
                    "ignore_cancel": {
                        "const": True,
                        "description": "The newest run never looks at its cooperative cancel from now on.",
                    },
                    "crash": {
                        "const": True,
                        "description": "The process running the newest run dies (kill -9).",
                    },
                },
                "additionalProperties": False,
            },
            "push": {
                "type": "string",
                "pattern": "^[a-z][a-z0-9-]*$",
                "description": "Run the fixture's server-side update of that name on the session of the case's first connection, outside any event (a job, a timer): the adapter's control push. Server and sdk only.",
            },
        },
        "additionalProperties": False,
    },
    roles=("server", "sdk"),
    description="An operation on the implementation itself, through the adapter's control command. advance: move the implementation's clock forward by that many seconds (token-bucket refills, session lifetimes; a renderer's page clock, heartbeats). Default roles server and sdk; a renderer's only with roles: [renderer]. An adapter that cannot do it makes the case N/A (adapter cannot control time), never a pass or a failure.",
    open_fields={"renderer": {"clock": True}},
    docs=[
        Doc(
            "`control: {job: {advance: {...}} | {log: [...]} | {complete: V} | {fail: M} | {ignore_cancel: true} | {crash: true} | {hold: true} | {release: true}}`",
            "server, sdk, since 1.1: the adapter's `control` `job`: the fixture's newest job ([`jobs-long`](fixtures/jobs-long.md)) takes that step, its process dies (`crash`), or the workers are taken (`hold`: the next run stays queued) and freed (`release`); the messages it causes are expected by the next steps. Unsupported by the adapter: the case is N/A",
            "—",
        ),
        Doc(
            "`control: {push: NAME}`",
            "server, sdk: the adapter's `control` `push`: the fixture's server-side update NAME runs on the session of the case's first connection, outside any event (`Hub.push`); later steps judge what it sends",
            "—",
        ),
        Doc(
            "`control: {advance: SECONDS}`",
            "server, sdk; a renderer only with `roles: [renderer]` (the page's clock, installed when the case has such a step): the adapter's `control` `advance`: the IUT's clock moves SECONDS on (token-bucket refills, session lifetimes); nothing is received, later steps judge the effect. Unsupported by the adapter: the case is N/A",
            "—",
        )
    ],
)
async def control(session: Session, step: dict[str, Any]) -> None:
    """Act on the IUT itself (advance its clock). Nothing is received: a later step judges
    what the IUT does after it. Unsupported: the case cannot run against this adapter."""
    operation = dict(step["control"])
    session.transcript.add("control", operation)
    if session.control is None or not await session.control(operation):
        what = ", ".join(f"{k} {v}" for k, v in operation.items())
        raise ControlUnsupported(f"adapter cannot control time (control {what} unsupported)")


@registry.step(
    "audit",
    body={
        "type": "object",
        "required": ["absent"],
        "properties": {
            "absent": {
                "oneOf": [
                    {"type": "string"},
                    {"type": "array", "minItems": 1, "items": {"type": "string"}},
                ]
            },
            "in": {
                "type": "array",
                "minItems": 1,
                "uniqueItems": True,
                "items": {
                    "enum": ["url", "console", "cookies", "local_storage", "session_storage"]
                },
                "description": "The parts of the adapter's audit reply judged; all when absent.",
            },
        },
        "additionalProperties": False,
    },
    roles=("renderer",),
    description="Renderer role: the adapter's audit (page URL, console, localStorage, sessionStorage, cookies) contains none of the absent strings (PHL-SEC-006).",
    docs=[
        Doc(
            "`audit: {absent: S \\| [S...], in?: [url, console, cookies, local_storage, session_storage]}`",
            "—",
            "the adapter's `audit`; none of the strings appears in the parts named (all by default) (PHL-SEC-006)",
        )
    ],
)
async def audit(session: Session, step: dict[str, Any]) -> None:
    """Renderer: what the page keeps and logs (URL, console, storage, cookies) holds none of
    the secrets (PHL-SEC-006)."""
    if session.audit is None:
        raise ControlUnsupported("adapter cannot audit the page (audit unsupported)")
    report = await session.audit()
    session.transcript.add("audit", report)
    secrets = concretize(step["audit"].get("absent", []), session.bindings)
    places = step["audit"].get(
        "in"
    )  # which parts of the reply (url, console, cookies...); all by default
    judged = report if places is None else {k: v for k, v in report.items() if k in places}
    for secret in secrets if isinstance(secrets, list) else [secrets]:
        if not isinstance(secret, str) or not secret:
            raise CaseError(
                f"step {session.step}: audit secrets are non-empty strings, not {secret!r}"
            )
        for where, value in _places(judged):
            if secret in value:
                raise session.diverge(
                    "audit",
                    f"the secret appears in the page's {where} (PHL-SEC-006)",
                    pointer=where,
                    expected={"$not": {"$contains": secret}},
                    actual=value,
                )


def _places(value: Any, pointer: str = "") -> list[tuple[str, str]]:
    """(JSON pointer, string) for every string, key included, in an audit reply."""
    if isinstance(value, str):
        return [(pointer, value)]
    out: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for key, sub in value.items():
            here = f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}"
            out += [(here, str(key)), *_places(sub, here)]
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            out += _places(sub, f"{pointer}/{i}")
    return out
