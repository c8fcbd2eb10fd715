import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PhloemClient } from "../../src/core";
import { TOKEN, counterTree, fakeNetwork, snapshot, welcome } from "../helpers/fakeSocket";

const COMPONENTS = { Column: 1, Text: 1, Button: 1 };

function connect(options: { random?: () => number } = {}) {
  const net = fakeNetwork();
  const client = new PhloemClient({
    url: "ws://test/phloem/ws",
    path: "/counter",
    components: COMPONENTS,
    createSocket: net.factory,
    random: options.random ?? (() => 0.5),
    environment: null, // network and visibility changes: tests/core/network.test.ts
  }).start();
  return { net, client };
}

/** Connected, welcomed (seq 1) and holding the counter snapshot (seq 2, rev 1). */
function session() {
  const { net, client } = connect();
  const s = net.last();
  s.open();
  s.push(welcome(1, { limits: { max_frame_bytes: 65536, max_events_per_second: 50, heartbeat_seconds: 20 } }));
  s.push(snapshot(2, 1));
  return { net, client, s };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("handshake", () => {
  it("offers subprotocol phloem.v1 on the configured url", () => {
    const { net } = connect();
    expect(net.last().url).toBe("ws://test/phloem/ws");
    expect(net.last().protocols).toEqual(["phloem.v1"]);
  });

  it("hello carries versions, the registry's components, the page path and no resume", () => {
    const { net } = connect();
    net.last().open();
    const [hello] = net.last().messages();
    expect(hello).toMatchObject({ type: "hello", versions: ["1.1", "1.0"], components: COMPONENTS, path: "/counter" });
    expect(hello).not.toHaveProperty("resume");
  });

  it("status goes connecting → open on welcome", () => {
    const { net, client } = connect();
    expect(client.status).toBe("connecting");
    net.last().open();
    net.last().push(welcome());
    expect(client.status).toBe("open");
  });

  it("version_unsupported is fatal: status failed and no reconnect", () => {
    const { net, client } = connect();
    const s = net.last();
    s.open();
    s.push({ type: "error", code: "version_unsupported", message: "no", supported: ["2.0"], fatal: true });
    s.drop(4406);
    vi.advanceTimersByTime(60_000);
    expect(client.status).toBe("failed");
    expect(net.sockets).toHaveLength(1);
  });
});

describe("closes", () => {
  it("unauthorized is final: status failed and no reconnect (PHL-SEC-007)", () => {
    const { net, client } = connect();
    const s = net.last();
    s.open();
    s.push({ type: "error", code: "unauthorized", message: "sign in", fatal: true });
    s.drop(4401);
    vi.advanceTimersByTime(60_000);
    expect(client.status).toBe("failed");
    expect(net.sockets).toHaveLength(1);
  });

  it("4401 alone, without the error, is final too", () => {
    const { net, client } = connect();
    net.last().open();
    net.last().drop(4401);
    vi.advanceTimersByTime(60_000);
    expect(client.status).toBe("failed");
    expect(net.sockets).toHaveLength(1);
  });

  it("4000 from a server that heard nothing is followed by a resume (PHL-PING-005)", () => {
    const { net, client, s } = session();
    s.drop(4000);
    expect(client.status).toBe("reconnecting");
    vi.advanceTimersByTime(2_000);
    expect(net.sockets).toHaveLength(2);
    net.last().open();
    const [hello] = net.last().messages();
    expect(hello).toMatchObject({ type: "hello", resume: { token: TOKEN, seq: 2 } });
  });
});

describe("acks", () => {
  it("acks are batched: one ack for several messages after the delay", () => {
    const { s } = session();
    s.push({ type: "ack", seq: 3, event: 99 });
    expect(s.ofType("ack")).toEqual([]);
    vi.advanceTimersByTime(1000);
    expect(s.ofType("ack")).toEqual([{ type: "ack", seq: 3 }]);
    vi.advanceTimersByTime(5000);
    expect(s.ofType("ack")).toHaveLength(1);
  });

  it("an event piggybacks the ack and the timer then sends nothing", () => {
    const { s, client } = session();
    client.sendEvent("inc", "click");
    expect(s.ofType("event")).toEqual([{ type: "event", id: 1, node: "inc", name: "click", rev: 1, ack: 2 }]);
    vi.advanceTimersByTime(5000);
    expect(s.ofType("ack")).toEqual([]);
  });

  it("a long run of messages is acked without waiting for the timer", () => {
    const { s } = session();
    for (let seq = 3; seq <= 40; seq++) s.push({ type: "ack", seq, event: seq });
    expect(s.ofType("ack").length).toBeGreaterThan(0);
  });
});

describe("ping", () => {
  it("server ping is answered with a pong carrying the same id", () => {
    const { s } = session();
    s.push({ type: "ping", seq: 3, id: "barrier-1" });
    s.push({ type: "ping", seq: 4, id: 42 });
    s.push({ type: "ping", seq: 5 });
    expect(s.ofType("pong")).toEqual([{ type: "pong", id: "barrier-1" }, { type: "pong", id: 42 }, { type: "pong" }]);
  });

  it("a client that has sent nothing for heartbeat_seconds pings", () => {
    const { s } = session();
    vi.advanceTimersByTime(1_000); // the batched ack of the snapshot is the last frame sent
    expect(s.ofType("ping")).toHaveLength(0);
    vi.advanceTimersByTime(19_999);
    expect(s.ofType("ping")).toHaveLength(0);
    vi.advanceTimersByTime(10_001);
    expect(s.ofType("ping")).toHaveLength(1);
  });

  it("nothing received within a heartbeat of the ping means a dead connection: close and resume", () => {
    const { s, net } = session();
    vi.advanceTimersByTime(30_000);
    expect(s.ofType("ping")).toHaveLength(1);
    expect(s.closedWith).toBeNull();
    vi.advanceTimersByTime(20_000);
    expect(s.closedWith).toBe(4000);
    vi.advanceTimersByTime(100);
    net.last().open();
    expect(net.last().messages()[0]).toMatchObject({ resume: { seq: 2 } });
  });

  it("an answered ping keeps the connection", () => {
    const { s } = session();
    vi.advanceTimersByTime(30_000);
    s.push({ type: "pong", id: "c1" });
    vi.advanceTimersByTime(20_000);
    expect(s.closedWith).toBeNull();
  });
});

describe("events", () => {
  it("event ids start at 1 and strictly increase", () => {
    const { s, client } = session();
    client.sendEvent("inc", "click");
    client.sendEvent("inc", "click");
    client.sendEvent("inc", "click", { any: "value" });
    expect(s.ofType("event").map((e) => e.id)).toEqual([1, 2, 3]);
    expect(s.ofType("event")[2]).toMatchObject({ value: { any: "value" } });
  });

  it("events sent before the handshake go out after welcome", () => {
    const { net, client } = connect();
    client.sendEvent("inc", "click");
    const s = net.last();
    s.open();
    expect(s.ofType("event")).toEqual([]);
    s.push(welcome());
    expect(s.ofType("event")).toMatchObject([{ id: 1, node: "inc", name: "click" }]);
  });
});

describe("reconnect and resume", () => {
  it("a dropped connection reconnects with backoff and resumes with token and last seq", () => {
    const { s, net, client } = session();
    s.push({ type: "ack", seq: 3, event: 7 });
    s.drop();
    expect(client.status).toBe("reconnecting");
    expect(net.sockets).toHaveLength(1);
    vi.advanceTimersByTime(100);
    expect(net.sockets).toHaveLength(2);
    const s2 = net.last();
    s2.open();
    expect(s2.messages()[0]).toMatchObject({ type: "hello", resume: { token: TOKEN, seq: 3 } });
  });

  it("backoff doubles up to its cap", () => {
    const { net } = connect({ random: () => 0.5 });
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      const count = net.sockets.length;
      net.last().drop();
      let waited = 0;
      while (net.sockets.length === count) {
        vi.advanceTimersByTime(10);
        waited += 10;
      }
      delays.push(waited);
    }
    expect(delays).toEqual([100, 200, 400, 800, 1600, 2000, 2000]);
  });

  it("unanswered events are resent with their ids after resume; ids keep increasing", () => {
    const { s, net, client } = session();
    client.sendEvent("inc", "click"); // id 1, answered below
    client.sendEvent("inc", "click"); // id 2, lost with the connection
    s.push({ type: "ui.patch", seq: 3, base: 1, rev: 2, event: 1, ops: [{ id: "count", set: { text: "Count: 1" } }] });
    s.drop();
    client.sendEvent("inc", "click"); // id 3, while offline
    vi.advanceTimersByTime(100);
    const s2 = net.last();
    s2.open();
    s2.push(welcome(4, { resumed: true }));
    expect(s2.ofType("event").map((e) => e.id)).toEqual([2, 3]);
    client.sendEvent("inc", "click");
    expect(s2.ofType("event").map((e) => e.id)).toEqual([2, 3, 4]);
  });

  it("after a resumed welcome (seq = resume.seq + 1) the renumbered missed messages apply", () => {
    const { s, net, client } = session();
    s.push({ type: "ui.patch", seq: 3, base: 1, rev: 2, ops: [{ id: "count", set: { text: "Count: 1" } }] });
    s.drop();
    vi.advanceTimersByTime(100);
    const s2 = net.last();
    s2.open();
    expect(s2.messages()[0]).toMatchObject({ resume: { seq: 3 } });
    s2.push(welcome(4, { resumed: true }));
    s2.push({ type: "ui.patch", seq: 5, base: 2, rev: 3, ops: [{ id: "count", set: { text: "Count: 2" } }] });
    expect(client.store.rev).toBe(3);
    expect(client.store.getNode("count")?.props.text).toBe("Count: 2");
    expect(s2.ofType("resync")).toEqual([]);
    expect(s2.closedWith).toBeNull();
  });

  it("a gap in seq closes with 4002 and resumes from the last seq processed", () => {
    const { s, net } = session();
    s.push({ type: "ack", seq: 4, event: 1 });
    expect(s.closedWith).toBe(4002);
    vi.advanceTimersByTime(100);
    net.last().open();
    expect(net.last().messages()[0]).toMatchObject({ type: "hello", resume: { seq: 2 } });
  });

  it("a repeated seq also closes with 4002", () => {
    const { s } = session();
    s.push({ type: "ack", seq: 2, event: 1 });
    expect(s.closedWith).toBe(4002);
  });

  it("a resumed welcome with the wrong seq closes with 4002", () => {
    const { s, net } = session();
    s.drop();
    vi.advanceTimersByTime(100);
    const s2 = net.last();
    s2.open();
    s2.push(welcome(9, { resumed: true }));
    expect(s2.closedWith).toBe(4002);
  });

  it("a refused resume discards tree and unanswered events, tells the user, then takes the new snapshot", () => {
    const { s, net, client } = session();
    client.sendEvent("inc", "click");
    s.drop();
    vi.advanceTimersByTime(100);
    const s2 = net.last();
    s2.open();
    s2.push(welcome(1, { token: "another-token-0123456" }));
    expect(client.store.getRoot()).toBeNull();
    expect(client.notice).toMatchObject({ kind: "info" });
    s2.push(snapshot(2, 1, counterTree(5)));
    expect(s2.ofType("event")).toEqual([]);
    expect(client.store.getNode("count")?.props.text).toBe("Count: 5");
  });

  it("stop closes the socket and does not reconnect", () => {
    const { s, net, client } = session();
    client.stop();
    expect(s.closedWith).toBe(1000);
    vi.advanceTimersByTime(10_000);
    expect(net.sockets).toHaveLength(1);
    expect(client.status).toBe("closed");
  });
});

