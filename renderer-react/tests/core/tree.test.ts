import { describe, expect, it } from "vitest";
import { PatchConflict, Tree, normaliseNode, type TreeNode, type wire } from "../../src/core";

const node = (id: string, type = "Text", props: Record<string, unknown> = {}, children: wire.Node[] = []): wire.Node => ({
  id,
  type,
  props,
  children,
});

/** root[ a[ a1, a2 ], b[ b1 ], c ] */
function sample(): Tree {
  return new Tree(
    normaliseNode(
      node("root", "Column", {}, [
        node("a", "Column", {}, [node("a1", "Text", { text: "a1" }), node("a2", "Text", { text: "a2" })]),
        node("b", "Column", {}, [node("b1", "Text", { text: "b1" })]),
        node("c", "Text", { text: "c" }),
      ]),
    ),
  );
}

const ids = (n: TreeNode | undefined) => (n ? n.children.map((c) => c.id) : []);

describe("Tree", () => {
  it("absent props and children read as {} and []", () => {
    const tree = new Tree(normaliseNode({ id: "x", type: "Text" }));
    expect(tree.root.props).toEqual({});
    expect(tree.root.children).toEqual([]);
  });

  it("set merges props and keeps untouched subtrees identical", () => {
    const tree = sample();
    const before = tree.root;
    const [a, b, c] = before.children;
    const touched = tree.apply([{ id: "b1", set: { text: "B1", variant: "heading" } }]);
    expect(tree.get("b1")?.props).toEqual({ text: "B1", variant: "heading" });
    expect(tree.root).not.toBe(before);
    expect(tree.root.children[0]).toBe(a);
    expect(tree.root.children[2]).toBe(c);
    expect(tree.get("b")).not.toBe(b);
    expect(before.children[1]?.children[0]?.props).toEqual({ text: "b1" });
    expect([...touched]).toEqual(["b1"]);
  });

  it("unset deletes props", () => {
    const tree = sample();
    tree.apply([{ id: "a1", unset: ["text"] }]);
    expect(tree.get("a1")?.props).toEqual({});
  });

  it("insert places a subtree at the index and indexes its nodes", () => {
    const tree = sample();
    tree.apply([{ id: "a", insert: node("n", "Column", {}, [node("n1")]), index: 1 }]);
    expect(ids(tree.get("a"))).toEqual(["a1", "n", "a2"]);
    expect(tree.get("n1")).toBeDefined();
    expect(tree.parentId("n1")).toBe("n");
  });

  it("remove drops the node and its subtree from the index", () => {
    const tree = sample();
    const c = tree.get("c");
    tree.apply([{ id: "a", remove: true }]);
    expect(ids(tree.root)).toEqual(["b", "c"]);
    expect(tree.get("a1")).toBeUndefined();
    expect(tree.get("c")).toBe(c);
    expect(tree.size).toBe(4);
  });

  it("move to another parent puts the node at the index after the move", () => {
    const tree = sample();
    const a2 = tree.get("a2");
    tree.apply([{ id: "a2", move: "b", index: 0 }]);
    expect(ids(tree.get("a"))).toEqual(["a1"]);
    expect(ids(tree.get("b"))).toEqual(["a2", "b1"]);
    expect(tree.get("a2")).toBe(a2);
    expect(tree.parentId("a2")).toBe("b");
  });

  it("move within the same parent reorders", () => {
    const tree = sample();
    tree.apply([{ id: "a", move: "root", index: 2 }]);
    expect(ids(tree.root)).toEqual(["b", "c", "a"]);
  });

  it("replace swaps a subtree, possibly under a new id", () => {
    const tree = sample();
    tree.apply([{ id: "a", replace: node("z", "Text", { text: "z" }) }]);
    expect(ids(tree.root)).toEqual(["z", "b", "c"]);
    expect(tree.get("a")).toBeUndefined();
    expect(tree.get("a1")).toBeUndefined();
    expect(tree.parentId("z")).toBe("root");
  });

  it("replace of the root swaps the whole tree", () => {
    const tree = sample();
    tree.apply([{ id: "root", replace: node("root2", "Column", {}, [node("only")]) }]);
    expect(tree.root.id).toBe("root2");
    expect(tree.size).toBe(2);
  });

  it("several ops on one path copy each node once", () => {
    const tree = sample();
    tree.apply([
      { id: "a1", set: { text: "1" } },
      { id: "a2", set: { text: "2" } },
      { id: "a", set: { gap: 4 } },
    ]);
    const a = tree.get("a");
    expect(a?.children[0]).toBe(tree.get("a1"));
    expect(a?.children[1]).toBe(tree.get("a2"));
    expect(tree.root.children[0]).toBe(a);
  });

  it("a conflicting op leaves tree and index exactly as they were", () => {
    const tree = sample();
    const root = tree.root;
    const apply = () =>
      tree.apply([
        { id: "a1", set: { text: "changed" } },
        { id: "b", insert: node("fresh"), index: 0 },
        { id: "c", remove: true },
        { id: "missing", set: { x: 1 } },
      ]);
    expect(apply).toThrow(PatchConflict);
    expect(tree.root).toBe(root);
    expect(tree.get("a1")?.props).toEqual({ text: "a1" });
    expect(tree.get("fresh")).toBeUndefined();
    expect(tree.get("c")).toBe(root.children[2]);
    expect(tree.size).toBe(7);
  });

  it.each([
    ["insert index past the end", { id: "a", insert: node("n"), index: 3 }],
    ["insert of an existing id", { id: "a", insert: node("b1"), index: 0 }],
    ["remove of the root", { id: "root", remove: true }],
    ["move into its own subtree", { id: "a", move: "a1", index: 0 }],
    ["move index past the end", { id: "c", move: "b", index: 2 }],
    ["op on an unknown node", { id: "nope", unset: ["x"] }],
  ] as Array<[string, wire.PatchOp]>)("%s is a conflict", (_name, op) => {
    expect(() => sample().apply([op])).toThrow(PatchConflict);
  });
});
