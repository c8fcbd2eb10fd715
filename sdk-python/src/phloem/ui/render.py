"""Turn an authored :class:`Element` tree into protocol nodes and a handler table.

A node without an explicit id gets one derived from its position (``<parent id>.<index>``, the
root ``root``), so re-rendering the same structure keeps ids, and a patch touches only what
changed. Two nodes with one id in a tree is the author's mistake and fails loudly here.

Two per-session inputs shape the nodes: ``inputs``, the bound value the user last sent for each
input component the app leaves unbound (by node id), which becomes its bound prop
(:mod:`phloem.ui.bound`, PHL-COMP-022); and ``accept``, the types
the client declared (``None``: it declared none), every other type being sent as a Column
fallback node with the same id and children (PHL-HS-016).
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from typing import Any

from phloem.protocol.tree import Node
from phloem.ui.bound import BOUND, with_bound
from phloem.ui.components import Element, Handler

Handlers = dict[str, dict[str, Handler]]  # node id -> event name -> handler
Index = dict[str, Node]  # node id -> node, for O(1) event lookup

ROOT_ID = "root"


class DuplicateIdError(ValueError):
    """Two nodes of one rendered tree share an id (ids are unique, PHL-TREE-002)."""


_NO_INPUTS: Mapping[str, Any] = {}


def render(
    element: object,
    inputs: Mapping[str, Any] = _NO_INPUTS,
    accept: Container[str] | None = None,
) -> tuple[Node, Handlers, Index]:
    if not isinstance(element, Element):
        raise TypeError(f"a page must return a component such as ph.Column(...), not {element!r}")
    handlers: Handlers = {}
    index: dict[str, Node | str] = {}
    build = _Build(handlers, index, inputs, accept)
    root = build.node(element, element.id or ROOT_ID)
    return root, handlers, index  # type: ignore[return-value]  # every str became a Node


class _Build:
    __slots__ = ("accept", "handlers", "index", "inputs")

    def __init__(
        self,
        handlers: Handlers,
        index: dict[str, Node | str],
        inputs: Mapping[str, Any],
        accept: Container[str] | None,
    ) -> None:
        self.handlers = handlers
        self.index = index
        self.inputs = inputs
        self.accept = accept

    def node(self, el: Element, node_id: str) -> Node:
        """``el``'s node, with ``node_id``: its own id, or the one its position gives it."""
        index = self.index
        if node_id in index:
            other = index[node_id]
            other_type = other if isinstance(other, str) else other.type
            raise DuplicateIdError(
                f"two components have id {node_id!r}: a {other_type} and a {el.type}; "
                "ids must be unique in a page"
            )
        index[node_id] = el.type  # placeholder while the subtree is built
        # An id from the position only when the child has none of its own (no string built).
        children = (
            tuple(
                [
                    self.node(child, child.id or f"{node_id}.{position}")
                    for position, child in enumerate(el.children)
                ]
            )
            if el.children
            else ()
        )
        props = el.props
        if el.type in BOUND:  # an input component: its unbound value is the session's
            props = with_bound(el.type, node_id, props, self.inputs)  # PHL-COMP-022
        if el.handlers:
            self.handlers[node_id] = el.handlers
        if self.accept is not None and el.type not in self.accept:
            # PHL-HS-016: the client never sees a type it did not declare. Events still reach
            # the original node (its type and props, in the index), but the client's tree is
            # the substituted one: a change it cannot see is answered with an ack.
            index[node_id] = Node(node_id, el.type, props)
            return Node(node_id, "Column", {"fallback": el.type}, children)
        node = Node(node_id, el.type, props, children)
        index[node_id] = node
        return node
