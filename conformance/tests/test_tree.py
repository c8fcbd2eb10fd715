from __future__ import annotations

from typing import Any

import pytest
from phloem_conformance.tree import PatchError, Tree


def tree() -> Tree:
    t = Tree()
    t.snapshot({"id": "r", "type": "Column", "children": [
        {"id": "a", "type": "Text", "props": {"text": "A"}},
        {"id": "b", "type": "Column", "children": [{"id": "b1", "type": "Text"}]},
    ]}, 1)
    return t


def patch(*ops: dict[str, Any], base: int = 1, rev: int = 2) -> dict[str, Any]:
    return {"type": "ui.patch", "seq": 3, "base": base, "rev": rev, "ops": list(ops)}


def ids(node: dict[str, Any]) -> list[str]:
    return [c["id"] for c in node["children"]]


def test_snapshot_spells_out_defaults() -> None:
    t = tree()
    assert t.root is not None and t.rev == 1
    assert t.root["props"] == {} and t.root["children"][1]["children"][0]["children"] == []


def test_snapshot_with_duplicate_ids_is_refused() -> None:
    with pytest.raises(PatchError, match="repeats"):
        Tree().snapshot({"id": "r", "type": "Column", "children": [{"id": "r", "type": "Text"}]}, 1)


def test_set_merges_and_unset_deletes() -> None:
    t = tree()
    t.apply(patch({"id": "a", "set": {"variant": "heading"}}))
    t.apply(patch({"id": "a", "unset": ["text"]}, base=2, rev=3))
    assert t.root is not None and t.root["children"][0]["props"] == {"variant": "heading"}
    assert t.rev == 3


def test_insert_places_the_child_at_index() -> None:
    t = tree()
    t.apply(patch({"id": "r", "insert": {"id": "n", "type": "Text"}, "index": 1}))
    assert t.root is not None and ids(t.root) == ["a", "n", "b"]


def test_insert_of_an_existing_id_is_refused() -> None:
    with pytest.raises(PatchError, match="already in the tree"):
        tree().apply(patch({"id": "r", "insert": {"id": "b1", "type": "Text"}, "index": 0}))


def test_insert_index_out_of_range_is_refused() -> None:
    with pytest.raises(PatchError, match="out of range"):
        tree().apply(patch({"id": "r", "insert": {"id": "n", "type": "Text"}, "index": 3}))


def test_remove_deletes_the_subtree() -> None:
    t = tree()
    t.apply(patch({"id": "b", "remove": True}))
    assert t.root is not None and ids(t.root) == ["a"]
    with pytest.raises(PatchError):
        t.apply(patch({"id": "b1", "set": {"text": "x"}}, base=2, rev=3))


def test_move_index_is_the_position_after_the_move() -> None:
    t = tree()
    t.apply(patch({"id": "a", "move": "r", "index": 1}))
    assert t.root is not None and ids(t.root) == ["b", "a"]
    t.apply(patch({"id": "a", "move": "b", "index": 0}, base=2, rev=3))
    assert ids(t.root["children"][0]) == ["a", "b1"]


def test_move_into_own_subtree_is_refused() -> None:
    with pytest.raises(PatchError, match="own subtree"):
        tree().apply(patch({"id": "b", "move": "b1", "index": 0}))


def test_replace_may_change_the_id_and_reuse_ids_of_the_old_subtree() -> None:
    t = tree()
    t.apply(patch({"id": "b", "replace": {"id": "c", "type": "Column", "children": [{"id": "b1", "type": "Text"}]}}))
    assert t.root is not None and ids(t.root) == ["a", "c"]


def test_replace_of_the_root() -> None:
    t = tree()
    t.apply(patch({"id": "r", "replace": {"id": "r2", "type": "Text"}}))
    assert t.root is not None and t.root["id"] == "r2"


def test_patch_on_another_base_is_refused() -> None:
    with pytest.raises(PatchError, match="base 4"):
        tree().apply(patch({"id": "a", "set": {"text": "x"}}, base=4, rev=5))


def test_patch_is_atomic() -> None:
    t = tree()
    with pytest.raises(PatchError, match="ops/1"):
        t.apply(patch({"id": "a", "set": {"text": "changed"}}, {"id": "missing", "remove": True}))
    assert t.root is not None and t.root["children"][0]["props"]["text"] == "A" and t.rev == 1


def test_rev_must_exceed_base() -> None:
    with pytest.raises(PatchError, match="not greater"):
        tree().apply(patch({"id": "a", "set": {"text": "x"}}, base=1, rev=1))
