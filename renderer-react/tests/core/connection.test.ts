import fc from "fast-check";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ClientConnection, INPUTS, STATES, TRANSITIONS, type Effect, type Input, type State } from "../../src/core";
import { hasSocket } from "../../src/core/lifecycle";

// The sans-IO client connection, driven by plain calls with a fake time: every state × every
// input against the table in lifecycle.ts, then random input sequences against invariants.

const LIMITS = { max_frame_bytes: 65536, max_events_per_second: 50, heartbeat_seconds: 20 };
const TOKEN = "tok-0123456789abcdef";

const welcomeFrame = (seq: number, resumed = false) =>
  JSON.stringify({ type: "welcome", seq, version: "1.0", session: "s1", token: TOKEN, limits: LIMITS, ...(resumed ? { resumed } : {}) });

function fresh(now = 0): ClientConnection {
  return new ClientConnection({ path: "/", components: { Text: 1 }, random: () => 0.5 }, now);
}

/** Brings a fresh connection to `state` with the inputs of the table (and the frames they need). */
function reach(state: State): ClientConnection {
  const c = fresh();
  const steps: Record<State, Array<(c: ClientConnection) => void>> = {
    idle: [],
    connecting: [(c) => c.start(0)],
    handshaking: [(c) => c.start(0), (c) => c.opened(0)],
    open: [(c) => c.start(0), (c) => c.opened(0), (c) => c.receive(welcomeFrame(1), 0)],
    waiting: [(c) => c.start(0), (c) => c.opened(0), (c) => c.receive(welcomeFrame(1), 0), (c) => c.closed(1006, 0)],
    failed: [(c) => c.start(0), (c) => c.opened(0), (c) => c.closed(4406, 0)],
    closed: [(c) => c.start(0), (c) => c.stop()],
  };
  for (const step of steps[state]) step(c);
  c.effects.length = 0;
  expect(c.current).toBe(state);
  return c;
}

/** One concrete call per table input. */
const DELIVER: Record<Input, (c: ClientConnection) => void> = {
  start: (c) => c.start(10),
  opened: (c) => c.opened(10),
  welcomed: (c) => c.receive(welcomeFrame(1), 10),
  lost: (c) => c.closed(1006, 10),
  refused: (c) => c.closed(4401, 10),
  ended: (c) => c.closed(4409, 10),
  retry: (c) => c.network("online", 10),
  stop: (c) => c.stop(),
};

describe("the state table", () => {
  for (const state of STATES) {
    for (const input of INPUTS) {
      const next = TRANSITIONS[state][input] ?? state;
      it(`${state} × ${input} → ${next}`, () => {
        const c = reach(state);
        DELIVER[input](c);
        expect(c.current).toBe(next);
        const connects = c.effects.filter((e) => e.type === "connect").length;
        // A socket is asked for exactly when the table enters connecting.
        expect(connects).toBe(TRANSITIONS[state][input] === "connecting" ? 1 : 0);
        // We close a socket only when we leave it ourselves; a peer's close needs none.
        const closes = c.effects.filter((e) => e.type === "close").length;
        const ours = input === "stop" || input === "retry" || (state === "open" && input === "welcomed");
        expect(closes).toBe(hasSocket(state) && ours && TRANSITIONS[state][input] !== undefined ? 1 : 0);
      });
    }
  }

  it("the state changes in one place: go(), which follows the table", () => {
    const source = readFileSync(resolve(__dirname, "../../src/core/connection.ts"), "utf8");
    const assignments = source.match(/this\.state = /g) ?? [];
    expect(assignments).toHaveLength(1);
    expect(source).toMatch(/const next = transition\(this\.state, input\);[\s\S]{0,80}this\.state = next;/);
  });

  it("every waiting state has a retry deadline: the client never stalls", () => {
    const c = reach("waiting");
    expect(Number.isFinite(c.deadline())).toBe(true);
    c.poll(c.deadline());
    expect(c.current).toBe("connecting");
  });
});

// --- random sequences ---------------------------------------------------------------------

type Command =
  | { kind: "start" | "stop" | "opened" }
  | { kind: "welcome"; resumed: boolean }
  | { kind: "patch"; skip: number }
  | { kind: "ping" }
  | { kind: "fatal"; code: string }
  | { kind: "closed"; code: number }
  | { kind: "advance"; ms: number }
  | { kind: "network"; change: "offline" | "online" | "visible" }
  | { kind: "event" };

/** Every concrete command, equally likely, so that short sequences reach every state. */
const CONCRETE: Command[] = [
  { kind: "start" },
  { kind: "stop" },
  { kind: "opened" },
  { kind: "opened" },
  { kind: "ping" },
  { kind: "event" },
  { kind: "event" },
  { kind: "welcome", resumed: false },
  { kind: "welcome", resumed: true },
  { kind: "patch", skip: 0 },
  { kind: "patch", skip: 0 },
  { kind: "patch", skip: 1 },
  { kind: "patch", skip: -1 },
  ...["internal_error", "version_unsupported", "from_the_future"].map((code): Command => ({ kind: "fatal", code })),
  ...[1000, 1001, 1006, 1011, 4000, 4401, 4406, 4409, 4999].map((code): Command => ({ kind: "closed", code })),
  ...(["offline", "online", "visible"] as const).map((change): Command => ({ kind: "network", change })),
];
const command: fc.Arbitrary<Command> = fc.oneof(
  { arbitrary: fc.constantFrom(...CONCRETE), weight: 6 },
  { arbitrary: fc.integer({ min: 1, max: 60_000 }).map((ms): Command => ({ kind: "advance", ms })), weight: 1 },
);

