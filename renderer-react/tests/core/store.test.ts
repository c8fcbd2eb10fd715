import { describe, expect, it, vi } from "vitest";
import { Store, type wire } from "../../src/core";
import { counterTree } from "../helpers/fakeSocket";

function setup() {
  const requestResync = vi.fn<(rev: number | null) => void>();
  const reportProblem = vi.fn();
  const store = new Store({ requestResync, reportProblem });
  store.applySnapshot({ type: "ui.snapshot", seq: 2, rev: 1, root: counterTree() });
  return { store, requestResync, reportProblem };
}

const patch = (base: number, ops: wire.PatchOp[], seq = 3): wire.UiPatch =>
  ({ type: "ui.patch", seq, base, rev: base + 1, ops }) as wire.UiPatch;

describe("Store", () => {
  it("snapshot sets tree and revision", () => {
    const { store } = setup();
    expect(store.rev).toBe(1);
    expect(store.getRootId()).toBe("root");
    expect(store.getNode("count")?.props).toEqual({ text: "Count: 0" });
  });

  it("patch on the current revision applies and advances rev", () => {
    const { store, requestResync } = setup();
    expect(store.applyPatch(patch(1, [{ id: "count", set: { text: "Count: 1" } }]))).toBe(true);
    expect(store.rev).toBe(2);
    expect(store.getNode("count")?.props.text).toBe("Count: 1");
    expect(requestResync).not.toHaveBeenCalled();
  });

  it("stale patch asks for resync and is not applied", () => {
    const { store, requestResync } = setup();
    const root = store.getRoot();
    expect(store.applyPatch(patch(5, [{ id: "count", set: { text: "x" } }]))).toBe(false);
    expect(requestResync).toHaveBeenCalledWith(1);
    expect(store.getRoot()).toBe(root);
    expect(store.rev).toBe(1);
  });

  it("stale patches ask for one resync until a snapshot arrives", () => {
    const { store, requestResync } = setup();
    store.applyPatch(patch(5, [{ id: "count", set: { text: "x" } }]));
    store.applyPatch(patch(6, [{ id: "count", set: { text: "y" } }]));
    expect(requestResync).toHaveBeenCalledTimes(1);
    store.applySnapshot({ type: "ui.snapshot", seq: 9, rev: 7, root: counterTree(7) });
    store.applyPatch(patch(3, [{ id: "count", set: { text: "z" } }]));
    expect(requestResync).toHaveBeenCalledTimes(2);
  });

  it("patches are ignored while a resync is pending, even one whose base matches", () => {
    const { store, requestResync } = setup();
    store.applyPatch(patch(5, [{ id: "count", set: { text: "x" } }]));
    expect(store.applyPatch(patch(1, [{ id: "count", set: { text: "Count: 1" } }]))).toBe(false);
    expect(store.getNode("count")?.props.text).toBe("Count: 0");
    expect(store.rev).toBe(1);
    expect(requestResync).toHaveBeenCalledTimes(1);
    store.applySnapshot({ type: "ui.snapshot", seq: 9, rev: 3, root: counterTree(3) });
    expect(store.applyPatch(patch(3, [{ id: "count", set: { text: "Count: 4" } }]))).toBe(true);
  });

  it("patch before any snapshot asks for resync", () => {
    const requestResync = vi.fn();
    const store = new Store({ requestResync });
    expect(store.applyPatch(patch(0, [{ id: "count", set: { text: "x" } }]))).toBe(false);
    expect(requestResync).toHaveBeenCalledWith(null);
  });

  it("patch that does not fit the tree is not applied and asks for resync", () => {
    const { store, requestResync } = setup();
    const root = store.getRoot();
    expect(store.applyPatch(patch(1, [{ id: "count", set: { text: "1" } }, { id: "ghost", remove: true }]))).toBe(false);
    expect(store.getRoot()).toBe(root);
    expect(store.getNode("count")?.props.text).toBe("Count: 0");
    expect(store.rev).toBe(1);
    expect(requestResync).toHaveBeenCalledWith(1);
  });

  it("snapshot with duplicate ids is reported and keeps the old tree", () => {
    const { store, reportProblem } = setup();
    const root = store.getRoot();
    const dup = { id: "r", type: "Column", children: [{ id: "d", type: "Text" }, { id: "d", type: "Text" }] };
    store.applySnapshot({ type: "ui.snapshot", seq: 3, rev: 2, root: dup });
    expect(reportProblem).toHaveBeenCalledWith("invalid_message", expect.stringContaining("duplicate"));
    expect(store.getRoot()).toBe(root);
  });

  it("a set notifies the touched node's listeners only", () => {
    const { store } = setup();
    const heard: string[] = [];
    for (const id of ["root", "count", "inc"]) store.subscribeNode(id, () => heard.push(id));
    store.applyPatch(patch(1, [{ id: "count", set: { text: "Count: 1" } }]));
    expect(heard).toEqual(["count"]);
  });

  it("an insert notifies the parent and the new node", () => {
    const { store } = setup();
    const heard: string[] = [];
    for (const id of ["root", "count", "inc", "new"]) store.subscribeNode(id, () => heard.push(id));
    store.applyPatch(patch(1, [{ id: "root", insert: { id: "new", type: "Text", props: { text: "hi" } }, index: 2 }]));
    expect(heard.sort()).toEqual(["new", "root"]);
  });

  it("unsubscribed listeners hear nothing", () => {
    const { store } = setup();
    const listener = vi.fn();
    const off = store.subscribeNode("count", listener);
    off();
    store.applyPatch(patch(1, [{ id: "count", set: { text: "Count: 1" } }]));
    expect(listener).not.toHaveBeenCalled();
  });

  it("notifications run inside the installed batch function", () => {
    const { store } = setup();
    const order: string[] = [];
    store.batch = (notify) => {
      order.push("begin");
      notify();
      order.push("end");
    };
    store.subscribeNode("count", () => order.push("count"));
    store.applyPatch(patch(1, [{ id: "count", set: { text: "Count: 1" } }]));
    expect(order).toEqual(["begin", "count", "end"]);
  });
});
