"""The **patches** generator: seeded renderer sessions, the runner playing the server.

A session is a random initial snapshot of core components (Column, Text, Button, TextInput,
Link; a Column root), then up to ``MAX_PATCHES`` random ``ui.patch`` messages (set, unset,
insert, remove, move within or between parents, replace; ``base`` the previous revision,
``rev`` greater), each operation generated against the runner's own reference tree
(:mod:`.tree`) so that every patch applies. After the snapshot and after every patch a
``render`` step expects the semantic projection of the reduced tree, derived from the component
pages' projection tables (Column -> group; Text -> text; Button -> button, name = label,
enabled = not disabled; TextInput -> textbox, name = label, value = props.value, enabled; Link
-> link, name = text, href); fields a projection does not name must be absent. At the end a
fresh ``ui.snapshot`` (a new revision) of the very same tree must project identically
(metamorphic: patched = fresh snapshot), and a barrier shows the renderer asked for nothing
(no ``resync``).

Nothing is typed, so a TextInput shows ``props.value`` (the echo rule does not come in), and a
Link's ``href`` is always an absolute https URL already in the form a URL parser gives back, so
the projected ``href`` is ``props.href``. Text, labels and values have no leading, trailing or
doubled spaces (a DOM projection collapses them) and are never empty (an empty label would
leave a field named by its placeholder).

Plain data only (a root node, a list of ``{rev, ops}``): :mod:`.generate` wraps it in a
``Script``, runs it and shrinks it with :func:`.generate_renderer_shrink.smaller`.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from typing import Any

from .components import LEAVES, choices, fields, optional, random_props
from .tree import Tree, normalize

Node = dict[str, Any]
Op = dict[str, Any]
Patch = dict[str, Any]  # {"rev": int, "ops": [Op, ...]}; base is the previous patch's rev

TYPES = ("Column", *LEAVES)  # the core catalog (catalog_gen), Column first
WORDS = (
    "alpha",
    "beta",
    "gamma",
    "delta",
    "eins",
    "zwei",
    "ünï",
    "日本",
    "a b",
    "<b>x</b>",
    "1 < 2 & 3",
)
# Absolute https URLs in the form the WHATWG URL parser serialises them (a path, lower-case
# host, nothing to escape): the projected href is the prop itself.
HREFS = (
    "https://example.com/",
    "https://phloem.dev/docs",
    "https://example.org/a/b?q=1#top",
    "https://example.net/x-y_z.html",
)
OPTIONAL = {kind: optional(kind) for kind in TYPES}
FIELDS = (
    "text",
    "name",
    "value",
    "href",
    "enabled",
    "fallback",
)  # a semantic node's optional fields
MAX_NODES = 25
MAX_PATCHES = 8
REQUIREMENTS = [
    "PHL-PATCH-001",
    "PHL-PATCH-003",
    "PHL-PATCH-004",
    "PHL-PATCH-005",
    "PHL-PATCH-006",
    "PHL-PATCH-007",
    "PHL-PATCH-010",
    "PHL-COMP-005",
]
WELCOME = {
    "type": "welcome",
    "version": "1.0",
    "session": "s-gen",
    "token": "t-generated-0123456789",
    "limits": {"max_frame_bytes": 65536, "max_events_per_second": 50},
}


# ---- the projection ----------------------------------------------------------------------


def projection(node: Node) -> Node:
    """The semantic node a renderer shows for ``node`` (component pages, "Observable projection")."""
    kind, props = node["type"], node.get("props") or {}
    out: Node = {"id": node["id"], "type": kind}
    out.update(fields(kind, props))  # the schema's projection rules (catalog_gen)
    out["children"] = [projection(c) for c in node.get("children") or []]
    return out


def expected(node: Node) -> Node:
    """The ``render`` pattern: the projection, with every field it does not name ``$absent``."""
    semantic = projection(node)

    def pattern(sem: Node) -> Node:
        out = {k: v for k, v in sem.items() if k != "children"}
        out.update({f: {"$absent": True} for f in FIELDS if f not in sem})
        out["children"] = [pattern(c) for c in sem["children"]]
        return out

    return pattern(semantic)


# ---- trees and ops -----------------------------------------------------------------------


def walk(node: Node, parent: Node | None = None) -> Iterator[tuple[Node, Node | None]]:
    yield node, parent
    for child in node.get("children") or []:
        yield from walk(child, node)


def count(node: Node) -> int:
    return sum(1 for _ in walk(node))


def ids(node: Node) -> set[str]:
    return {n["id"] for n, _ in walk(node)}


def apply(root: Node, ops: list[Op]) -> Node:
    """``root`` after ``ops``, by the runner's reference tree; PatchError when they do not apply."""
    tree = Tree()
    tree.snapshot(root, 0)
    tree.apply({"base": 0, "rev": 1, "ops": ops})
    assert tree.root is not None
    return tree.root


