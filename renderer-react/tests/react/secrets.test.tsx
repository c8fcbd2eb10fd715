import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PhloemClient, installTestHooks, type PhloemTestHooks } from "../../src/core";
import { mount } from "../../src/react";
import { createRegistry } from "../../src/registry";
import { fakeEnvironment, fakeNetwork, snapshot, welcome } from "../helpers/fakeSocket";

// PHL-SEC-006: the resume token never reaches a URL, the console or storage. Audited as the
// conformance adapter's `audit` command does: page URL, console output, localStorage,
// sessionStorage and document.cookie; plus every WebSocket URL and the rendered DOM.

const TOKENS = ["tok-first-3f9a1c77d2b04e6a", "tok-second-8be02d41c9f35a10", "tok-third-51d7a9e0b6c24f83"];
const LIMITS = { max_frame_bytes: 512, max_events_per_second: 50, heartbeat_seconds: 20 };

let console_: string[] = [];
beforeEach(() => {
  console_ = [];
  for (const level of ["log", "info", "warn", "error", "debug", "trace"] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      console_.push(args.map((a) => (typeof a === "string" ? a : (JSON.stringify(a) ?? String(a)))).join(" "));
    });
  }
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
  document.body.innerHTML = "";
});

function storage(s: Storage): string {
  const out: string[] = [];
  for (let i = 0; i < s.length; i++) {
    const key = s.key(i) ?? "";
    out.push(`${key}=${s.getItem(key) ?? ""}`);
  }
  return out.join("\n");
}

describe("the resume token (PHL-SEC-006)", () => {
  it("appears in no URL, console output, storage or cookie through resumes, a refused resume and errors", () => {
    vi.useFakeTimers();
    const registry = createRegistry();
    const net = fakeNetwork();
    const env = fakeEnvironment();
    const hooks: { __PHLOEM_CONFIG__?: { testHooks: boolean }; __phloem?: PhloemTestHooks } = {
      __PHLOEM_CONFIG__: { testHooks: true },
    };
    const client = new PhloemClient({
      url: "ws://test/phloem/ws",
      path: "/counter",
      components: registry.versions(),
      createSocket: net.factory,
      environment: env,
      random: () => 0.5,
    });
    const container = document.createElement("div");
    document.body.appendChild(container);
    const root = mount(container, client, registry);
    client.start();
    installTestHooks(client, hooks);

    // Session 1, with things that log: an unknown error code, a protocol error (seq gap).
    let s = net.last();
    s.open();
    s.push(welcome(1, { token: TOKENS[0], limits: LIMITS }));
    s.push(snapshot(2, 1));
    client.sendEvent("inc", "click");
    client.sendEvent("inc", "click", "z".repeat(600)); // too large: logged, not sent
    s.push({ type: "error", seq: 3, code: "some_future_code", message: "later", event: 1 });
    s.push({ type: "error", seq: 4, code: "handler_error", message: "boom", event: 9 });
    s.push({ type: "ack", seq: 9 }); // a gap: 4002 and a resume
    vi.advanceTimersByTime(200);

    // Session 1 resumed under a rotated token; then offline, back, and a probe timeout.
    s = net.last();
    s.open();
    s.push(welcome(5, { resumed: true, token: TOKENS[1], limits: LIMITS }));
    env.emit("offline");
    vi.advanceTimersByTime(200);
    env.emit("online");
    s = net.last();
    s.open();
    s.push(welcome(6, { resumed: true, token: TOKENS[1], limits: LIMITS }));
    hooks.__phloem?.dropConnection(50);
    vi.advanceTimersByTime(100);

    // Refused: a new session with a third token.
    s = net.last();
    s.open();
    s.push(welcome(1, { token: TOKENS[2], limits: LIMITS }));
    s.push(snapshot(2, 1));
    s.drop();
    vi.advanceTimersByTime(200);
    net.last().open();

    // The token did go where it must: in hello.resume, on the socket only.
    expect(net.sockets.some((sock) => sock.messages().some((m) => JSON.stringify(m).includes(TOKENS[1]!)))).toBe(true);

    const audit = {
      page: window.location.href,
      sockets: net.sockets.map((sock) => sock.url).join("\n"),
      console: console_.join("\n"),
      localStorage: storage(window.localStorage),
      sessionStorage: storage(window.sessionStorage),
      cookie: document.cookie,
      dom: document.documentElement.outerHTML,
      hooks: JSON.stringify(hooks),
    };
    expect(console_.length).toBeGreaterThan(0); // the scenario did log
    for (const token of TOKENS) {
      for (const [where, text] of Object.entries(audit)) {
        expect(text.includes(token), `${token} found in ${where}`).toBe(false);
      }
    }
    client.stop();
    root.unmount();
  });
});
