"""The runner's own reference tree: applies ui.snapshot and ui.patch exactly as the spec says.

Patches are judged by their effect on this tree, never by their encoding, so a server may send
coarse or fine operations. Every patch must still apply cleanly to the current revision.
"""

from __future__ import annotations

import copy
from typing import Any


class PatchError(Exception):
    """A patch that does not apply to the tree (wrong base, missing node, duplicate id...)."""


def normalize(node: dict[str, Any]) -> dict[str, Any]:
    """A deep copy with the defaults spelled out: absent props = {}, absent children = [] (PHL-TREE-003)."""
    out = dict(node)
    out["props"] = dict(node.get("props") or {})
    out["children"] = [normalize(child) for child in node.get("children") or []]
    return out


class Tree:
    def __init__(self) -> None:
        self.root: dict[str, Any] | None = None
        self.rev: int | None = None

    def snapshot(self, root: dict[str, Any], rev: int) -> None:
        fresh = normalize(root)
        ids = _ids(fresh)
        if len(ids) != len(set(ids)):
            raise PatchError(f"snapshot repeats node ids: {_duplicates(ids)}")
        self.root, self.rev = fresh, rev

    def apply(self, patch: dict[str, Any]) -> None:
        """Apply a ui.patch atomically (PHL-PATCH-009): all operations or none."""
        if self.root is None:
            raise PatchError("ui.patch before any ui.snapshot")
        if patch["base"] != self.rev:
            raise PatchError(f"patch base {patch['base']} != current revision {self.rev}")
        if patch["rev"] <= patch["base"]:
            raise PatchError(f"patch rev {patch['rev']} is not greater than base {patch['base']}")
        root = copy.deepcopy(self.root)
        for index, op in enumerate(patch["ops"]):
            try:
                root = _apply_op(root, op)
            except PatchError as exc:
                raise PatchError(f"ops/{index}: {exc}") from None
        self.root, self.rev = root, patch["rev"]


def _ids(node: dict[str, Any]) -> list[str]:
    out = [node["id"]]
    for child in node["children"]:
        out.extend(_ids(child))
    return out


def _duplicates(ids: list[str]) -> list[str]:
    seen: set[str] = set()
    return sorted({i for i in ids if i in seen or seen.add(i)})  # type: ignore[func-returns-value]


def _index(root: dict[str, Any]) -> dict[str, tuple[dict[str, Any], dict[str, Any] | None]]:
    """node id -> (node, parent)."""
    out: dict[str, tuple[dict[str, Any], dict[str, Any] | None]] = {}
    stack: list[tuple[dict[str, Any], dict[str, Any] | None]] = [(root, None)]
    while stack:
        node, parent = stack.pop()
        out[node["id"]] = (node, parent)
        stack.extend((child, node) for child in node["children"])
    return out


def _apply_op(root: dict[str, Any], op: dict[str, Any]) -> dict[str, Any]:
    index = _index(root)
    target = op["id"]
    if target not in index:
        raise PatchError(f"node {target!r} is not in the tree")
    node, parent = index[target]
    if "set" in op:
        node["props"].update(copy.deepcopy(op["set"]))
    elif "unset" in op:
        for name in op["unset"]:
            node["props"].pop(name, None)
    elif "insert" in op:
        child = normalize(op["insert"])
        _check_new_ids(child, index, replaced=None)
        if not 0 <= op["index"] <= len(node["children"]):
            raise PatchError(f"insert index {op['index']} out of range 0..{len(node['children'])}")
        node["children"].insert(op["index"], child)
    elif "remove" in op:
        if parent is None:
            raise PatchError("cannot remove the root")
        parent["children"].remove(node)
    elif "move" in op:
        if parent is None:
            raise PatchError("cannot move the root")
        if op["move"] not in index:
            raise PatchError(f"new parent {op['move']!r} is not in the tree")
        new_parent = index[op["move"]][0]
        if op["move"] in _ids(node):
            raise PatchError("cannot move a node into its own subtree")
        parent["children"].remove(node)
        if not 0 <= op["index"] <= len(new_parent["children"]):
            raise PatchError(
                f"move index {op['index']} out of range 0..{len(new_parent['children'])}"
            )
        new_parent["children"].insert(op["index"], node)
    elif "replace" in op:
        fresh = normalize(op["replace"])
        _check_new_ids(fresh, index, replaced=node)
        if parent is None:
            return fresh
        position = next(i for i, c in enumerate(parent["children"]) if c is node)
        parent["children"][position] = fresh
    else:
        raise PatchError(f"unknown operation {sorted(op)}")
    return root


def _check_new_ids(
    fresh: dict[str, Any],
    index: dict[str, tuple[dict[str, Any], dict[str, Any] | None]],
    replaced: dict[str, Any] | None,
) -> None:
    new = _ids(fresh)
    if len(new) != len(set(new)):
        raise PatchError(f"new subtree repeats ids: {_duplicates(new)}")
    leaving = set(_ids(replaced)) if replaced is not None else set()
    clash = sorted(i for i in new if i in index and i not in leaving)
    if clash:
        raise PatchError(f"ids already in the tree: {clash}")
