"""Turn an authored :class:`Element` tree into protocol nodes and a handler table.

A node without an explicit id gets one derived from its position (``<parent id>.<index>``, the
root ``root``), so re-rendering the same structure keeps ids, and a patch touches only what
changed. Two nodes with one id in a tree is the author's mistake and fails loudly here.
"""

from __future__ import annotations

from phloem.protocol.tree import Node
from phloem.ui.components import Element, Handler

Handlers = dict[str, dict[str, Handler]]  # node id -> event name -> handler
Index = dict[str, Node]  # node id -> node, for O(1) event lookup

ROOT_ID = "root"


class DuplicateIdError(ValueError):
    """Two nodes of one rendered tree share an id (ids are unique, PHL-TREE-002)."""


def render(element: object) -> tuple[Node, Handlers, Index]:
    if not isinstance(element, Element):
        raise TypeError(f"a page must return a component such as ph.Column(...), not {element!r}")
    handlers: Handlers = {}
    index: dict[str, Node | str] = {}
    root = _node(element, ROOT_ID, handlers, index)
    return root, handlers, index  # type: ignore[return-value]  # every str became a Node


def _node(el: Element, auto_id: str, handlers: Handlers, index: dict[str, Node | str]) -> Node:
    node_id = el.id or auto_id
    if node_id in index:
        other = index[node_id]
        other_type = other if isinstance(other, str) else other.type
        raise DuplicateIdError(
            f"two components have id {node_id!r}: a {other_type} and a {el.type}; "
            "ids must be unique in a page"
        )
    index[node_id] = el.type  # placeholder while the subtree is built
    if el.handlers:
        handlers[node_id] = el.handlers
    children = [
        _node(child, f"{node_id}.{position}", handlers, index)
        for position, child in enumerate(el.children)
    ]
    node = index[node_id] = Node(node_id, el.type, el.props, children)
    return node
