"""Component trees, and patches between them keyed by node id (PHL-PATCH-002).

A :class:`Node` is immutable once built and carries a structural hash of its whole subtree,
computed bottom-up at construction. :func:`diff` uses it to skip every subtree whose hash did not
change, so the cost of a diff follows the size of the change, not the size of the tree. The hash
covers each node's id, type, props serialised to canonical JSON (so ``1``, ``1.0`` and ``true``
differ, as they do on the wire) and its children's hashes; two different subtrees share one
only by a ~2**-61 accident.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson

from phloem.protocol.errors import PatchConflict

Props = Mapping[str, Any]
Op = dict[str, Any]

_EMPTY: Props = {}
_SORTED = orjson.OPT_SORT_KEYS


def _props_json(props: Props) -> bytes:
    # Canonical form: sorted keys, so props equal as JSON hash equal whatever their order.
    return orjson.dumps(props, option=_SORTED) if props else b""


class Node:
    """One component node: id, type, props, children (PHL-TREE-001). Do not mutate."""

    __slots__ = ("_key", "children", "id", "props", "type")

    def __init__(
        self,
        id: str,
        type: str,
        props: Props | None = None,
        children: Iterable[Node] = (),
    ) -> None:
        self.id = id
        self.type = type
        # Every render builds a fresh tree, so this runs for every node of every render: one
        # serialisation of the props, no generator.
        if props:
            self.props: Props = props
            props_json = orjson.dumps(props, option=_SORTED)
        else:
            self.props = _EMPTY
            props_json = b""
        kids = children if isinstance(children, tuple) else tuple(children)
        self.children: tuple[Node, ...] = kids
        self._key: int = hash((id, type, props_json, tuple([c._key for c in kids]) if kids else ()))

    def __hash__(self) -> int:
        return self._key

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, Node):
            return NotImplemented
        return (
            self._key == other._key
            and self.id == other.id
            and self.type == other.type
            and _props_json(self.props) == _props_json(other.props)
            and self.children == other.children
        )

    def __repr__(self) -> str:
        return (
            f"Node({self.id!r}, {self.type!r}, {dict(self.props)!r}, {len(self.children)} children)"
        )

    def to_wire(self) -> dict[str, Any]:
        """The node as a wire ``Node`` object; empty props and children are left out
        (PHL-TREE-003) to keep snapshots small."""
        out: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.props:
            out["props"] = self.props
        if self.children:
            out["children"] = [c.to_wire() for c in self.children]
        return out

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Node:
        return cls(
            data["id"],
            data["type"],
            data.get("props"),
            [cls.from_wire(c) for c in data.get("children", ())],
        )

    def walk(self) -> Iterable[Node]:
        """Every node of the subtree, depth first, parents before children."""
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))

    def find(self, node_id: str) -> Node | None:
        return next((n for n in self.walk() if n.id == node_id), None)


# --- diff ---------------------------------------------------------------------------------------


def diff(old: Node, new: Node) -> list[Op]:
    """Patch ops that turn ``old`` into ``new``; ``[]`` when they are equal.

    Ops come in two phases so that a node id is never present twice while a patch is applied
    (ids are unique, PHL-TREE-002): first every ``remove`` (including the old children of a node
    whose type changed), then replaces, inserts, moves and prop changes. A node that changed
    parent is removed and re-inserted; ``move`` is used for reordering among siblings.
    """
    # Equal subtree hashes end the diff here exactly as they do below (_diff_node): a deep
    # equality check first would walk the whole tree on every event that changed nothing.
    if old is new or old._key == new._key:
        return []
    if old.id != new.id:
        return [{"id": old.id, "replace": new.to_wire()}]
    removes: list[Op] = []
    ops: list[Op] = []
    _diff_node(old, new, removes, ops)
    removes.extend(ops)
    return removes


def _diff_node(a: Node, b: Node, removes: list[Op], ops: list[Op]) -> None:
    # Same id on both sides. An unchanged subtree stops here without being walked.
    if a._key == b._key:
        return
    if a.type != b.type:
        removes.extend({"id": c.id, "remove": True} for c in a.children)
        ops.append({"id": a.id, "replace": b.to_wire()})
        return
    if a.props is not b.props:
        _diff_props(a, b, ops)
    old, new = a.children, b.children
    if len(old) == len(new):
        for x, y in zip(old, new, strict=True):
            if x.id != y.id:
                break
        else:  # the same children in the same order: only their subtrees may differ
            for x, y in zip(old, new, strict=True):
                if x._key != y._key:
                    _diff_node(x, y, removes, ops)
            return
    _diff_children(b.id, old, new, removes, ops)


_PLAIN = (str, int, bool)


def _same(x: Any, y: Any) -> bool:
    # Python equality says 1 == 1.0 == True and 0.0 == -0.0; the wire does not. So only plain
    # scalars of one type compare with ==, everything else as canonical JSON.
    if x is y:
        return True
    if type(x) is not type(y):
        return False
    if type(x) in _PLAIN:
        return bool(x == y)
    return orjson.dumps(x, option=_SORTED) == orjson.dumps(y, option=_SORTED)


def _diff_props(a: Node, b: Node, ops: list[Op]) -> None:
    old, new = a.props, b.props
    changed = {k: v for k, v in new.items() if k not in old or not _same(old[k], v)}
    if changed:
        ops.append({"id": b.id, "set": changed})
    gone = [k for k in old if k not in new]
    if gone:
        ops.append({"id": b.id, "unset": gone})


def _diff_children(
    parent: str, old: Sequence[Node], new: Sequence[Node], removes: list[Op], ops: list[Op]
) -> None:
    new_ids = {c.id for c in new}
    kept: dict[str, Node] = {}
    order: list[str] = []  # the parent's children as the client will hold them, op by op
    for child in old:
        if child.id in new_ids:
            kept[child.id] = child
            order.append(child.id)
        else:
            removes.append({"id": child.id, "remove": True})
    for index, child in enumerate(new):
        before = kept.get(child.id)
        if before is None:
            ops.append({"id": parent, "insert": child.to_wire(), "index": index})
            order.insert(index, child.id)
            continue
        if order[index] != child.id:
            # `index` is the position after the move (PHL-PATCH-006); everything before it is
            # already in place, so the node is found further right.
            del order[order.index(child.id, index)]
            order.insert(index, child.id)
            ops.append({"id": child.id, "move": parent, "index": index})
        _diff_node(before, child, removes, ops)


# --- apply --------------------------------------------------------------------------------------


class _Slot:
    __slots__ = ("children", "parent", "props", "type")

    def __init__(self, type: str, props: dict[str, Any], parent: str | None) -> None:
        self.type = type
        self.props = props
        self.children: list[str] = []
        self.parent = parent


def apply(root: Node, ops: Iterable[Mapping[str, Any]]) -> Node:
    """The tree after applying ``ops`` in order. Raises :class:`PatchConflict` when an op does
    not fit the tree; the caller then asks for a resync (PHL-PATCH-008)."""
    slots: dict[str, _Slot] = {}
    _load(slots, root.to_wire(), None)
    root_id = root.id
    for op in ops:
        root_id = _apply_op(slots, root_id, op)
    return _build(slots, root_id)


def _load(slots: dict[str, _Slot], data: Mapping[str, Any], parent: str | None) -> None:
    node_id = data["id"]
    if node_id in slots:
        raise PatchConflict(f"node id {node_id!r} is already in the tree")
    slot = slots[node_id] = _Slot(data["type"], dict(data.get("props") or {}), parent)
    for child in data.get("children") or ():
        _load(slots, child, node_id)
        slot.children.append(child["id"])


def _drop(slots: dict[str, _Slot], node_id: str) -> None:
    for child in slots.pop(node_id).children:
        _drop(slots, child)


def _get(slots: dict[str, _Slot], node_id: str) -> _Slot:
    slot = slots.get(node_id)
    if slot is None:
        raise PatchConflict(f"no node {node_id!r} in the tree")
    return slot


def _check_index(index: int, size: int) -> None:
    if not 0 <= index <= size:
        raise PatchConflict(f"index {index} is out of range 0..{size}")


def _apply_op(slots: dict[str, _Slot], root_id: str, op: Mapping[str, Any]) -> str:
    node_id = op["id"]
    slot = _get(slots, node_id)
    if "set" in op:
        slot.props.update(op["set"])
    elif "unset" in op:
        for key in op["unset"]:
            slot.props.pop(key, None)
    elif "insert" in op:
        _check_index(op["index"], len(slot.children))
        _load(slots, op["insert"], node_id)
        slot.children.insert(op["index"], op["insert"]["id"])
    elif "remove" in op:
        if slot.parent is None:
            raise PatchConflict("the root cannot be removed, only replaced")
        slots[slot.parent].children.remove(node_id)
        _drop(slots, node_id)
    elif "move" in op:
        target = _get(slots, op["move"])
        ancestor: str | None = op["move"]
        while ancestor is not None:
            if ancestor == node_id:
                raise PatchConflict(f"cannot move {node_id!r} into its own subtree")
            ancestor = slots[ancestor].parent
        assert slot.parent is not None  # the root is its own ancestor, rejected above
        slots[slot.parent].children.remove(node_id)
        _check_index(op["index"], len(target.children))
        target.children.insert(op["index"], node_id)
        slot.parent = op["move"]
    elif "replace" in op:
        parent = slot.parent
        _drop(slots, node_id)
        _load(slots, op["replace"], parent)
        new_id = op["replace"]["id"]
        if parent is None:
            return str(new_id)
        siblings = slots[parent].children
        siblings[siblings.index(node_id)] = new_id
    else:
        raise PatchConflict(f"op on {node_id!r} has no operation key")
    return root_id


def _build(slots: dict[str, _Slot], node_id: str) -> Node:
    slot = slots[node_id]
    return Node(node_id, slot.type, slot.props, [_build(slots, c) for c in slot.children])