class PatchGen:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.next_id = 0

    def fresh_id(self) -> str:
        self.next_id += 1
        return self.rng.choice(["n", "node-", "x.", "k:", "p/", "_"]) + str(self.next_id)

    def word(self) -> str:
        return self.rng.choice(WORDS)

    def props(self, kind: str) -> dict[str, Any]:
        rng = self.rng
        out: dict[str, Any]
        if kind == "Text":
            out = {"text": f"{self.word()} {rng.randrange(100)}"}
            if rng.random() < 0.3:
                out["variant"] = rng.choice(choices("Text", "variant"))
        elif kind == "Button":
            out = {"label": self.word()}
            if rng.random() < 0.4:
                out["disabled"] = rng.random() < 0.5
            if rng.random() < 0.2:
                out["variant"] = rng.choice(choices("Button", "variant"))
        elif kind == "TextInput":
            out = {"label": self.word()}
            if rng.random() < 0.7:
                out["value"] = rng.choice(["", *WORDS])
            if rng.random() < 0.3:
                out["placeholder"] = self.word()
            if rng.random() < 0.3:
                out["disabled"] = rng.random() < 0.5
        elif kind == "Link":
            out = {"text": self.word(), "href": rng.choice(HREFS)}
        elif kind == "Column":
            out = {}
            if rng.random() < 0.4:
                out["gap"] = rng.randrange(0, 33)
            if rng.random() < 0.3:
                out["align"] = rng.choice(choices("Column", "align"))
        else:  # drawn from its props schema
            out = random_props(kind, rng, self.word)
        return out

    def node(self, budget: list[int], depth: int, node_id: str | None = None) -> Node:
        budget[0] -= 1
        column = depth < 4 and self.rng.random() < 0.3
        kind = "Column" if column else self.rng.choice(TYPES[1:])
        node: Node = {"id": node_id or self.fresh_id(), "type": kind, "props": self.props(kind)}
        if kind == "Column":
            node["children"] = []
            for _ in range(self.rng.randrange(0, 4)):
                if budget[0] <= 0:
                    break
                node["children"].append(self.node(budget, depth + 1))
        return node

    def column(self, node_id: str, budget: int) -> Node:
        """A Column with children up to ``budget`` nodes in all (the root, or its replacement)."""
        left = [budget - 1]
        children: list[Node] = []
        while left[0] > 0 and len(children) < 5:
            children.append(self.node(left, 2))
        return {
            "id": node_id,
            "type": "Column",
            "props": self.props("Column"),
            "children": children,
        }

    def initial(self) -> Node:
        return self.column("root", self.rng.randrange(2, 14))

    def op(self, root: Node) -> Op:
        """One random operation that applies to ``root`` (normalized)."""
        rng = self.rng
        entries = list(walk(root))
        size = len(entries)
        depth = {n["id"]: 0 for n, _ in entries}
        for n, p in entries:
            if p is not None:
                depth[n["id"]] = depth[p["id"]] + 1
        columns = [n for n, _ in entries if n["type"] == "Column"]
        placed = [(n, p) for n, p in entries if p is not None]
        what = rng.choice(
            ["set", "set", "unset", "insert", "insert", "remove", "move", "move", "replace"]
        )
        if what == "insert" and size < MAX_NODES:
            parent = rng.choice(columns)
            budget = [min(rng.randrange(1, 4), MAX_NODES - size)]
            return {
                "id": parent["id"],
                "index": rng.randrange(len(parent["children"]) + 1),
                "insert": self.node(budget, depth[parent["id"]] + 1),
            }
        if what == "remove" and placed:
            return {"id": rng.choice(placed)[0]["id"], "remove": True}
        if what == "move" and placed:
            node, parent = rng.choice(placed)
            inside = ids(node)
            others = [c for c in columns if c["id"] not in inside and c is not parent]
            assert parent is not None
            target = rng.choice(others) if others and rng.random() < 0.6 else parent
            room = len(target["children"]) - (1 if target is parent else 0)
            return {"id": node["id"], "move": target["id"], "index": rng.randrange(room + 1)}
        if what == "replace":  # the root now and then (it takes the whole tree along)
            old, above = rng.choice(placed) if placed and rng.random() < 0.9 else entries[0]
            keep = rng.random() < 0.5
            room = MAX_NODES - size + count(old)
            if above is None:
                fresh = self.column(old["id"] if keep else self.fresh_id(), min(room, 6))
            else:
                budget = [min(rng.randrange(1, 4), room)]
                fresh = self.node(budget, depth[old["id"]], old["id"] if keep else None)
            return {"id": old["id"], "replace": fresh}
        if what == "unset":
            having = [(n, [k for k in OPTIONAL[n["type"]] if k in n["props"]]) for n, _ in entries]
            having = [(n, keys) for n, keys in having if keys]
            if having:
                node, keys = rng.choice(having)
                return {
                    "id": node["id"],
                    "unset": rng.sample(keys, rng.randrange(1, len(keys) + 1)),
                }
        node = rng.choice(entries)[0]
        new = self.props(node["type"])
        if not new:  # a Column that drew no optional prop
            new = {"gap": rng.randrange(0, 33)}
        keys = rng.sample(sorted(new), rng.randrange(1, len(new) + 1))
        return {"id": node["id"], "set": {k: new[k] for k in keys}}

    def patches(self, root: Node, rev: int) -> list[Patch]:
        out: list[Patch] = []
        current = normalize(root)
        for _ in range(self.rng.randrange(1, MAX_PATCHES + 1)):
            ops: list[Op] = []
            for _ in range(self.rng.randrange(1, 4)):
                op = self.op(current)
                current = apply(current, [op])  # the next op is generated against the result
                ops.append(op)
            rev += 1 if self.rng.random() < 0.85 else self.rng.randrange(2, 4)  # PHL-PATCH-010
            out.append({"rev": rev, "ops": ops})
        return out


