import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PhloemClient } from "../../src/core";
import { fakeNetwork, welcome } from "../helpers/fakeSocket";

// The echo rule (PHL-COMP-021), keystroke coalescing (PHL-COMP-020) and the frame limit for
// `change` (PHL-LIM-001), in the React-free core: a fake server, fake timers, no DOM.

const COMPONENTS = { Column: 1, TextInput: 1 };
const LIMITS = { max_frame_bytes: 65536, max_events_per_second: 50 };

const inputTree = (value = "") => ({
  id: "root",
  type: "Column",
  children: [
    { id: "name", type: "TextInput", props: { label: "Name", value } },
    { id: "greeting", type: "Text", props: { text: `Hello, ${value}!` } },
  ],
});

/** A session on the `input` fixture's tree: welcome seq 1, snapshot seq 2 at rev 1. */
function session(limits: Record<string, number> = LIMITS) {
  const net = fakeNetwork();
  const client = new PhloemClient({
    url: "ws://test/phloem/ws",
    path: "/input",
    components: COMPONENTS,
    createSocket: net.factory,
    random: () => 0.5,
    environment: null,
  }).start();
  const s = net.last();
  s.open();
  s.push(welcome(1, { limits }));
  s.push({ type: "ui.snapshot", seq: 2, rev: 1, root: inputTree() });
  let seq = 2;
  let rev = 1;
  const server = {
    /** The server applies a change: value (and greeting) become `value`, answering `event`. */
    answer(event: number | undefined, value: string) {
      const msg = {
        type: "ui.patch",
        seq: ++seq,
        base: rev,
        rev: ++rev,
        ops: [
          { id: "name", set: { value } },
          { id: "greeting", set: { text: `Hello, ${value}!` } },
        ],
        ...(event === undefined ? {} : { event }),
      };
      net.last().push(msg);
    },
    ack(event: number) {
      net.last().push({ type: "ack", seq: ++seq, event });
    },
    error(event: number, code: string) {
      net.last().push({ type: "error", seq: ++seq, code, message: code, event });
    },
    set seq(n: number) {
      seq = n;
    },
  };
  /** What the field displays: the user's text while the echo rule holds, else the tree's value. */
  const shown = () => client.shown("name") as string;
  const changes = () =>
    net
      .last()
      .ofType("event")
      .filter((e) => e.name === "change");
  return { net, client, s, server, shown, changes };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("coalescing", () => {
  it("a first keystroke goes at once; keystrokes within 50 ms go as one change with the full text", () => {
    const { client, changes } = session();
    client.edit("name", "a");
    expect(changes()).toMatchObject([{ id: 1, node: "name", name: "change", value: "a", rev: 1 }]);
    vi.advanceTimersByTime(10);
    client.edit("name", "ab");
    vi.advanceTimersByTime(10);
    client.edit("name", "abc");
    expect(changes()).toHaveLength(1);
    vi.advanceTimersByTime(30); // 50 ms after the first change
    expect(changes().map((e) => e.value)).toEqual(["a", "abc"]);
  });

  it("fast typing sends at most one change per 50 ms, the last within 50 ms of the last keystroke", () => {
    const { client, changes, s } = session();
    const sentAt: number[] = [];
    const send = s.send.bind(s);
    s.send = (data: string) => {
      if (data.includes('"change"')) sentAt.push(Date.now());
      send(data);
    };
    const start = Date.now();
    let text = "";
    for (let i = 0; i < 70; i++) {
      client.edit("name", (text += "x"));
      vi.advanceTimersByTime(7);
    }
    const lastKey = start + 69 * 7;
    vi.advanceTimersByTime(100);
    expect(changes().at(-1)?.value).toBe(text);
    expect(sentAt.at(-1)! - lastKey).toBeLessThanOrEqual(50);
    for (let i = 1; i < sentAt.length; i++) expect(sentAt[i]! - sentAt[i - 1]!).toBeGreaterThanOrEqual(50);
    expect(sentAt.length).toBeGreaterThan(5);
  });

  it("a quick answer does not reset the spacing: the next keystroke still waits 50 ms from the last change", () => {
    const { client, server, changes } = session();
    client.edit("name", "a");
    server.answer(1, "a"); // settled: the tree's value shows
    expect(client.edits.get("name")).toBeUndefined();
    vi.advanceTimersByTime(5);
    client.edit("name", "ab");
    expect(changes()).toHaveLength(1);
    vi.advanceTimersByTime(45);
    expect(changes().map((e) => e.value)).toEqual(["a", "ab"]);
  });

  it("each field is coalesced on its own", () => {
    const { client, s, server, changes } = session();
    s.push({ type: "ui.patch", seq: 3, base: 1, rev: 2, ops: [{ id: "root", insert: { id: "other", type: "TextInput", props: { label: "Other" } }, index: 2 }] });
    server.seq = 3;
    client.edit("name", "a");
    client.edit("other", "b");
    expect(changes().map((e) => [e.node, e.value])).toEqual([
      ["name", "a"],
      ["other", "b"],
    ]);
  });
});

describe("the echo rule", () => {
  it("a patch answering the first change does not overwrite what was typed since; the last answer shows the tree", () => {
    const { client, server, shown, changes } = session();
    client.edit("name", "a"); // change 1 sent at once
    vi.advanceTimersByTime(20);
    client.edit("name", "ab"); // pending: coalesced
    server.answer(1, "a"); // computed from the older value
    expect(client.store.getNode("name")?.props.value).toBe("a");
    expect(shown()).toBe("ab");
    vi.advanceTimersByTime(30);
    expect(changes().map((e) => e.value)).toEqual(["a", "ab"]);
    expect(shown()).toBe("ab");
    server.answer(2, "ab");
    expect(client.edits.get("name")).toBeUndefined();
    expect(shown()).toBe("ab");
  });

  it("a server that upper-cases is shown once it answered the last change, not before", () => {
    const { client, server, shown } = session();
    client.edit("name", "a");
    vi.advanceTimersByTime(50);
    client.edit("name", "ab"); // sent at once: 50 ms passed
    server.answer(1, "A");
    expect(shown()).toBe("ab");
    server.answer(2, "AB");
    expect(shown()).toBe("AB");
  });

  it("a patch without event (a server push) and a snapshot never replace unanswered text", () => {
    const { client, server, shown, s } = session();
    client.edit("name", "mine");
    server.answer(undefined, "theirs");
    expect(shown()).toBe("mine");
    server.seq = 4;
    s.push({ type: "ui.snapshot", seq: 4, rev: 9, root: inputTree("snap") });
    expect(shown()).toBe("mine");
    s.push({ type: "ack", seq: 5, event: 1 });
    expect(shown()).toBe("snap");
  });

  it("an ack or an error answering the last change shows the tree's value", () => {
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const { client, server, shown } = session();
    client.edit("name", "a");
    server.ack(1);
    expect(shown()).toBe("");
    vi.advanceTimersByTime(50);
    client.edit("name", "b");
    server.error(2, "handler_error");
    expect(shown()).toBe("");
  });

  it("a rate_limited change is sent again with a new id, the text kept on screen", () => {
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const { client, server, shown, changes } = session();
    client.edit("name", "abc");
    server.error(1, "rate_limited");
    expect(shown()).toBe("abc");
    vi.advanceTimersByTime(50);
    expect(changes().map((e) => [e.id, e.value])).toEqual([
      [1, "abc"],
      [2, "abc"],
    ]);
    server.answer(2, "abc");
    expect(client.edits.get("name")).toBeUndefined();
  });

  it("an edit still waiting when the field becomes disabled is dropped, not sent", () => {
    const { client, server, changes, shown, s } = session();
    client.edit("name", "a");
    server.answer(1, "a");
    client.edit("name", "ab"); // waits for the 50 ms
    server.seq = 3;
    s.push({ type: "ui.patch", seq: 4, base: 2, rev: 3, ops: [{ id: "name", set: { disabled: true } }] });
    vi.advanceTimersByTime(100);
    expect(changes().map((e) => e.value)).toEqual(["a"]);
    expect(client.edits.get("name")).toBeUndefined();
    expect(shown()).toBe("a");
  });

  it("listeners hear a change of what is shown, and only then", () => {
    const { client, server } = session();
    const heard = vi.fn();
    client.edits.subscribe("name", heard);
    client.edit("name", "a");
    expect(heard).toHaveBeenCalledTimes(1);
    const shownBefore = client.edits.get("name");
    vi.advanceTimersByTime(10);
    client.edit("name", "ab");
    expect(heard).toHaveBeenCalledTimes(2);
    server.answer(1, "a"); // still unanswered change pending: what is shown is unchanged
    expect(heard).toHaveBeenCalledTimes(2);
    expect(client.edits.get("name")).not.toBe(shownBefore);
    vi.advanceTimersByTime(50);
    server.answer(2, "ab");
    expect(heard).toHaveBeenCalledTimes(3);
  });
});

describe("across reconnects", () => {
  it("an unanswered change is resent after a resume with its id, and its text stays until answered", () => {
    const { client, net, s, shown } = session();
    client.edit("name", "ab");
    s.drop();
    expect(shown()).toBe("ab");
    vi.advanceTimersByTime(100);
    const s2 = net.last();
    s2.open();
    s2.push(welcome(3, { resumed: true, limits: LIMITS }));
    s2.push({ type: "ui.snapshot", seq: 4, rev: 1, root: inputTree("") });
    expect(s2.ofType("event")).toMatchObject([{ id: 1, name: "change", value: "ab" }]);
    expect(shown()).toBe("ab");
    s2.push({ type: "ui.patch", seq: 5, base: 1, rev: 2, event: 1, ops: [{ id: "name", set: { value: "ab" } }] });
    expect(client.edits.get("name")).toBeUndefined();
    expect(shown()).toBe("ab");
  });

  it("typing while disconnected is kept and sent after the resume", () => {
    const { client, net, s, shown } = session();
    s.drop();
    client.edit("name", "o");
    vi.advanceTimersByTime(60);
    client.edit("name", "off");
    vi.advanceTimersByTime(60);
    const s2 = net.last();
    s2.open();
    s2.push(welcome(3, { resumed: true, limits: LIMITS }));
    expect(s2.ofType("event").map((e) => [e.id, e.value])).toEqual([
      [1, "o"],
      [2, "off"],
    ]);
    s2.push({ type: "ui.patch", seq: 4, base: 1, rev: 2, event: 1, ops: [{ id: "name", set: { value: "o" } }] });
    expect(shown()).toBe("off");
    s2.push({ type: "ui.patch", seq: 5, base: 2, rev: 3, event: 2, ops: [{ id: "name", set: { value: "off" } }] });
    expect(client.edits.get("name")).toBeUndefined();
  });

  it("a refused resume discards the edits with the tree; the new session's value is shown", () => {
    const { client, net, s, shown } = session();
    client.edit("name", "lost");
    vi.advanceTimersByTime(10);
    client.edit("name", "lost too"); // pending, unsent
    s.drop();
    vi.advanceTimersByTime(100);
    const s2 = net.last();
    s2.open();
    s2.push(welcome(1, { token: "another-token-0123456", limits: LIMITS }));
    expect(client.edits.get("name")).toBeUndefined();
    s2.push({ type: "ui.snapshot", seq: 2, rev: 1, root: inputTree("fresh") });
    vi.advanceTimersByTime(100);
    expect(s2.ofType("event")).toEqual([]);
    expect(shown()).toBe("fresh");
  });
});

describe("frame limit", () => {
  it("a change whose frame would exceed max_frame_bytes is not sent; the field says it is too long", () => {
    const { client, changes, shown } = session({ max_frame_bytes: 256, max_events_per_second: 50 });
    client.edit("name", "é".repeat(100)); // 200 UTF-8 bytes: with the envelope, over 256
    expect(changes()).toEqual([]);
    expect(client.edits.get("name")).toEqual({ value: "é".repeat(100), tooLong: true });
    expect(shown()).toBe("é".repeat(100));
    vi.advanceTimersByTime(1000);
    expect(changes()).toEqual([]);
    client.edit("name", "é".repeat(10));
    expect(changes()).toMatchObject([{ id: 1, value: "é".repeat(10) }]);
    expect(client.edits.get("name")?.tooLong).toBe(false);
  });

  it("a change typed before the limit was known and found too large when sent is not sent either", () => {
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const { net, client, s } = session();
    s.drop(); // offline: the next session's limit is not known yet
    client.edit("name", "x".repeat(300)); // fits the old limit: queued, event 1
    vi.advanceTimersByTime(100);
    const s2 = net.last();
    s2.open();
    s2.push(welcome(3, { resumed: true, limits: { max_frame_bytes: 256, max_events_per_second: 50 } }));
    expect(s2.ofType("event")).toEqual([]);
    expect(client.edits.get("name")).toEqual({ value: "x".repeat(300), tooLong: true });
    client.edit("name", "x");
    vi.advanceTimersByTime(50); // the unsent attempt counts for coalescing
    expect(s2.ofType("event")).toMatchObject([{ id: 2, value: "x" }]);
  });

});
