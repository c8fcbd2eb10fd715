"""The mutant catalogue: each way the mutating proxy can break an implementation.

A mutant rewrites server messages (``s2c``), what a renderer sends (``c2s``) or a renderer's
semantic snapshot (``tree``); mutants.py applies one of them to the frames in flight. Which
cases must catch each mutant is in ``conformance/mutants/expected.yaml``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Message = dict[str, Any]


@dataclass
class State:
    """Per case (reset on ``open``)."""

    shift: int = 0  # sequenced server messages dropped so far (the rest are renumbered)
    root_id: str | None = None  # the root of the latest snapshot sent to a renderer
    node_ids: list[str] = field(default_factory=list)
    replaying: bool = False  # a resumed welcome went out: the next sequenced message is a replay
    wire_values: dict[str, Any] = field(default_factory=dict)  # node id -> `value` prop on the wire


@dataclass(frozen=True)
class Mutant:
    name: str
    summary: str
    s2c: Callable[[Message, State], list[Message]] | None = None  # server → client messages
    c2s: Callable[[Message, State], list[Message]] | None = None  # what a renderer sends
    tree: Callable[[Any, State], Any] | None = None  # a renderer's semantic snapshot


def _keep(
    kind: str, change: Callable[[Message], None]
) -> Callable[[Message, State], list[Message]]:
    def mutate(message: Message, state: State) -> list[Message]:
        if message.get("type") == kind:
            message = copy.deepcopy(message)
            change(message)
        return [message]

    return mutate


def _drop(predicate: Callable[[Message], bool]) -> Callable[[Message, State], list[Message]]:
    return lambda message, state: [] if predicate(message) else [message]


def _set(key: str, value: Callable[[Any], Any]) -> Callable[[Message], None]:
    def change(message: Message) -> None:
        if key in message:
            message[key] = value(message[key])

    return change


def _duplicate_seq(message: Message, state: State) -> list[Message]:
    if isinstance(message.get("seq"), int) and message["seq"] >= 2:
        message = {**message, "seq": message["seq"] - 1}  # the 2nd message repeats the 1st's seq
    return [message]


_OTHER_CODE = {"invalid_message": "malformed_frame"}


def _wrong_code(message: Message) -> None:
    message["code"] = _OTHER_CODE.get(message.get("code", ""), "invalid_message")


def _corrupt_wire_text(message: Message) -> None:
    def walk(node: Any) -> None:
        if isinstance(node, dict):
            props = node.get("props")
            if (
                node.get("type") == "Text"
                and isinstance(props, dict)
                and isinstance(props.get("text"), str)
            ):
                props["text"] += " (corrupt)"
            for child in node.get("children") or []:
                walk(child)

    walk(message.get("root"))


def _corrupt_shown_text(tree: Any, state: State) -> Any:
    tree = copy.deepcopy(tree)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                node["text"] += " (corrupt)"
            for child in node.get("children") or []:
                walk(child)

    walk(tree)
    return tree


def _wrong_node(message: Message, state: State) -> list[Message]:
    if message.get("type") == "event":
        other = next((n for n in state.node_ids if n != message.get("node")), "no-such-node")
        message = {**message, "node": other}
    return [message]


def _strip_resume(message: Message) -> None:
    message.pop("resume", None)


def _replay_twice(message: Message, state: State) -> list[Message]:
    """The first message replayed after a resumed welcome goes out twice."""
    if message.get("type") == "welcome" and message.get("resumed") is True:
        state.replaying = True
        return [message]
    if state.replaying and isinstance(message.get("seq"), int):
        state.replaying = False
        return [message, copy.deepcopy(message)]
    return [message]


def _reuse_id(message: Message) -> None:
    """The last node of a snapshot takes the id of the first one below the root."""
    root = message.get("root")
    nodes: list[Any] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            nodes.append(node)
            for child in node.get("children") or []:
                walk(child)

    walk(root)
    if len(nodes) >= 3:
        nodes[-1]["id"] = nodes[1]["id"]


def _unsubstitute(node: Any) -> None:
    """A fallback Column ({fallback: T}) goes back to type T: the server skipped PHL-HS-016."""
    if not isinstance(node, dict):
        return
    props = node.get("props")
    if (
        node.get("type") == "Column"
        and isinstance(props, dict)
        and isinstance(props.get("fallback"), str)
    ):
        node["type"] = props["fallback"]
        node["props"] = {k: v for k, v in props.items() if k != "fallback"}
    for child in node.get("children") or []:
        _unsubstitute(child)


def _skip_fallback(message: Message) -> None:
    _unsubstitute(message.get("root"))
    for op in message.get("ops") or []:
        for key in ("insert", "replace"):
            _unsubstitute(op.get(key))


def _drop_fallbacks(tree: Any, state: State) -> Any:
    """A renderer that crashes on an unknown component: the fallback and what is inside are gone."""
    tree = copy.deepcopy(tree)

    def prune(node: Any) -> None:
        if isinstance(node, dict):
            node["children"] = [
                c
                for c in node.get("children") or []
                if not (isinstance(c, dict) and c.get("fallback"))
            ]
            for child in node["children"]:
                prune(child)

    if isinstance(tree, dict) and tree.get("fallback"):
        return None
    prune(tree)
    return tree


def _note_values(message: Message, state: State) -> list[Message]:
    """Follows the wire `value` of every node (for `ignore-echo-rule`); changes nothing."""

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            props = node.get("props")
            if isinstance(props, dict) and isinstance(props.get("value"), str):
                state.wire_values[str(node.get("id"))] = props["value"]
            for child in node.get("children") or []:
                walk(child)

    walk(message.get("root"))
    for op in message.get("ops") or []:
        if isinstance(op.get("set"), dict) and isinstance(op["set"].get("value"), str):
            state.wire_values[str(op.get("id"))] = op["set"]["value"]
        walk(op.get("insert"))
        walk(op.get("replace"))
    return [message]


def _show_wire_values(tree: Any, state: State) -> Any:
    """A renderer that ignores the echo rule shows the tree's value, whatever the user typed."""
    tree = copy.deepcopy(tree)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("role") == "textbox" and node.get("id") in state.wire_values:
                node["value"] = state.wire_values[node["id"]]
            for child in node.get("children") or []:
                walk(child)

    walk(tree)
    return tree


