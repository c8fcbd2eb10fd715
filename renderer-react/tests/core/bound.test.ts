import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PhloemClient, sameValue, type BoundDecl } from "../../src/core";
import { BOUND } from "../../src/core/catalog.gen";
import { fakeNetwork, welcome } from "../helpers/fakeSocket";

// The echo rule (PHL-COMP-021) and coalescing (PHL-COMP-020) for every kind of bound value,
// driven by the declaration alone: the core catalog's (generated from the schemas) and input
// components a renderer adds (a checkbox, a slider, a select, a multi-select).

interface Kind {
  type: string;
  decl: BoundDecl;
  /** The value the tree starts with, two the user enters, and one the server makes of the last. */
  start: unknown;
  first: unknown;
  second: unknown;
  transformed: unknown;
}

/** A value of the same JSON type as `sample` (the declared default), for the catalog's inputs. */
function valuesLike(sample: unknown): Pick<Kind, "start" | "first" | "second" | "transformed"> {
  if (typeof sample === "string") return { start: "", first: "a", second: "ab", transformed: "AB" };
  if (typeof sample === "number") return { start: 0, first: 1, second: 2, transformed: 2.5 };
  if (typeof sample === "boolean") return { start: false, first: true, second: false, transformed: true };
  throw new Error(`add sample values for a bound default like ${JSON.stringify(sample)}`);
}

const CATALOG: Kind[] = Object.entries(BOUND).map(([type, decl]) => ({ type, decl, ...valuesLike(decl.default) }));

const CUSTOM: Kind[] = [
  { type: "Checkbox", decl: { prop: "checked", event: "toggle", default: false }, start: false, first: true, second: false, transformed: true },
  { type: "Slider", decl: { prop: "value", event: "slide", default: 0 }, start: 10, first: 20, second: 30, transformed: 25 },
  { type: "Select", decl: { prop: "selected", event: "select" }, start: null, first: "red", second: "blue", transformed: "green" },
  {
    type: "MultiSelect",
    decl: { prop: "values", event: "pick", default: [] },
    start: [],
    first: ["a"],
    second: ["a", { id: "b", tags: [1, 2] }],
    transformed: ["b", "a"],
  },
];

function session(kind: Kind, props: Record<string, unknown> = { [kind.decl.prop]: kind.start }) {
  const net = fakeNetwork();
  const client = new PhloemClient({
    url: "ws://test/phloem/ws",
    path: "/",
    components: { Column: 1, [kind.type]: 1 },
    createSocket: net.factory,
    random: () => 0.5,
    environment: null,
    bound: Object.fromEntries(CUSTOM.map((k) => [k.type, k.decl])),
  }).start();
  const s = net.last();
  s.open();
  s.push(welcome(1, {}));
  s.push({ type: "ui.snapshot", seq: 2, rev: 1, root: { id: "root", type: "Column", children: [{ id: "in", type: kind.type, props }] } });
  let seq = 2;
  let rev = 1;
  const setProp = (value: unknown, event?: number) =>
    s.push({ type: "ui.patch", seq: ++seq, base: rev, rev: ++rev, ops: [{ id: "in", set: { [kind.decl.prop]: value } }], ...(event === undefined ? {} : { event }) });
  const sent = () => s.ofType("event").map((e) => [e.name, e.value]);
  return { client, s, setProp, sent };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe.each([...CATALOG, ...CUSTOM])("bound value of $type ($decl.prop via $decl.event)", (kind) => {
  it("shows the prop, else the declared default", () => {
    expect(session(kind).client.shown("in")).toEqual(kind.start);
    expect(session(kind, {}).client.shown("in")).toEqual(kind.decl.default);
  });

  it("sends the declared event and keeps the user's value over older tree values until every event is answered", () => {
    const { client, setProp, sent } = session(kind);
    client.edit("in", kind.first); // event 1, sent at once
    expect(sent()).toEqual([[kind.decl.event, kind.first]]);
    expect(client.shown("in")).toEqual(kind.first);
    setProp(kind.start); // a server-initiated patch computed before the edit arrived
    expect(client.shown("in")).toEqual(kind.first);
    vi.advanceTimersByTime(20);
    client.edit("in", kind.second); // coalesced: waits for the 50 ms spacing
    expect(sent()).toHaveLength(1);
    setProp(kind.first, 1); // answers event 1 with the older value
    expect(client.store.getNode("in")?.props[kind.decl.prop]).toEqual(kind.first);
    expect(client.shown("in")).toEqual(kind.second);
    vi.advanceTimersByTime(30);
    expect(sent()).toEqual([
      [kind.decl.event, kind.first],
      [kind.decl.event, kind.second],
    ]);
    setProp(kind.transformed, 2); // the last answer: the tree's value is shown again
    expect(client.edits.get("in")).toBeUndefined();
    expect(client.shown("in")).toEqual(kind.transformed);
  });

  it("an ack answers the event too, and the tree's value is shown", () => {
    const { client, s } = session(kind);
    client.edit("in", kind.first);
    s.push({ type: "ack", seq: 3, event: 1 });
    expect(client.shown("in")).toEqual(kind.start);
  });
});

describe("bound values", () => {
  it("a value equal to the one shown keeps the same view (UI bindings compare by identity)", () => {
    const [multi] = CUSTOM.filter((k) => k.type === "MultiSelect");
    const { client } = session(multi as Kind);
    client.edit("in", [{ id: "b", tags: [1, 2] }]);
    const view = client.edits.get("in");
    client.edit("in", [{ tags: [1, 2], id: "b" }]); // equal, keys in another order
    expect(client.edits.get("in")).toBe(view);
    client.edit("in", [{ id: "b", tags: [2, 1] }]);
    expect(client.edits.get("in")).not.toBe(view);
  });

  it("editing a node that declares no bound value is a programming error", () => {
    const { client } = session(CUSTOM[0] as Kind);
    expect(() => client.edit("root", true)).toThrow(/Column declares no bound value/);
  });

  it("an edit of a node no longer in the tree is dropped", () => {
    const { client, sent } = session(CUSTOM[0] as Kind);
    client.edit("gone", true);
    vi.advanceTimersByTime(100);
    expect(sent()).toEqual([]);
    expect(client.edits.get("gone")).toBeUndefined();
    expect(client.shown("gone")).toBeUndefined();
  });

  it("sameValue compares JSON values structurally", () => {
    expect(sameValue({ a: [1, { b: null }] }, { a: [1, { b: null }] })).toBe(true);
    expect(sameValue([1, 2], [2, 1])).toBe(false);
    expect(sameValue({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(sameValue([], {})).toBe(false);
    expect(sameValue(null, {})).toBe(false);
    expect(sameValue("1", 1)).toBe(false);
  });
});
