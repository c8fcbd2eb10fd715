"""Generated cases: seeded random sessions, run like written cases, shrunk when they fail.

Two generators for the sdk and server roles (design record, issue 3, §6), one for renderers:

- **trees** (fixture ``tree-echo``): a sequence of ``set`` events, each a random tree of
  Column/Text/Button derived from the previous one (ids kept or changed, nodes moved, removed,
  added, props changed). Each answer's effect on the runner's reference tree must be the tree
  described; at the end a ``resync`` must bring a snapshot *equal* to the tree the runner built
  from the patches (``$reduced``, metamorphic: patched result = fresh snapshot);
- **malformed** (any fixture, ``counter``): frames that are not JSON, JSON of the wrong shape,
  an unknown type, a frame over ``max_frame_bytes``; each must be answered with its error code
  and the session must still answer a ping;
- **patches** (renderer role, :mod:`.generate_renderer`): the runner plays the server, sends a
  random snapshot and random valid patches, and expects after each the projection of the tree
  it reduced; a fresh snapshot of the final tree must project identically.

A generated session is a :class:`Script`; it becomes an ordinary case (``to_case``), so a
failure is reported with the same first divergence as any case. A failing script is shrunk
(fewer events, smaller trees, fewer props) to a minimal one that still fails, and written out
as a YAML case.
"""

from __future__ import annotations

import copy
import itertools
import json
import random
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import generate_renderer, generate_renderer_shrink
from .cases import Case
from .components import choices
from .runner import CaseResult, Runner

Node = dict[str, Any]
TYPES = ("Column", "Text", "Button")
WORDS = ("alpha", "beta", "gamma", "delta", "eins", "zwei", "ünï", "日本", "a b", "")
MAX_NODES = 40  # well below tree-echo's max_tree_nodes (100)


@dataclass
class Script:
    """One generated session. ``kind`` trees: ``sets`` is the list of described child lists;
    kind malformed: ``frames`` is a list of (raw frame, expected error code); kind patches
    (renderer): ``root`` the initial snapshot's root, ``patches`` a list of ``{rev, ops}``."""

    kind: str
    seed: int
    index: int
    sets: list[list[Node]] = field(default_factory=list)
    frames: list[tuple[Any, str]] = field(default_factory=list)
    root: Node | None = None
    patches: list[dict[str, Any]] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"generated-{self.kind}-{self.seed}-{self.index}"

    def size(self) -> int:
        """What the shrinker makes smaller: events, then nodes and props."""
        if self.kind == "patches":
            assert self.root is not None
            return generate_renderer_shrink.size(self.root, self.patches)
        return (
            len(self.sets) * 1000 + sum(_count(n) for s in self.sets for n in s) + len(self.frames)
        )


# ---- random trees ------------------------------------------------------------------------


