import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MAX_UNANSWERED, PhloemClient, safeHref } from "../../src/core";
import { TOKEN, counterTree, fakeNetwork, snapshot, welcome } from "../helpers/fakeSocket";

// The client-behaviour rules of spec/1.0/client.md (PHL-CLIENT-…), in the React-free core.

const LIMITS = { max_frame_bytes: 65536, max_events_per_second: 50, heartbeat_seconds: 20 };

function session() {
  const net = fakeNetwork();
  const client = new PhloemClient({
    url: "ws://test/phloem/ws",
    path: "/counter",
    components: { Column: 1, Text: 1, Button: 1 },
    createSocket: net.factory,
    random: () => 0.5,
    environment: null,
  }).start();
  const s = net.last();
  s.open();
  s.push(welcome(1, { limits: LIMITS }));
  s.push(snapshot(2, 1));
  return { net, client, s };
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.spyOn(console, "warn").mockImplementation(() => undefined);
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe("after a close (PHL-CLIENT-001 … 004)", () => {
  it.each([
    [4409, "closed", "taken-over"],
    [1000, "closed", "ended"],
    [4401, "failed", "unauthorized"],
    [4406, "failed", "version"],
  ] as const)("close %i is not followed by a reconnect: status %s, ending %s", (code, status, ending) => {
    const { net, client, s } = session();
    s.drop(code);
    vi.advanceTimersByTime(60_000);
    expect(net.sockets).toHaveLength(1);
    expect(client.status).toBe(status);
    expect(client.transport.ending).toBe(ending);
  });

  it.each([1001, 1006, 1011, 4000, 4002, 4123, 4999, 3000])("close %i is followed by a resume", (code) => {
    const { net, client, s } = session();
    s.drop(code);
    expect(client.status).toBe("reconnecting");
    vi.advanceTimersByTime(100);
    net.last().open();
    expect(net.last().messages()[0]).toMatchObject({ type: "hello", resume: { token: TOKEN, seq: 2 } });
  });

  it("a fatal error with a code the client does not know is followed by a resume; a final one is not", () => {
    const a = session();
    a.s.push({ type: "error", seq: 3, code: "from_the_future", message: "?", fatal: true });
    a.s.drop(1011);
    vi.advanceTimersByTime(100);
    expect(a.net.sockets).toHaveLength(2);

    const b = session();
    b.s.push({ type: "error", code: "unauthorized", message: "sign in", fatal: true });
    b.s.drop(1006); // whatever code the close carries
    vi.advanceTimersByTime(60_000);
    expect(b.net.sockets).toHaveLength(1);
    expect(b.client.transport.ending).toBe("unauthorized");
  });

  it("attempts that fail before welcome keep doubling the backoff; a welcome resets it", () => {
    const { net, s } = session();
    s.drop(1006);
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      const count = net.sockets.length;
      let waited = 0;
      while (net.sockets.length === count) {
        vi.advanceTimersByTime(10);
        waited += 10;
      }
      waits.push(waited);
      net.last().open();
      if (i < 3) net.last().drop(4999); // refused before any welcome
    }
    expect(waits).toEqual([100, 200, 400, 800]);
    net.last().push(welcome(3, { resumed: true, limits: LIMITS }));
    net.last().drop(1006);
    vi.advanceTimersByTime(100);
    expect(net.sockets).toHaveLength(6);
  });
});

describe("events (PHL-CLIENT-005, 007, 008)", () => {
  it("a resent event keeps its rev; its ack is the current one", () => {
    const { net, client, s } = session();
    client.sendEvent("inc", "click"); // id 1 at rev 1, ack 2
    s.push({ type: "ui.patch", seq: 3, base: 1, rev: 2, ops: [{ id: "count", set: { text: "pushed" } }] });
    s.drop();
    vi.advanceTimersByTime(100);
    const s2 = net.last();
    s2.open();
    s2.push(welcome(4, { resumed: true, limits: LIMITS }));
    expect(s2.ofType("event")).toEqual([{ type: "event", id: 1, node: "inc", name: "click", rev: 1, ack: 4 }]);
  });

  it("an event made while no session is open is sent after the resumed welcome, after the resent ones", () => {
    const { net, client, s } = session();
    client.sendEvent("inc", "click"); // id 1, unanswered
    s.drop();
    expect(client.sendEvent("inc", "click")).toBe(2); // made while disconnected
    vi.advanceTimersByTime(100);
    const s2 = net.last();
    s2.open();
    expect(s2.ofType("event")).toEqual([]);
    s2.push(welcome(3, { resumed: true, limits: LIMITS }));
    expect(s2.ofType("event").map((e) => e.id)).toEqual([1, 2]);
  });

  it("beyond MAX_UNANSWERED an event is not made and the user is told", () => {
    const { client, s } = session();
    s.push({ type: "ui.patch", seq: 3, base: 1, rev: 2, ops: [{ id: "root", insert: { id: "name", type: "TextInput", props: { label: "Name" } }, index: 0 }] });
    s.drop(); // nothing is answered while away
    for (let i = 0; i < MAX_UNANSWERED; i++) expect(client.sendEvent("inc", "click")).toBe(i + 1);
    expect(client.sendEvent("inc", "click")).toBeNull();
    expect(client.notice).toMatchObject({ kind: "error" });
    // A text edit refused for that reason stays on screen as typed, not marked too long.
    client.edit("name", "typed");
    expect(client.edits.get("name")).toEqual({ value: "typed", tooLong: false });
  });
});

describe("tree requests (PHL-CLIENT-011, 012, 013)", () => {
  it("an unusable snapshot is reported and asks one resync; one more unusable snapshot asks nothing", () => {
    const { client, s } = session();
    const dup = { id: "root", type: "Column", children: [{ id: "x", type: "Text" }, { id: "x", type: "Text" }] };
    s.push({ type: "ui.snapshot", seq: 3, rev: 5, root: dup });
    expect(s.ofType("error")).toMatchObject([{ code: "invalid_message" }]);
    expect(s.ofType("resync")).toEqual([{ type: "resync", rev: 1 }]);
    s.push({ type: "ui.snapshot", seq: 4, rev: 5, root: dup });
    s.push({ type: "ui.snapshot", seq: 5, rev: 5, root: { id: 7 } }); // unusable at parse level too
    expect(s.ofType("error")).toHaveLength(3);
    expect(s.ofType("resync")).toHaveLength(1);
    expect(client.store.getNode("count")?.props.text).toBe("Count: 0"); // the previous tree stays
    expect(client.notice).toMatchObject({ kind: "error" });
    s.push(snapshot(6, 6, counterTree(6)));
    expect(client.store.getNode("count")?.props.text).toBe("Count: 6");
  });

  it("a patch operation's unknown fields are ignored", () => {
    const { client, s } = session();
    s.push({ type: "ui.patch", seq: 3, base: 1, rev: 2, ops: [{ id: "count", set: { text: "Count: 1" }, note: "later" }] });
    expect(client.store.getNode("count")?.props.text).toBe("Count: 1");
    expect(s.ofType("resync")).toEqual([]);
    expect(s.ofType("error")).toEqual([]);
  });
});

describe("Link href (PHL-CLIENT-015)", () => {
  it.each([[""], ["   "], [42], [null], [{ url: "https://x" }]])("%j is no link at all", (href) => {
    expect(safeHref(href, "https://app.example/page")).toBeNull();
  });
});