MUTANTS: dict[str, Mutant] = {
    m.name: m
    for m in [
        Mutant("none", "the unmutated proxy: breaks nothing"),
        Mutant(
            "drop-patch",
            "every ui.patch is lost (later seqs renumbered)",
            s2c=_drop(lambda m: m.get("type") == "ui.patch"),
        ),
        Mutant(
            "duplicate-seq",
            "seq does not grow by 1: the second message repeats the first's seq",
            s2c=_duplicate_seq,
        ),
        Mutant(
            "wrong-base",
            "ui.patch.base is one more than the revision it applies to",
            s2c=_keep("ui.patch", _set("base", lambda b: b + 1)),
        ),
        Mutant(
            "reuse-event-ack",
            "an ack answering an event names the wrong event id",
            s2c=_keep("ack", _set("event", lambda e: e + 1)),
        ),
        Mutant(
            "swallow-error",
            "error messages are dropped (later seqs renumbered)",
            s2c=_drop(lambda m: m.get("type") == "error"),
        ),
        Mutant(
            "wrong-error-code", "errors carry another (valid) code", s2c=_keep("error", _wrong_code)
        ),
        Mutant(
            "no-pong",
            "pings go unanswered (server pongs, or a renderer's pongs, are dropped)",
            s2c=_drop(lambda m: m.get("type") == "pong"),
            c2s=_drop(lambda m: m.get("type") == "pong"),
        ),
        Mutant(
            "ignore-version",
            "welcome picks version 1.1, which the hello did not offer",
            s2c=_keep("welcome", _set("version", lambda v: "1.1")),
        ),
        Mutant(
            "drop-job-end",
            "a job's terminal job.state is lost (later seqs renumbered)",
            s2c=_drop(
                lambda m: m.get("type") == "job.state"
                and m.get("state") in ("succeeded", "failed", "cancelled", "interrupted")
            ),
        ),
        Mutant(
            "job-progress-halved",
            "every job.progress reports half its fraction",
            s2c=_keep("job.progress", _set("fraction", lambda f: f / 2)),
        ),
        Mutant(
            "forget-resume",
            "a resumed session's welcome says resumed false",
            s2c=_keep("welcome", _set("resumed", lambda r: False)),
        ),
        Mutant(
            "corrupt-snapshot-text",
            "Text in ui.snapshot (or in a renderer's snapshot) is altered",
            s2c=_keep("ui.snapshot", _corrupt_wire_text),
            tree=_corrupt_shown_text,
        ),
        Mutant(
            "renderer-no-resync",
            "the renderer's resync never leaves it",
            c2s=_drop(lambda m: m.get("type") == "resync"),
        ),
        Mutant(
            "renderer-wrong-node",
            "the renderer's events name another node than the one clicked",
            c2s=_wrong_node,
        ),
        Mutant(
            "renderer-no-resume",
            "the renderer's hello after a drop carries no resume",
            c2s=_keep("hello", _strip_resume),
        ),
        Mutant(
            "replay-twice",
            "the first message replayed after a resume is sent twice",
            s2c=_replay_twice,
        ),
        Mutant(
            "ignore-resume-token",
            "the server ignores the resume token (the proxy strips resume from hello)",
            c2s=_keep("hello", _strip_resume),
        ),
        Mutant(
            "reuse-node-id",
            "a snapshot's last node reuses the id of another node",
            s2c=_keep("ui.snapshot", _reuse_id),
        ),
        Mutant(
            "skip-fallback-substitution",
            "a fallback Column goes out as the original type (no PHL-HS-016)",
            s2c=lambda m, st: (
                _keep("ui.snapshot", _skip_fallback)(m, st)
                if m.get("type") == "ui.snapshot"
                else _keep("ui.patch", _skip_fallback)(m, st)
            ),
        ),
        Mutant(
            "renderer-crash-on-unknown",
            "the renderer shows nothing of a fallback (it failed on the unknown type)",
            tree=_drop_fallbacks,
        ),
        Mutant(
            "renderer-ignore-echo-rule",
            "the renderer's text fields show the tree's value over what the user typed",
            s2c=_note_values,
            tree=_show_wire_values,
        ),
    ]
}