class TreeGen:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.next_id = 0

    def fresh_id(self) -> str:
        self.next_id += 1
        return self.rng.choice(["n", "node-", "x.", "k:", "p/"]) + str(self.next_id)

    def props(self, kind: str) -> dict[str, Any]:
        rng = self.rng
        if kind == "Text":
            out: dict[str, Any] = {"text": rng.choice(WORDS) + str(rng.randrange(100))}
            if rng.random() < 0.3:
                out["variant"] = rng.choice(choices("Text", "variant"))
        elif kind == "Button":
            out = {"label": rng.choice(WORDS) or "ok"}
            if rng.random() < 0.3:
                out["disabled"] = rng.random() < 0.5
        else:
            out = {}
            if rng.random() < 0.4:
                out["gap"] = rng.randrange(0, 32)
            if rng.random() < 0.3:
                out["align"] = rng.choice(choices("Column", "align"))
        return out

    def node(self, budget: list[int], depth: int) -> Node:
        budget[0] -= 1
        kind = "Column" if depth < 3 and self.rng.random() < 0.35 else self.rng.choice(TYPES[1:])
        node: Node = {
            "id": self.fresh_id(),
            "type": kind,
            "props": self.props(kind),
            "children": [],
        }
        if kind == "Column":
            for _ in range(self.rng.randrange(0, 4)):
                if budget[0] <= 0:
                    break
                node["children"].append(self.node(budget, depth + 1))
        return node

    def forest(self) -> list[Node]:
        budget = [self.rng.randrange(1, MAX_NODES // 2)]
        out: list[Node] = []
        while budget[0] > 0 and len(out) < 6:
            out.append(self.node(budget, 1))
        return out

    def mutate(self, forest: list[Node]) -> list[Node]:
        """The next tree: a few random edits of the previous one (ids mostly stable)."""
        rng = self.rng
        forest = copy.deepcopy(forest)
        for _ in range(rng.randrange(1, 4)):
            lists = list(_child_lists(forest))
            nodes = [n for n in _walk(forest)]
            op = rng.choice(
                ["prop", "prop", "add", "remove", "move", "reorder", "rename", "retype"]
            )
            if op == "add" and sum(_count(n) for n in forest) < MAX_NODES:
                target = rng.choice(lists)
                target.insert(rng.randrange(len(target) + 1), self.node([rng.randrange(1, 4)], 2))
            elif not nodes:
                forest.append(self.node([2], 1))
            elif op == "prop":
                node = rng.choice(nodes)
                node["props"] = self.props(node["type"])
            elif op == "remove":
                victim = rng.choice(nodes)
                _remove(forest, victim)
            elif op == "move":
                mover = rng.choice(nodes)
                _remove(forest, mover)
                inside = {id(n) for n in _walk([mover])}
                targets = [
                    lst for lst in _child_lists(forest) if id(lst) not in _lists_of(inside, forest)
                ]
                target = rng.choice(targets)
                target.insert(rng.randrange(len(target) + 1), mover)
            elif op == "reorder":
                target = rng.choice(lists)
                rng.shuffle(target)
            elif op == "rename":
                rng.choice(nodes)["id"] = self.fresh_id()
            elif op == "retype":
                node = rng.choice([n for n in nodes if not n["children"]] or nodes)
                if not node["children"]:
                    node["type"] = rng.choice(TYPES)
                    node["props"] = self.props(node["type"])
        return forest


def _walk(forest: list[Node]) -> Iterator[Node]:
    for node in forest:
        yield node
        yield from _walk(node["children"])


def _child_lists(forest: list[Node]) -> Iterator[list[Node]]:
    yield forest
    for node in _walk(forest):
        if node["type"] == "Column":
            yield node["children"]


def _lists_of(node_ids: set[int], forest: list[Node]) -> set[int]:
    return {id(n["children"]) for n in _walk(forest) if id(n) in node_ids}


def _remove(forest: list[Node], victim: Node) -> None:
    for lst in _child_lists(forest):
        for i, node in enumerate(lst):
            if node is victim:
                del lst[i]
                return


def _count(node: Node) -> int:
    return 1 + sum(_count(c) for c in node.get("children", []))


def tree_script(seed: int, index: int, events: int = 8) -> Script:
    rng = random.Random(f"trees/{seed}/{index}")
    gen = TreeGen(rng)
    sets = [gen.forest()]
    for _ in range(rng.randrange(1, events)):
        nxt = gen.mutate(sets[-1])
        if nxt == sets[-1]:  # tree-echo answers an unchanged tree with a bare ack
            nxt.append(gen.node([1], 1))
        sets.append(nxt)
    return Script("trees", seed, index, sets=sets)


# ---- malformed messages ------------------------------------------------------------------


def _malformed(rng: random.Random) -> tuple[Any, str]:
    valid = rng.choice([{"type": "ping", "id": "m"}, {"type": "resync"}, {"type": "ack", "seq": 1}])
    text = json.dumps(valid)
    choice = rng.randrange(9)
    if choice == 0:
        return text[: rng.randrange(1, len(text))], "malformed_frame"  # truncated JSON
    if choice == 1:
        return rng.choice(
            ["[]", "42", '"hello"', "null", "{", "}{", "\u00e9t\u00e9", "{'type': 'ping'}"]
        ), "malformed_frame"
    if choice == 2:
        return {
            "type": rng.choice(["pong.pong", "job.cancel", "x", "PING", "hello2"])
        }, "unknown_message_type"
    if choice == 3:
        return {
            "type": "event",
            "id": rng.choice(["1", 1.5, None, [1]]),
            "node": "n",
            "name": "click",
        }, "invalid_message"
    if choice == 4:
        return {
            "type": "event",
            "id": rng.randrange(1000, 2000),
            "name": "click",
        }, "invalid_message"  # no node
    if choice == 5:
        return {"type": "ack", "seq": rng.choice(["1", None, [], {}])}, "invalid_message"
    if choice == 6:
        return {"type": "resync", "rev": rng.choice(["1", [], {}, 1.5])}, "invalid_message"
    if choice == 7:
        return {"type": "ping", "id": rng.choice([[1], {"x": 1}, True])}, "invalid_message"
    return {
        "$pad_to_bytes": {
            "message": {"type": "ping", "id": "big"},
            "bytes": "$ref:max_frame",
            "plus": rng.randrange(1, 64),
        }
    }, "frame_too_large"


def malformed_script(seed: int, index: int) -> Script:
    rng = random.Random(f"malformed/{seed}/{index}")
    return Script(
        "malformed", seed, index, frames=[_malformed(rng) for _ in range(rng.randrange(1, 6))]
    )


def patch_script(seed: int, index: int) -> Script:
    root, patches = generate_renderer.generate(seed, index)
    return Script("patches", seed, index, root=root, patches=patches)


def scripts(seed: int, count: int, target: str | None = None) -> list[Script]:
    """``count`` scripts; the same seed gives the same scripts. For a renderer, patches; else
    trees and malformed alternating."""
    if target == "renderer":
        return [patch_script(seed, i) for i in range(count)]
    return [tree_script(seed, i) if i % 2 == 0 else malformed_script(seed, i) for i in range(count)]


# ---- scripts as cases --------------------------------------------------------------------


def to_case(script: Script, folder: Path | None = None) -> Case:
    base = {
        "id": script.id,
        "rev": 1,
        "level": "MUST",
        "since": "1.0",
        "roles": ["server", "sdk"],
        "profile": "core",
    }
    hello: list[dict[str, Any]] = [{"c2s": {"type": "hello", "versions": ["1.0"]}}]
    if script.kind == "patches":
        assert script.root is not None
        data = {
            **base,
            "title": f"Generated (seed {script.seed}): a renderer shows the tree its patches build, "
            "as a fresh snapshot of it",
            "requirements": [
                "PHL-PATCH-001",
                "PHL-PATCH-003",
                "PHL-PATCH-004",
                "PHL-PATCH-005",
                "PHL-PATCH-006",
                "PHL-PATCH-007",
                "PHL-PATCH-010",
                "PHL-COMP-005",
            ],
            "roles": ["renderer"],
            "steps": generate_renderer.steps(script.root, script.patches),
        }
    elif script.kind == "trees":
        steps = [
            *hello,
            {"s2c": {"type": "welcome", "version": "1.0"}},
            {"s2c": {"type": "ui.snapshot", "root": {"id": "$bind:root"}}},
        ]
        for event_id, children in enumerate(script.sets, start=1):
            steps.append(
                {
                    "c2s": {
                        "type": "event",
                        "id": event_id,
                        "node": "$ref:root",
                        "name": "set",
                        "value": children,
                    }
                }
            )
            steps.append(
                {
                    "s2c": {
                        "type": "ui.patch",
                        "event": event_id,
                        "$effect": {"id": "$ref:root", "children": [_exact(n) for n in children]},
                    }
                }
            )
        steps += [
            {"c2s": {"type": "resync"}},
            {"s2c": {"type": "ui.snapshot", "$reduced": True}},
            {"barrier": {}},
        ]
        data = {
            **base,
            "title": f"Generated (seed {script.seed}): patches build the tree a resync sends",
            "requirements": ["PHL-PATCH-001", "PHL-PATCH-011", "PHL-TREE-002"],
            "fixture": "tree-echo",
            "steps": steps,
        }
    else:
        steps = [
            *hello,
            {
                "s2c": {
                    "type": "welcome",
                    "version": "1.0",
                    "limits": {"max_frame_bytes": "$bind:max_frame"},
                }
            },
            {"s2c": {"type": "ui.snapshot"}},
        ]
        for frame, code in script.frames:
            steps.append({"c2s_raw": frame})
            steps.append({"s2c": {"type": "error", "code": code, "fatal": {"$not": True}}})
        steps += [
            {"c2s": {"type": "ping", "id": "alive"}},
            {"s2c": {"type": "pong", "id": "alive"}},
        ]
        data = {
            **base,
            "title": f"Generated (seed {script.seed}): malformed frames get their codes, the session lives",
            "requirements": ["PHL-ERR-001", "PHL-ERR-002"],
            "fixture": "counter",
            "steps": steps,
        }
    where = (folder or Path("generated")) / f"{script.id}.yaml"
    return Case(data, where, "generated")


def _exact(node: Node) -> Node:
    """The pattern a described node must produce: its id, type and props, and exactly its children."""
    return {
        "id": node["id"],
        "type": node["type"],
        "props": dict(node.get("props", {})),
        "children": [_exact(c) for c in node.get("children", [])],
    }


class _Dumper(yaml.SafeDumper):
    """Block style, but a mapping of scalars (props, a leaf of a projection) on one line."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _leafy(value: Any) -> bool:
    def scalar(v: Any) -> bool:
        return not isinstance(v, (dict, list)) or not v

    return all(
        scalar(v) or (isinstance(v, dict) and all(scalar(x) for x in v.values()))
        for v in value.values()
    )


_Dumper.add_representer(
    dict,
    lambda dumper, data: dumper.represent_mapping(
        "tag:yaml.org,2002:map", data.items(), flow_style=bool(data) and _leafy(data)
    ),
)


def dump_case(case: Case, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# Written by phloem-conformance generate: the minimal failing session.\n"
        + yaml.dump(case.data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120),
        encoding="utf-8",
    )


# ---- shrinking ---------------------------------------------------------------------------


def candidates(script: Script) -> Iterator[Script]:
    """Smaller variants that are still well-formed sessions (every ``set`` changes the tree,
    or tree-echo would answer with a bare ack; every patch applies), the biggest cuts first."""
    if script.kind == "patches":
        assert script.root is not None
        for root, patches in generate_renderer_shrink.smaller(script.root, script.patches):
            yield Script(script.kind, script.seed, script.index, root=root, patches=patches)
        return
    for candidate in _smaller(script):
        sets = [[], *candidate.sets]
        if all(a != b for a, b in itertools.pairwise(sets)):
            yield candidate


def _smaller(script: Script) -> Iterator[Script]:
    """Smaller variants, the biggest cuts first: fewer events/frames, fewer nodes, fewer props."""
    if script.kind == "malformed":
        for i in range(len(script.frames)):
            if len(script.frames) > 1:
                yield Script(
                    script.kind,
                    script.seed,
                    script.index,
                    frames=script.frames[:i] + script.frames[i + 1 :],
                )
        return
    sets = script.sets
    if len(sets) > 1:
        half = len(sets) // 2
        yield _with(script, sets[half:])
        yield _with(script, sets[:half])
    for i in range(len(sets)):
        if len(sets) > 1:
            yield _with(script, sets[:i] + sets[i + 1 :])
    for i, forest in enumerate(sets):
        for path in _paths(forest):
            smaller = copy.deepcopy(forest)
            _drop_at(smaller, path)
            yield _with(script, [*sets[:i], smaller, *sets[i + 1 :]])
    for i, forest in enumerate(sets):  # a node replaced by one of its children (unwrapping)
        for path in _paths(forest):
            for k in range(len(_at(forest, path)["children"])):
                smaller = copy.deepcopy(forest)
                lst = smaller if len(path) == 1 else _at(smaller, path[:-1])["children"]
                lst[path[-1]] = lst[path[-1]]["children"][k]
                yield _with(script, [*sets[:i], smaller, *sets[i + 1 :]])
    for i, forest in enumerate(sets):
        for path in _paths(forest):
            node = _at(forest, path)
            for key in node.get("props", {}):
                if key in ("text", "label"):
                    continue  # required props
                smaller = copy.deepcopy(forest)
                del _at(smaller, path)["props"][key]
                yield _with(script, [*sets[:i], smaller, *sets[i + 1 :]])


def _with(script: Script, sets: list[list[Node]]) -> Script:
    return Script(script.kind, script.seed, script.index, sets=sets)


def _paths(forest: list[Node], prefix: tuple[int, ...] = ()) -> Iterator[tuple[int, ...]]:
    for i, node in enumerate(forest):
        yield (*prefix, i)
        yield from _paths(node.get("children", []), (*prefix, i))


def _at(forest: list[Node], path: tuple[int, ...]) -> Node:
    node = forest[path[0]]
    for i in path[1:]:
        node = node["children"][i]
    return node


def _drop_at(forest: list[Node], path: tuple[int, ...]) -> None:
    lst = forest if len(path) == 1 else _at(forest, path[:-1])["children"]
    del lst[path[-1]]


async def shrink(
    script: Script, fails: Callable[[Script], Awaitable[bool]], budget: int = 400
) -> tuple[Script, int]:
    """The smallest variant of ``script`` that still fails (greedy, first improvement), and the
    number of runs it took. ``fails`` runs a script against the implementation."""
    runs = 0
    improved = True
    while improved and runs < budget:
        improved = False
        for candidate in candidates(script):
            if runs >= budget:
                break
            runs += 1
            if await fails(candidate):
                script, improved = candidate, True
                break
    return script, runs


# ---- running -----------------------------------------------------------------------------


@dataclass
class Generated:
    script: Script
    result: CaseResult  # of the script as generated, or of the shrunk script when it failed
    shrunk_from: int | None = None  # size before shrinking
    shrink_runs: int = 0
    written: Path | None = None


async def run_generated(
    runner: Runner,
    seed: int,
    count: int,
    out: Path | None,
    *,
    shrink_timeout: float | None = None,
) -> list[Generated]:
    """Run ``count`` generated scripts; shrink each one that fails and write the minimal one
    to ``out/<id>.yaml`` (its result, the shrunk session's, goes in the report).

    While shrinking, expectations wait ``shrink_timeout`` seconds (by default a quarter of the
    step timeout, at least a second): a failing ``render`` or ``$effect`` retries until its
    deadline, and many candidates fail.
    The minimal script is then run again with the full timeout; should it not fail the same
    way there (a slow IUT), the script as generated and its result stand."""
    results = []
    for script in scripts(seed, count, runner.target):
        result = await runner.run_case(to_case(script, out))
        item = Generated(script, result)
        if result.status == "FAIL":
            signature = _signature(result)

            async def fails(candidate: Script, signature: Any = signature) -> bool:
                """Fails the same way (same kind of divergence), not some other way."""
                outcome = await runner.run_case(to_case(candidate, out))
                return bool(_signature(outcome) == signature)

            full = runner.step_timeout
            runner.step_timeout = shrink_timeout or min(full, max(1.0, full / 4))
            try:
                budget = SHRINK_BUDGET.get(runner.target, 400)
                small, item.shrink_runs = await shrink(script, fails, budget)
            finally:
                runner.step_timeout = full
            confirmed = await runner.run_case(to_case(small, out))
            if _signature(confirmed) == signature:
                item.shrunk_from, item.script, item.result = script.size(), small, confirmed
            if out is not None:
                item.written = out / f"{item.script.id}.yaml"
                dump_case(item.result.case, item.written)
        results.append(item)
    return results


SHRINK_BUDGET = {"renderer": 150}  # runs; a browser renderer takes a second or so per run


def _signature(result: CaseResult) -> Any:
    if result.status != "FAIL":
        return None
    return (result.status, (result.divergence or {}).get("kind"))