/** What the fake server and socket know, checked against the connection after every command. */
class World {
  readonly c = fresh();
  now = 0;
  socket = false;
  welcomed = false;
  sentOnSocket: Array<Record<string, unknown>> = [];
  serverSeq = 0;
  delivered = 0;
  lastEventId = 0;

  run(cmd: Command): void {
    const c = this.c;
    switch (cmd.kind) {
      case "start":
        c.start(this.now);
        break;
      case "stop":
        c.stop();
        break;
      case "opened":
        if (this.socket && c.current === "connecting") c.opened(this.now);
        break;
      case "welcome":
        if (!this.socket) break;
        this.serverSeq = cmd.resumed ? c.lastSeq + 1 : 1;
        c.receive(welcomeFrame(this.serverSeq, cmd.resumed), this.now);
        break;
      case "patch": {
        if (!this.socket) break;
        const seq = this.serverSeq + 1 + cmd.skip;
        if (cmd.skip === 0) this.serverSeq = seq;
        const msg = c.receive(JSON.stringify({ type: "ui.patch", seq, base: 0, rev: 1, ops: [{ id: "a", remove: true }] }), this.now);
        if (msg !== null) this.delivered = Math.max(this.delivered, seq);
        break;
      }
      case "ping":
        if (!this.socket) break;
        this.serverSeq += 1;
        c.receive(JSON.stringify({ type: "ping", seq: this.serverSeq, id: "p" }), this.now);
        break;
      case "fatal":
        if (this.socket) c.receive(JSON.stringify({ type: "error", code: cmd.code, message: "x", fatal: true }), this.now);
        break;
      case "closed":
        if (!this.socket) break;
        this.socket = false;
        c.closed(cmd.code, this.now);
        break;
      case "advance": {
        const until = this.now + cmd.ms;
        // Every deadline on the way is honoured, as the shell's one timer would.
        for (let d = c.deadline(); d <= until; d = c.deadline()) {
          this.now = Math.max(this.now, d);
          c.poll(this.now);
          this.perform();
        }
        this.now = until;
        break;
      }
      case "network":
        c.network(cmd.change, this.now);
        break;
      case "event":
        c.sendEvent("a", "click", undefined, 1, this.now);
        break;
    }
    this.perform();
  }

  /** The shell's part, with the checks that every effect makes sense where it happens. */
  perform(): void {
    for (const effect of this.c.effects) this.check(effect);
    this.c.effects.length = 0;
    expect(hasSocket(this.c.current)).toBe(this.socket);
    if (this.c.current === "waiting") expect(Number.isFinite(this.c.deadline())).toBe(true);
  }

  check(effect: Effect): void {
    switch (effect.type) {
      case "connect":
        expect(this.socket).toBe(false); // an old socket is closed first
        this.socket = true;
        this.welcomed = false;
        this.sentOnSocket = [];
        this.lastEventId = 0;
        break;
      case "close":
        expect(this.socket).toBe(true);
        this.socket = false;
        break;
      case "welcome":
        this.welcomed = true;
        break;
      case "send": {
        expect(this.socket).toBe(true);
        const msg = JSON.parse(effect.frame) as Record<string, unknown>;
        // hello first, and nothing else before the welcome (PHL-HS-001, PHL-HS-011).
        if (this.sentOnSocket.length === 0) expect(msg.type).toBe("hello");
        else expect(this.welcomed).toBe(true);
        // Never acknowledge a seq not processed (PHL-DELIV-002).
        const ack = msg.type === "ack" ? msg.seq : msg.ack;
        if (typeof ack === "number") expect(ack).toBeLessThanOrEqual(Math.max(this.serverSeq, this.c.lastSeq));
        // Event ids strictly increase on a connection (PHL-EVT-002, resends included).
        if (msg.type === "event") {
          expect(msg.id as number).toBeGreaterThan(this.lastEventId);
          this.lastEventId = msg.id as number;
        }
        this.sentOnSocket.push(msg);
        break;
      }
      default:
        break;
    }
  }
}

describe("random input sequences", () => {
  it("keep the socket, the table and the frames consistent", () => {
    fc.assert(
      fc.property(fc.array(command, { minLength: 1, maxLength: 60, size: "max" }), (commands) => {
        const world = new World();
        for (const cmd of commands) world.run(cmd);
      }),
      { numRuns: 500, seed: 7 },
    );
  });

  it("after a final refusal nothing connects until the page starts again", () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 40 }), (commands) => {
        const world = new World();
        world.run({ kind: "start" });
        world.run({ kind: "opened" });
        world.run({ kind: "closed", code: 4406 });
        expect(world.c.current).toBe("failed");
        for (const cmd of commands) {
          if (cmd.kind === "start") break;
          world.run(cmd);
          expect(world.c.current === "failed" || world.c.current === "closed").toBe(true);
          expect(world.socket).toBe(false);
        }
      }),
      { numRuns: 200, seed: 11 },
    );
  });
});
