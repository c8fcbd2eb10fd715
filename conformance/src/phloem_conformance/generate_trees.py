"""The **trees** generator (sdk and server roles, fixture ``tree-echo``): plain data only.

A session is a list of ``set`` events, each a random forest of Column/Text/Button derived from
the previous one (ids kept or changed, nodes moved, removed, added, props changed). Each answer's
effect on the runner's reference tree must be the forest described; at the end a ``resync``
must bring a snapshot *equal* to the tree the runner built from the patches (``$reduced``,
metamorphic: patched result = fresh snapshot). :mod:`.generate` wraps the forests in a
``Script``, runs them and shrinks them with :func:`smaller`.
"""

from __future__ import annotations

import copy
import itertools
import random
from collections.abc import Iterator
from typing import Any

from .components import choices

Node = dict[str, Any]
Forest = list[Node]
TYPES = ("Column", "Text", "Button")
WORDS = ("alpha", "beta", "gamma", "delta", "eins", "zwei", "ünï", "日本", "a b", "")
MAX_NODES = 40  # well below tree-echo's max_tree_nodes (100)
REQUIREMENTS = ["PHL-PATCH-001", "PHL-PATCH-011", "PHL-TREE-002"]


class TreeGen:
    """Random forests and random edits of them, ids mostly stable between edits."""

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


def generate(seed: int, index: int, events: int = 8) -> list[Forest]:
    """The forests of one session's ``set`` events; the same seed and index give the same."""
    rng = random.Random(f"trees/{seed}/{index}")
    gen = TreeGen(rng)
    sets = [gen.forest()]
    for _ in range(rng.randrange(1, events)):
        nxt = gen.mutate(sets[-1])
        if nxt == sets[-1]:  # tree-echo answers an unchanged tree with a bare ack
            nxt.append(gen.node([1], 1))
        sets.append(nxt)
    return sets


def size(sets: list[Forest]) -> int:
    """What the shrinker makes smaller: events first, then nodes."""
    return len(sets) * 1000 + sum(_count(n) for s in sets for n in s)


def steps(sets: list[Forest]) -> list[dict[str, Any]]:
    """The session as case steps: each ``set`` answered by a patch whose effect is the forest."""
    out: list[dict[str, Any]] = [
        {"c2s": {"type": "hello", "versions": ["1.0"]}},
        {"s2c": {"type": "welcome", "version": "1.0"}},
        {"s2c": {"type": "ui.snapshot", "root": {"id": "$bind:root"}}},
    ]
    for event_id, children in enumerate(sets, start=1):
        out.append(
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
        out.append(
            {
                "s2c": {
                    "type": "ui.patch",
                    "event": event_id,
                    "$effect": {"id": "$ref:root", "children": [_exact(n) for n in children]},
                }
            }
        )
    out += [
        {"c2s": {"type": "resync"}},
        {"s2c": {"type": "ui.snapshot", "$reduced": True}},
        {"barrier": {}},
    ]
    return out


def _exact(node: Node) -> Node:
    """The pattern a described node must produce: its id, type and props, and exactly its children."""
    return {
        "id": node["id"],
        "type": node["type"],
        "props": dict(node.get("props", {})),
        "children": [_exact(c) for c in node.get("children", [])],
    }


# ---- shrinking ---------------------------------------------------------------------------


def smaller(sets: list[Forest]) -> Iterator[list[Forest]]:
    """Smaller sessions that are still well-formed (every ``set`` changes the tree, or
    tree-echo would answer with a bare ack), the biggest cuts first."""
    for candidate in _variants(sets):
        if all(a != b for a, b in itertools.pairwise([[], *candidate])):
            yield candidate


def _variants(sets: list[Forest]) -> Iterator[list[Forest]]:
    """Fewer events, fewer nodes, nodes unwrapped, fewer props."""
    if len(sets) > 1:
        half = len(sets) // 2
        yield sets[half:]
        yield sets[:half]
    for i in range(len(sets)):
        if len(sets) > 1:
            yield sets[:i] + sets[i + 1 :]
    for i, forest in enumerate(sets):
        for path in _paths(forest):
            cut = copy.deepcopy(forest)
            _drop_at(cut, path)
            yield [*sets[:i], cut, *sets[i + 1 :]]
    for i, forest in enumerate(sets):  # a node replaced by one of its children (unwrapping)
        for path in _paths(forest):
            for k in range(len(_at(forest, path)["children"])):
                cut = copy.deepcopy(forest)
                lst = cut if len(path) == 1 else _at(cut, path[:-1])["children"]
                lst[path[-1]] = lst[path[-1]]["children"][k]
                yield [*sets[:i], cut, *sets[i + 1 :]]
    for i, forest in enumerate(sets):
        for path in _paths(forest):
            node = _at(forest, path)
            for key in node.get("props", {}):
                if key in ("text", "label"):
                    continue  # required props
                cut = copy.deepcopy(forest)
                del _at(cut, path)["props"][key]
                yield [*sets[:i], cut, *sets[i + 1 :]]


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
