from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from phloem.protocol import tree as tree_module
from phloem.protocol.errors import PatchConflict
from phloem.protocol.tree import Node, apply, diff
from sdk_support import assert_valid

IDS = [f"n{i}" for i in range(14)]
TYPES = ["Column", "Text", "Button", "Sparkline"]
values = st.one_of(
    st.integers(-3, 3),
    st.floats(-2, 2, allow_nan=False),
    st.booleans(),
    st.none(),
    st.text(max_size=3),
    st.lists(st.integers(0, 2), max_size=2),
    st.dictionaries(st.sampled_from("xy"), st.integers(0, 1), max_size=2),
)
props = st.dictionaries(st.sampled_from(["a", "b", "c", "text"]), values, max_size=3)


@st.composite
def trees(draw: st.DrawFn) -> Node:
    """Random trees over a small id pool, so two trees share ids in every arrangement:
    kept, moved among siblings, moved to another parent, retyped, replaced at the root."""
    n = draw(st.integers(1, 12))
    ids = draw(st.permutations(IDS))[:n]
    parents = [draw(st.integers(0, i - 1)) for i in range(1, n)]
    kids: dict[int, list[int]] = {i: [] for i in range(n)}
    for child, parent in enumerate(parents, 1):
        kids[parent].append(child)
    types = [draw(st.sampled_from(TYPES)) for _ in range(n)]
    prop_sets = [draw(props) for _ in range(n)]

    def build(i: int) -> Node:
        order = draw(st.permutations(kids[i]))
        return Node(ids[i], types[i], prop_sets[i], [build(c) for c in order])

    return build(0)


@given(trees(), trees())
def test_applying_the_diff_of_two_trees_gives_the_second(a: Node, b: Node) -> None:
    ops = diff(a, b)
    assert apply(a, ops) == b


@given(trees(), trees())
def test_every_patch_op_validates_against_the_schema(a: Node, b: Node) -> None:
    ops = diff(a, b)
    for op in ops:
        assert_valid("defs/patch-op", op)
    if ops:
        msg = {"type": "ui.patch", "seq": 3, "base": 1, "rev": 2, "ops": ops}
        assert_valid("messages/ui.patch", msg)


@given(trees())
def test_a_tree_diffed_with_an_equal_copy_gives_no_ops(a: Node) -> None:
    assert diff(a, Node.from_wire(a.to_wire())) == []


@given(trees())
def test_snapshot_node_validates_against_the_node_schema(a: Node) -> None:
    assert_valid("defs/node", a.to_wire())


def _row(i: int, text: str) -> Node:
    return Node(
        f"row{i}", "Column", None, [Node(f"t{i}.{j}", "Text", {"text": text}) for j in range(50)]
    )


def test_diff_skips_unchanged_subtrees_without_walking_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    old = Node("root", "Column", None, [_row(i, "same") for i in range(20)])
    new_rows = [_row(i, "same") for i in range(20)]
    new_rows[7] = Node(
        "row7",
        "Column",
        None,
        [Node(f"t7.{j}", "Text", {"text": "x" if j == 3 else "same"}) for j in range(50)],
    )
    new = Node("root", "Column", None, new_rows)
    visited: list[str] = []
    real = tree_module._diff_node

    def spy(a: Node, b: Node, removes: list[Any], ops: list[Any]) -> None:
        visited.append(a.id)
        real(a, b, removes, ops)

    monkeypatch.setattr(tree_module, "_diff_node", spy)
    assert diff(old, new) == [{"id": "t7.3", "set": {"text": "x"}}]
    assert visited == ["root", "row7", "t7.3"]  # 3 of 1,021 nodes


@pytest.mark.parametrize(("before", "after"), [(1, 1.0), (1, True), (0.0, -0.0), ([1], [1.0])])
def test_props_equal_in_python_but_not_on_the_wire_are_sent(before: Any, after: Any) -> None:
    a = Node("r", "Text", {"v": before})
    b = Node("r", "Text", {"v": after})
    assert diff(a, b) == [{"id": "r", "set": {"v": after}}]


def test_a_changed_root_id_replaces_the_root() -> None:
    assert diff(Node("a", "Column"), Node("b", "Column")) == [
        {"id": "a", "replace": {"id": "b", "type": "Column"}}
    ]


def test_props_order_does_not_make_nodes_differ() -> None:
    a = Node("r", "Text", {"x": 1, "y": 2})
    b = Node("r", "Text", {"y": 2, "x": 1})
    assert a == b and hash(a) == hash(b) and diff(a, b) == []


def test_reordered_siblings_are_moved_not_reinserted() -> None:
    kids = [Node(f"k{i}", "Text", {"text": str(i)}) for i in range(4)]
    a = Node("r", "Column", None, kids)
    b = Node("r", "Column", None, [kids[3], kids[0], kids[1], kids[2]])
    assert diff(a, b) == [{"id": "k3", "move": "r", "index": 0}]


@pytest.mark.parametrize(
    "op",
    [
        {"id": "nope", "set": {"a": 1}},
        {"id": "r", "remove": True},
        {"id": "r", "insert": {"id": "k", "type": "Text"}, "index": 0},
        {"id": "r", "insert": {"id": "x", "type": "Text"}, "index": 5},
        {"id": "r", "move": "k", "index": 0},
        {"id": "k", "bogus": 1},
    ],
    ids=[
        "unknown id",
        "remove root",
        "duplicate id",
        "index out of range",
        "move into own subtree",
        "no op key",
    ],
)
def test_an_op_that_does_not_fit_the_tree_is_a_patch_conflict(op: dict[str, Any]) -> None:
    root = Node("r", "Column", None, [Node("k", "Column")])
    with pytest.raises(PatchConflict):
        apply(root, [op])


def test_a_node_has_no_attribute_dict() -> None:
    # Nodes are many and per session: __slots__ keeps them small.
    assert not hasattr(Node("r", "Text"), "__dict__")