describe("tree messages", () => {
  it("stale patch sends resync with the client's revision", () => {
    const { s, client } = session();
    s.push({ type: "ui.patch", seq: 3, base: 4, rev: 5, ops: [{ id: "count", set: { text: "x" } }] });
    expect(s.ofType("resync")).toEqual([{ type: "resync", rev: 1 }]);
    expect(client.store.getNode("count")?.props.text).toBe("Count: 0");
  });

  it("a resync lost with the connection is asked again after resume", () => {
    const { s, net } = session();
    s.drop();
    s.push({ type: "ui.patch", seq: 3, base: 4, rev: 5, ops: [{ id: "count", set: { text: "x" } }] });
    vi.advanceTimersByTime(100);
    const s2 = net.last();
    s2.open();
    s2.push(welcome(3, { resumed: true }));
    s2.push({ type: "ui.patch", seq: 4, base: 4, rev: 5, ops: [{ id: "count", set: { text: "x" } }] });
    expect(s2.ofType("resync")).toHaveLength(1);
  });
});

describe("bad server messages", () => {
  it("an unknown message type is ignored, its seq counted, nothing reported", () => {
    const { s, client } = session();
    s.push({ type: "no.such", seq: 3 });
    s.push({ type: "ui.patch", seq: 4, base: 1, rev: 2, ops: [{ id: "count", set: { text: "Count: 1" } }] });
    expect(s.ofType("error")).toEqual([]);
    expect(s.closedWith).toBeNull();
    expect(client.store.getNode("count")?.props.text).toBe("Count: 1");
  });

  it.each([
    ["malformed_frame", "{not json", false],
    ["invalid_message", JSON.stringify({ type: "ui.snapshot", seq: 3, rev: 1, root: { id: 5 } }), true],
  ])("%s is reported to the server and the session goes on", (code, frame, resyncs) => {
    const { s, client } = session();
    s.push(frame);
    expect(s.ofType("error")).toMatchObject([{ type: "error", code }]);
    // A bad snapshot leaves the tree in doubt: the client asks for a fresh one and ignores
    // patches until it comes (PHL-PATCH-014); an unparsable frame changes nothing.
    expect(s.ofType("resync")).toHaveLength(resyncs ? 1 : 0);
    let seq = 4;
    if (resyncs) s.push({ type: "ui.snapshot", seq: seq++, rev: 1, root: counterTree() });
    s.push({ type: "ui.patch", seq, base: 1, rev: 2, ops: [{ id: "count", set: { text: "Count: 1" } }] });
    expect(client.store.getNode("count")?.props.text).toBe("Count: 1");
  });

  it("a binary frame is malformed_frame", () => {
    const { s } = session();
    s.push(new ArrayBuffer(4));
    expect(s.ofType("error")).toMatchObject([{ code: "malformed_frame" }]);
  });

  it("an invalid patch is reported and the client asks for resync", () => {
    const { s } = session();
    s.push({ type: "ui.patch", seq: 3, base: 1, rev: 2, ops: [{ id: "count" }] });
    expect(s.ofType("error")).toMatchObject([{ code: "invalid_message" }]);
    expect(s.ofType("resync")).toEqual([{ type: "resync", rev: 1 }]);
  });

  it("a handler_error becomes a notice for the user", () => {
    const { s, client } = session();
    s.push({ type: "error", seq: 3, code: "handler_error", message: "boom", event: 1 });
    expect(client.error).toMatchObject({ code: "handler_error", message: "boom" });
    expect(client.notice).toMatchObject({ kind: "error", detail: "boom" });
  });

  it("an error code this client does not know is handled by its fatal flag alone", () => {
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const { s, client } = session();
    s.push({ type: "error", seq: 3, code: "from_the_future", message: "?" });
    expect(client.notice).toBeNull();
    expect(s.closedWith).toBeNull();
    s.push({ type: "ping", seq: 4, id: 1 });
    expect(s.ofType("pong")).toHaveLength(1);
  });

  it("a welcome naming a version the client did not offer closes with 4002 for good", () => {
    const { net, client } = connect();
    const s = net.last();
    s.open();
    s.push({ ...welcome(), version: "2.0" });
    expect(s.closedWith).toBe(4002);
    expect(client.status).toBe("failed");
    vi.advanceTimersByTime(60_000);
    expect(net.sockets).toHaveLength(1);
  });
});

describe("limits", () => {
  it("events stay within max_events_per_second; the rest follow as tokens refill", () => {
    const { net, client } = connect();
    const s = net.last();
    s.open();
    s.push(welcome(1, { limits: { max_frame_bytes: 65536, max_events_per_second: 5 } }));
    for (let i = 0; i < 8; i++) client.sendEvent("inc", "click");
    expect(s.ofType("event")).toHaveLength(5);
    vi.advanceTimersByTime(1000);
    expect(s.ofType("event").map((e) => e.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("an event larger than max_frame_bytes is not sent", () => {
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const { net, client } = connect();
    const s = net.last();
    s.open();
    s.push(welcome(1, { limits: { max_frame_bytes: 1024, max_events_per_second: 50 } }));
    client.sendEvent("inc", "input", "x".repeat(2000));
    client.sendEvent("inc", "click");
    expect(s.ofType("event").map((e) => e.id)).toEqual([2]);
  });
});
