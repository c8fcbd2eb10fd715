import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PhloemClient, browserEnvironment, installTestHooks, type EnvironmentChange } from "../../src/core";
import { TOKEN, fakeEnvironment, fakeNetwork, snapshot, welcome } from "../helpers/fakeSocket";

// The browser's offline/online and visibility changes (via an injected environment), the
// connect timeout, and the window.__phloem test hooks.

const COMPONENTS = { Column: 1, Text: 1, Button: 1 };
const LIMITS = { max_frame_bytes: 65536, max_events_per_second: 50, heartbeat_seconds: 20 };
const patch = (seq: number, rev: number, event?: number) => ({
  type: "ui.patch",
  seq,
  base: rev - 1,
  rev,
  ...(event === undefined ? {} : { event }),
  ops: [{ id: "count", set: { text: `Count: ${rev - 1}` } }],
});

function connect() {
  const net = fakeNetwork();
  const env = fakeEnvironment();
  const client = new PhloemClient({
    url: "ws://test/phloem/ws",
    path: "/counter",
    components: COMPONENTS,
    createSocket: net.factory,
    random: () => 0.5, // backoff without jitter: 100, 200, 400, … 2000 ms
    environment: env,
  }).start();
  return { net, env, client };
}

/** Welcomed (seq 1) and holding the counter snapshot (seq 2, rev 1). */
function session() {
  const { net, env, client } = connect();
  const s = net.last();
  s.open();
  s.push(welcome(1, { limits: LIMITS }));
  s.push(snapshot(2, 1));
  return { net, env, client, s };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("offline", () => {
  it("closes the socket at once and shows reconnecting, without waiting for the heartbeat", () => {
    const { s, env, client } = session();
    env.emit("offline");
    expect(s.closedWith).toBe(4000);
    expect(client.status).toBe("reconnecting");
  });

  it("is reported (to status listeners too) until online, or until a welcome gets through", () => {
    const { net, env, client } = session();
    const heard = vi.fn();
    client.transport.subscribeStatus(heard);
    expect(client.transport.offline).toBe(false);
    env.emit("offline");
    expect(client.transport.offline).toBe(true);
    expect(heard).toHaveBeenCalled();
    env.emit("online");
    expect(client.transport.offline).toBe(false);
    env.emit("offline");
    vi.advanceTimersByTime(100);
    net.last().open();
    net.last().push(welcome(3, { resumed: true, limits: LIMITS })); // the browser was wrong
    expect(client.transport.offline).toBe(false);
  });

  it("events clicked while offline wait; after the resume they follow the unanswered ones, ids and order kept", () => {
    const { s, net, env, client } = session();
    client.sendEvent("inc", "click"); // id 1: answered
    s.push(patch(3, 2, 1));
    client.sendEvent("inc", "click"); // id 2: written to a socket that was already dead
    env.emit("offline");
    expect(client.sendEvent("inc", "click")).toBe(3);
    client.sendEvent("inc", "input", "x"); // id 4
    vi.advanceTimersByTime(100);
    net.last().drop(); // a retry while offline fails
    expect(net.sockets).toHaveLength(2);
    for (const sock of net.sockets) expect(sock.ofType("event").map((e) => e.id)).not.toContain(3);

    env.emit("online");
    const s2 = net.last();
    expect(net.sockets).toHaveLength(3); // no backoff wait
    s2.open();
    expect(s2.messages()[0]).toMatchObject({ type: "hello", resume: { token: TOKEN, seq: 3 } });
    s2.push(welcome(4, { resumed: true, limits: LIMITS }));
    expect(client.status).toBe("open");
    expect(s2.ofType("event")).toEqual([
      { type: "event", id: 2, node: "inc", name: "click", rev: 2, ack: 4 },
      { type: "event", id: 3, node: "inc", name: "click", rev: 2 },
      { type: "event", id: 4, node: "inc", name: "input", value: "x", rev: 2 },
    ]);
    expect(client.sendEvent("inc", "click")).toBe(5);
  });

  it("is ignored while already disconnected (the pending retry stays)", () => {
    const { s, net, env } = session();
    s.drop();
    env.emit("offline");
    vi.advanceTimersByTime(100);
    expect(net.sockets).toHaveLength(2);
  });
});

describe("online", () => {
  it("reconnects at once, skipping a long backoff, and resets the backoff", () => {
    const { net, env, client } = session();
    env.emit("offline");
    for (let i = 0; i < 6; i++) {
      vi.advanceTimersByTime(2000); // 100, 200, … capped at 2000 ms
      net.last().drop();
    }
    const count = net.sockets.length;
    env.emit("online");
    expect(net.sockets).toHaveLength(count + 1);
    expect(client.status).toBe("reconnecting");
    net.last().drop(); // the network is not quite back: the next try is soon, not in 2 s
    vi.advanceTimersByTime(100);
    expect(net.sockets).toHaveLength(count + 2);
  });

  it("gives up an attempt started while offline and opens a fresh one", () => {
    const { net, env } = session();
    env.emit("offline");
    vi.advanceTimersByTime(100);
    const hanging = net.last(); // neither opened nor failed
    env.emit("online");
    expect(hanging.closedWith).toBe(4000);
    expect(net.last()).not.toBe(hanging);
    hanging.drop(); // its late close changes nothing
    expect(net.sockets).toHaveLength(3);
  });

  it("resumes within a round trip: no timer has to run between online and the resumed welcome", () => {
    const { net, env, client } = session();
    env.emit("offline");
    vi.advanceTimersByTime(5000);
    env.emit("online");
    const s = net.last();
    s.open();
    s.push(welcome(3, { resumed: true, limits: LIMITS }));
    expect(client.status).toBe("open");
    expect(client.store.getNode("count")?.props.text).toBe("Count: 0"); // the same tree, kept
  });

  it("with the session still open, probes it instead of reconnecting", () => {
    const { s, net, env } = session();
    env.emit("online");
    expect(s.ofType("ping")).toEqual([{ type: "ping", id: "c1" }]);
    s.push({ type: "pong", id: "c1" });
    vi.advanceTimersByTime(5000);
    expect(s.closedWith).toBeNull();
    expect(net.sockets).toHaveLength(1);
  });
});

describe("visible again", () => {
  it("pings; the pong keeps the socket", () => {
    const { s, env } = session();
    env.emit("visible");
    expect(s.ofType("ping")).toHaveLength(1);
    vi.advanceTimersByTime(1500);
    s.push({ type: "pong", id: "c1" });
    vi.advanceTimersByTime(10_000);
    expect(s.closedWith).toBeNull();
  });

  it("anything received counts as an answer", () => {
    const { s, env } = session();
    env.emit("visible");
    s.push(patch(3, 2));
    vi.advanceTimersByTime(5000);
    expect(s.closedWith).toBeNull();
  });

  it("no answer within 2 s: the socket is dead, closed and the session resumed", () => {
    const { s, net, env, client } = session();
    env.emit("visible");
    env.emit("visible"); // one probe at a time
    expect(s.ofType("ping")).toHaveLength(1);
    client.sendEvent("inc", "click"); // id 1, into the dead socket
    vi.advanceTimersByTime(1999);
    expect(s.closedWith).toBeNull();
    vi.advanceTimersByTime(1);
    expect(s.closedWith).toBe(4000);
    expect(client.status).toBe("reconnecting");
    vi.advanceTimersByTime(100);
    const s2 = net.last();
    expect(s2).not.toBe(s);
    s2.open();
    expect(s2.messages()[0]).toMatchObject({ resume: { token: TOKEN, seq: 2 } });
    s2.push(welcome(3, { resumed: true, limits: LIMITS }));
    expect(s2.ofType("event").map((e) => e.id)).toEqual([1]);
  });

  it("while waiting out the backoff, reconnects at once (background timers run late)", () => {
    const { s, net, env } = session();
    s.drop();
    expect(net.sockets).toHaveLength(1);
    env.emit("visible");
    expect(net.sockets).toHaveLength(2);
    expect(net.last().ofType("ping")).toEqual([]); // no ping before the handshake (PHL-HS-011)
  });
});

describe("lifecycle", () => {
  it("stop stops watching; changes after stop or a fatal version error do nothing", () => {
    const { s, net, env, client } = session();
    expect(env.watchers).toBe(1);
    client.stop();
    expect(env.watchers).toBe(0);
    for (const c of ["offline", "online", "visible"] as const) env.emit(c);
    expect(net.sockets).toHaveLength(1);
    expect(s.ofType("ping")).toEqual([]);

    const other = connect();
    other.net.last().open();
    other.net.last().push({ type: "error", code: "version_unsupported", message: "no", supported: ["2.0"], fatal: true });
    other.net.last().drop(4406);
    other.env.emit("online");
    other.env.emit("visible");
    expect(other.net.sockets).toHaveLength(1);
    expect(other.client.status).toBe("failed");
  });

  it("start twice watches once", () => {
    const { env, client } = connect();
    client.start();
    expect(env.watchers).toBe(1);
  });

  it("an attempt with no welcome within 10 s is given up and retried", () => {
    const { net, client } = connect();
    net.last().open();
    vi.advanceTimersByTime(9_999);
    expect(net.last().closedWith).toBeNull();
    vi.advanceTimersByTime(1);
    expect(net.sockets[0]?.closedWith).toBe(4000);
    expect(client.status).toBe("reconnecting");
    vi.advanceTimersByTime(100);
    expect(net.sockets).toHaveLength(2);
    net.last().open();
    net.last().push(welcome());
    vi.advanceTimersByTime(60_000);
    expect(net.sockets).toHaveLength(2);
  });
});

describe("browserEnvironment", () => {
  it("reports window offline/online, and visible only after the page was hidden", () => {
    let state: DocumentVisibilityState = "visible";
    Object.defineProperty(document, "visibilityState", { configurable: true, get: () => state });
    const seen: EnvironmentChange[] = [];
    const stop = browserEnvironment.watch((c) => seen.push(c));
    try {
      window.dispatchEvent(new Event("offline"));
      window.dispatchEvent(new Event("online"));
      document.dispatchEvent(new Event("visibilitychange")); // visible → visible: nothing
      state = "hidden";
      document.dispatchEvent(new Event("visibilitychange"));
      state = "visible";
      document.dispatchEvent(new Event("visibilitychange"));
      expect(seen).toEqual(["offline", "online", "visible"]);
      stop();
      window.dispatchEvent(new Event("offline"));
      expect(seen).toHaveLength(3);
    } finally {
      stop();
      delete (document as { visibilityState?: unknown }).visibilityState; // back to happy-dom's own
    }
  });
});

describe("test hooks (window.__phloem)", () => {
  it("are not installed unless __PHLOEM_CONFIG__.testHooks is true", () => {
    const { client } = session();
    for (const cfg of [undefined, {}, { testHooks: false }, { testHooks: "true" as unknown as boolean }]) {
      const page: Parameters<typeof installTestHooks>[1] = {};
      if (cfg) page.__PHLOEM_CONFIG__ = cfg;
      expect(installTestHooks(client, page)).toBe(false);
      expect(page).not.toHaveProperty("__phloem");
    }
  });

  it("dropConnection drops the socket; status() follows; the session resumes", () => {
    const { s, net, client } = session();
    const page: Parameters<typeof installTestHooks>[1] = { __PHLOEM_CONFIG__: { testHooks: true } };
    expect(installTestHooks(client, page)).toBe(true);
    const hooks = page.__phloem!;
    expect(hooks.status()).toBe("open");
    hooks.dropConnection();
    expect(s.closedWith).toBe(4000);
    expect(hooks.status()).toBe("reconnecting");
    client.sendEvent("inc", "click");
    vi.advanceTimersByTime(100);
    const s2 = net.last();
    s2.open();
    expect(s2.messages()[0]).toMatchObject({ resume: { token: TOKEN, seq: 2 } });
    s2.push(welcome(3, { resumed: true, limits: LIMITS }));
    expect(hooks.status()).toBe("open");
    expect(s2.ofType("event").map((e) => e.id)).toEqual([1]);
    hooks.dropConnection();
    hooks.dropConnection(); // already down: nothing more
    expect(net.sockets).toHaveLength(2);
  });

  it("dropConnection(ms) stays down that long", () => {
    const { net, client } = session();
    const page: Parameters<typeof installTestHooks>[1] = { __PHLOEM_CONFIG__: { testHooks: true } };
    installTestHooks(client, page);
    page.__phloem!.dropConnection(1500);
    vi.advanceTimersByTime(1499);
    expect(net.sockets).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(net.sockets).toHaveLength(2);
  });

  it("go on window by default", () => {
    const { client } = session();
    window.__PHLOEM_CONFIG__ = { testHooks: true };
    try {
      expect(installTestHooks(client)).toBe(true);
      expect(window.__phloem?.status()).toBe("open");
    } finally {
      delete window.__PHLOEM_CONFIG__;
      delete window.__phloem;
    }
  });
});