def generate(seed: int, index: int) -> tuple[Node, list[Patch]]:
    """The initial root (at revision 1) and the patches of session ``index`` of ``seed``."""
    rng = random.Random(f"patches/{seed}/{index}")
    gen = PatchGen(rng)
    root = gen.initial()
    return root, gen.patches(root, 1)


# ---- as a case ---------------------------------------------------------------------------


def steps(root: Node, patches: list[Patch]) -> list[dict[str, Any]]:
    """The case's steps (roles: [renderer]); every s2c gets its seq from the runner."""
    tree = Tree()
    tree.snapshot(root, 1)
    out: list[dict[str, Any]] = [
        {"c2s": {"type": "hello", "versions": {"$contains": ["1.0"]}}},
        {"s2c": dict(WELCOME)},
        {"s2c": {"type": "ui.snapshot", "rev": 1, "root": copy.deepcopy(root)}},
        {"render": expected(root)},
    ]
    for patch in patches:
        message = {"type": "ui.patch", "base": tree.rev, "rev": patch["rev"], "ops": patch["ops"]}
        tree.apply(message)
        assert tree.root is not None
        out += [{"s2c": copy.deepcopy(message)}, {"render": expected(tree.root)}]
    final = tree.root
    assert final is not None and tree.rev is not None
    out += [
        {"render": {"$bind": "patched"}, "note": "the projection the patches built"},
        {
            "s2c": {"type": "ui.snapshot", "rev": tree.rev + 1, "root": final},
            "note": "a fresh snapshot of the very same tree, at a new revision",
        },
        {"render": expected(final)},
        {
            "render": {"$bind": "patched"},
            "note": "metamorphic: the fresh snapshot projects exactly as the patched tree did",
        },
        {"barrier": {}, "note": "every patch applied: no resync, nothing else"},
    ]
    return list(json.loads(json.dumps(out)))  # no shared objects: YAML would write them as aliases
