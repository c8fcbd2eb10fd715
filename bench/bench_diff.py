"""Diff time for a 10,000-node tree with 1 % of nodes changed, and the patch size.

The new tree is built fresh, as a re-render builds it (no node shared with the old tree), so
the diff cannot lean on object identity; it skips unchanged subtrees by their cached hash.

    .venv/bin/python bench/bench_diff.py
"""

from __future__ import annotations

import random
import statistics
import time

import orjson
from _common import Row, vs_floor
from phloem.protocol import outbound
from phloem.protocol.tree import Node, diff

ROWS, PER_ROW = 99, 100  # 1 root + 99 rows + 9,900 cells = 10,000 nodes
RUNS = 51


def build(texts: dict[str, str]) -> Node:
    rows = []
    for r in range(ROWS):
        cells = []
        for c in range(PER_ROW):
            cid = f"c{r}.{c}"
            cells.append(Node(cid, "Text", {"text": texts[cid], "variant": "body"}))
        rows.append(Node(f"r{r}", "Column", {"gap": 4}, cells))
    return Node("root", "Column", None, rows)


def full_compare(old: Node, new: Node) -> int:
    """The floor: plain Python visiting every node of both trees and comparing its props, what
    a diff costs that cannot skip an unchanged subtree. Counts the nodes whose props differ."""
    differ = 0
    stack = [(old, new)]
    while stack:
        a, b = stack.pop()
        if a.props != b.props:
            differ += 1
        stack.extend(zip(a.children, b.children, strict=True))
    return differ


def run() -> list[Row]:
    rng = random.Random(42)
    texts = {f"c{r}.{c}": f"cell {r}:{c}" for r in range(ROWS) for c in range(PER_ROW)}
    old = build(texts)
    size = sum(1 for _ in old.walk())
    changed = rng.sample(sorted(texts), size // 100)
    new_texts = dict(texts, **{cid: texts[cid] + " (changed)" for cid in changed})

    build_times, diff_times, floor_times = [], [], []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        new = build(new_texts)
        t1 = time.perf_counter()
        ops = diff(old, new)
        t2 = time.perf_counter()
        changed_nodes = full_compare(old, new)
        t3 = time.perf_counter()
        build_times.append(t1 - t0)
        diff_times.append(t2 - t1)
        floor_times.append(t3 - t2)
    assert changed_nodes == len(changed)

    patch = outbound.dumps(outbound.patch(3, 1, 2, ops, event=1))
    snapshot = orjson.dumps(new.to_wire())
    print(f"nodes: {size}, changed: {len(changed)}, ops: {len(ops)}")
    print(f"diff median: {statistics.median(diff_times) * 1e3:.3f} ms (over {RUNS} runs)")
    print(
        f"build of the new tree (render side, hashes included) median: "
        f"{statistics.median(build_times) * 1e3:.3f} ms"
    )
    print(f"patch size: {len(patch.encode())} bytes (snapshot would be {len(snapshot)} bytes)")
    floor = statistics.median(floor_times) * 1e3
    print(f"floor, plain Python comparing every node: {floor:.3f} ms")
    return [
        vs_floor(
            "diff, 10k nodes, 1 % changed (median)",
            statistics.median(diff_times) * 1e3,
            floor,
            "ms",
            "plain Python comparing every node",
            TARGET_DIFF,
        ),
        Row("re-render of that tree (median)", f"{statistics.median(build_times) * 1e3:.1f} ms"),
        Row(
            "patch for it / snapshot",
            f"{len(patch.encode()) / 1024:.1f} / {len(snapshot) / 1024:.0f} KiB",
        ),
    ]


# The diff skips unchanged subtrees by their cached hash (the brief: never re-walk one), so at
# 1 % changed it stays well under a walk of every node.
TARGET_DIFF = 0.5


def main() -> None:
    run()


if __name__ == "__main__":
    main()
