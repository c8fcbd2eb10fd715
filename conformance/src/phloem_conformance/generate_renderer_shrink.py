"""Shrinking a generated renderer session (:mod:`.generate_renderer`) to a smaller one that
is still valid: every patch applies to the reference tree."""

from __future__ import annotations

import copy
from collections.abc import Iterator

from .generate_renderer import OPTIONAL, Node, Op, Patch, apply, walk
from .tree import PatchError, normalize


def size(root: Node, patches: list[Patch]) -> int:
    """What the shrinker makes smaller: patches, then operations, then nodes and props."""
    nodes = [root, *(op.get("insert") or op.get("replace") for p in patches for op in p["ops"])]
    weight = sum(
        10 + len(n.get("props") or {}) for tree in nodes if tree is not None for n, _ in walk(tree)
    )
    keys = sum(len(op.get("set") or op.get("unset") or ()) for p in patches for op in p["ops"])
    skips = sum(int(p["rev"]) - (i + 2) for i, p in enumerate(patches))  # revs beyond base + 1
    ops = sum(len(p["ops"]) for p in patches)
    return 1000 * len(patches) + 100 * ops + weight + keys + skips


def repair(root: Node, patches: list[Patch]) -> list[Patch]:
    """The patches with every operation that no longer applies left out (an index past the
    end is brought to the end), and the patches left empty dropped."""
    current = normalize(root)
    out: list[Patch] = []
    for patch in patches:
        kept = []
        for op in patch["ops"]:
            op = _clamped(current, op)
            try:
                current = apply(current, [op])
            except PatchError:
                continue
            kept.append(op)
        if kept:
            out.append({"rev": patch["rev"], "ops": kept})
    return out


def _clamped(root: Node, op: Op) -> Op:
    if "index" not in op:
        return op
    found = {n["id"]: (n, p) for n, p in walk(root)}
    parent_id = op["move"] if "move" in op else op["id"]
    if parent_id not in found or ("move" in op and op["id"] not in found):
        return op
    children = found[parent_id][0]["children"]
    room = len(children) - (1 if "move" in op and found[op["id"]][1] is found[parent_id][0] else 0)
    return {**op, "index": min(op["index"], max(room, 0))}


def smaller(root: Node, patches: list[Patch]) -> Iterator[tuple[Node, list[Patch]]]:
    """Smaller valid sessions, the biggest cuts first: fewer patches (dropped, or the first
    folded into the snapshot), fewer operations (dropped, or the first folded into the
    snapshot), every rev base + 1, fewer nodes (a node dropped or replaced by its children or
    one of them, in the snapshot or in an inserted or replacing subtree), fewer props. Each is
    repaired (:func:`repair`) so that every patch applies."""
    here = size(root, patches)
    seen = set()
    for new_root, new_patches in _variants(root, patches):
        fixed = repair(new_root, new_patches)
        key = repr((new_root, fixed))
        if key not in seen and size(new_root, fixed) < here:
            seen.add(key)
            yield new_root, fixed


def _variants(root: Node, patches: list[Patch]) -> Iterator[tuple[Node, list[Patch]]]:
    n = len(patches)
    if n > 1:
        yield root, patches[: n // 2]
        yield root, patches[n // 2 :]
    for i in range(n):
        yield root, patches[:i] + patches[i + 1 :]
    if patches:  # the first patch's effect becomes the initial snapshot
        yield _compact(apply(root, patches[0]["ops"])), patches[1:]
        first = patches[0]["ops"]
        if len(first) > 1:  # or just its first operation's
            yield _compact(apply(root, first[:1])), _with_ops(patches, 0, first[1:])
    for i, patch in enumerate(patches):
        for j in range(len(patch["ops"])):
            if len(patch["ops"]) > 1:
                ops = patch["ops"][:j] + patch["ops"][j + 1 :]
                yield root, _with_ops(patches, i, ops)
    for smaller_root in _smaller_trees(root):
        yield smaller_root, patches
    for i, patch in enumerate(patches):
        for j, op in enumerate(patch["ops"]):
            key = "insert" if "insert" in op else "replace" if "replace" in op else None
            if key is None:
                continue
            for sub in _smaller_trees(op[key]):
                yield (
                    root,
                    _with_ops(
                        patches, i, [*patch["ops"][:j], {**op, key: sub}, *patch["ops"][j + 1 :]]
                    ),
                )
    if any(p["rev"] != i + 2 for i, p in enumerate(patches)):  # every rev base + 1
        yield root, [{"rev": i + 2, "ops": p["ops"]} for i, p in enumerate(patches)]
    for i, patch in enumerate(patches):  # fewer keys set or unset
        for j, op in enumerate(patch["ops"]):
            key = "set" if "set" in op else "unset" if "unset" in op else None
            if key is None or len(op[key]) < 2:
                continue
            for name in list(op[key]):
                less = (
                    {k: v for k, v in op[key].items() if k != name}
                    if key == "set"
                    else [k for k in op[key] if k != name]
                )
                yield (
                    root,
                    _with_ops(
                        patches, i, [*patch["ops"][:j], {**op, key: less}, *patch["ops"][j + 1 :]]
                    ),
                )


def _with_ops(patches: list[Patch], i: int, ops: list[Op]) -> list[Patch]:
    return [*patches[:i], {"rev": patches[i]["rev"], "ops": ops}, *patches[i + 1 :]]


def _compact(node: Node) -> Node:
    """A normalized node without its empty props and children, as the generator writes them."""
    out: Node = {"id": node["id"], "type": node["type"]}
    if node.get("props") or node["type"] != "Column":
        out["props"] = dict(node.get("props") or {})
    if node.get("children") or node["type"] == "Column":
        out["children"] = [_compact(c) for c in node.get("children") or []]
    return out


def _smaller_trees(tree: Node) -> Iterator[Node]:
    """``tree`` with one node dropped, one Column replaced by its children or by one of them,
    or one optional prop dropped (the root stays)."""
    paths = [p for p in _paths(tree) if p]
    for path in paths:
        smaller = copy.deepcopy(tree)
        del _at(smaller, path[:-1])["children"][path[-1]]
        yield smaller
    for path in paths:
        node = _at(tree, path)
        if node.get("children"):
            smaller = copy.deepcopy(tree)  # the node's children in its place
            siblings = _at(smaller, path[:-1])["children"]
            siblings[path[-1] : path[-1] + 1] = copy.deepcopy(node["children"])
            yield smaller
            for k in range(len(node["children"])):
                smaller = copy.deepcopy(tree)
                _at(smaller, path[:-1])["children"][path[-1]] = copy.deepcopy(node["children"][k])
                yield smaller
    for path in [(), *paths]:
        node = _at(tree, path)
        for key in node.get("props") or {}:
            if key in OPTIONAL[node["type"]]:
                smaller = copy.deepcopy(tree)
                del _at(smaller, path)["props"][key]
                yield smaller


def _paths(node: Node, prefix: tuple[int, ...] = ()) -> Iterator[tuple[int, ...]]:
    yield prefix
    for i, child in enumerate(node.get("children") or []):
        yield from _paths(child, (*prefix, i))


def _at(node: Node, path: tuple[int, ...]) -> Node:
    for i in path:
        node = node["children"][i]
    return node
