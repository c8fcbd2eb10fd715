import { EventQueue } from "./events";
import { hasSocket, isLive, statusOf, transition, type Input, type State, type Status } from "./lifecycle";
import { Liveness } from "./liveness";
import {
  CLOSE_DEAD,
  CLOSE_NORMAL,
  CLOSE_PROTOCOL_ERROR,
  backoffDelay,
  endingAfterClose,
  endingAfterFatal,
  type Backoff,
  type Ending,
} from "./policy";
import { Sequence } from "./sequence";
import { parseServerFrame, type Checker, type Parsed } from "./validate";
import type { ErrorCode, Hello, ServerMessage, Welcome } from "./wire.gen";

import { SUBPROTOCOL } from "./catalog.gen";

export { SUBPROTOCOL };
export const VERSIONS = ["1.1", "1.0"] as const; // 1.1: 1.0 plus the jobs feature

/** What the shell must do, in order, after an input. */
export type Effect =
  /** Open a new socket (after closing the old one, if a `close` came first). */
  | { type: "connect" }
  /** Write one text frame on the current socket. */
  | { type: "send"; frame: string }
  /** Close the current socket with this code and forget it. */
  | { type: "close"; code: number; reason: string }
  /** Handshake done. `refused`: a resume was asked for and a new session began instead. */
  | { type: "welcome"; message: Welcome; resumed: boolean; refused: boolean }
  /** A server message was dropped as invalid (already reported to the server when possible). */
  | { type: "invalid"; problem: Extract<Parsed, { ok: false }> }
  /** Event `id` was not sent: its frame exceeds `max_frame_bytes` (PHL-LIM-001); no answer will come. */
  | { type: "unsent"; id: number }
  /** Something worth a developer's attention; the shell logs it. */
  | { type: "warning"; text: string };

export type NetworkChange = "offline" | "online" | "visible";

export interface ConnectionOptions {
  /** The app page asked for (hello.path, PHL-HS-007, PHL-CLIENT-010). */
  path: string;
  /** Component types this renderer draws → props major version (PHL-HS-005). */
  components: Record<string, number>;
  features?: string[];
  client?: { name: string; version: string };
  /** Checkers of message types added by feature modules (see PhloemClient.registerMessages). */
  families?: ReadonlyMap<string, Checker>;
  random?: () => number;
  ackDelayMs?: number;
  ackEvery?: number;
  /** Reconnect backoff. The 2 s cap keeps "resume within 1 s of the network returning" likely. */
  backoff?: Backoff;
  /** A probe `ping` unanswered this long (nothing received at all) means a dead socket. */
  probeTimeoutMs?: number;
  /** A connection attempt with no `welcome` this long is given up and retried. */
  connectTimeoutMs?: number;
}

const NEVER = Number.POSITIVE_INFINITY;

/**
 * The client side of one Phloem session over a sequence of connections, without I/O: inputs
 * (socket opened, frame received, socket closed, time passed, network changed, the page's
 * calls) with the current time in; effects (`effects`, drained by the shell), a status and one
 * deadline (`deadline()`: call `poll` then) out. The state changes only through the table in
 * lifecycle.ts; seq/ack, events and liveness each live in their own module.
 */
export class ClientConnection {
  /** Effects of the inputs so far; the shell performs them in order and empties the array. */
  readonly effects: Effect[] = [];
  private state: State = "idle";
  private token: string | null = null;
  /** Failed attempts since the last welcome: the backoff's exponent. */
  private attempt = 0;
  private offlineValue = false;
  /** Why the connection is over for good, once it is. */
  private endingValue: Ending | null = null;
  /** A fatal error that makes retrying pointless arrived; the close that follows is final. */
  private finalError: Ending | null = null;
  private retryAt = NEVER;
  private connectBy = NEVER;
  private readonly seq: Sequence;
  private readonly events: EventQueue;
  private readonly liveness: Liveness;
  private readonly random: () => number;
  private readonly backoff: Backoff;
  private readonly connectTimeoutMs: number;

  constructor(
    private readonly options: ConnectionOptions,
    now: number,
  ) {
    this.random = options.random ?? Math.random;
    this.backoff = options.backoff ?? { initialMs: 100, maxMs: 2000 };
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.seq = new Sequence(options.ackDelayMs ?? 1000, options.ackEvery ?? 32);
    this.events = new EventQueue(now);
    this.liveness = new Liveness(options.probeTimeoutMs ?? 2000);
  }

  get current(): State {
    return this.state;
  }

  get status(): Status {
    return statusOf(this.state, this.token === null && this.attempt === 0);
  }

  /** The browser reported the network gone and nothing since says it is back. */
  get offline(): boolean {
    return this.offlineValue;
  }

  get ending(): Ending | null {
    return this.endingValue;
  }

  /** Highest server seq processed. */
  get lastSeq(): number {
    return this.seq.last;
  }

  /** When `poll` is next due; Infinity when nothing is waiting for time. */
  deadline(): number {
    return Math.min(this.retryAt, this.connectBy, this.seq.ackAt, this.events.drainAt, this.liveness.deadline);
  }

  // --- inputs from the page -------------------------------------------------------------

  start(now: number): void {
    if (this.go("start")) this.connect(now);
  }

  stop(): void {
    const had = hasSocket(this.state);
    if (!this.go("stop")) return;
    this.endingValue = "stopped";
    this.retryAt = NEVER;
    if (had) this.closeSocket(CLOSE_NORMAL, "client stopped");
  }

  /** Sends an event with the next id once the session is open, within the rate limit. Null: not made. */
  sendEvent(node: string, name: string, value: unknown, rev: number | null | undefined, now: number): number | null {
    const open = this.state === "open";
    const event = this.events.add(node, name, value, rev, open);
    if (event === null) return null;
    if (open) this.drain(now);
    return event.id;
  }

  /**
   * Sends a feature's message that is answered like an event (`job.cancel`): the next event id,
   * queued like an event and resent after a resume until answered. Null: not made.
   */
  sendAnswered(fields: { type: string; [field: string]: unknown }, now: number): number | null {
    const open = this.state === "open";
    const msg = this.events.addAnswered(fields, open);
    if (msg === null) return null;
    if (open) this.drain(now);
    return msg.id;
  }

  /** Whether an event with this payload fits `max_frame_bytes` (PHL-LIM-001). */
  fits(node: string, name: string, value?: unknown): boolean {
    return this.events.fits(node, name, value);
  }

  /** Sends a message now if the session is open; returns whether it was sent. */
  send(msg: { type: string; [k: string]: unknown }, now: number): boolean {
    if (this.state !== "open") return false;
    this.write(JSON.stringify(msg), now);
    return true;
  }

  /** Drops the connection as a dying network would; retried after `downMs` if given. For tests. */
  drop(now: number, downMs?: number): void {
    if (!hasSocket(this.state)) return;
    this.abandon("connection dropped", now);
    if (downMs !== undefined) this.retryAt = now + downMs;
  }

  /**
   * `offline` closes the socket at once (nothing gets through; no need to wait for the
   * heartbeat); `online` connects now, skipping the backoff, or probes an open session whose
   * socket may have died with the old network; `visible` (shown after being hidden, when timers
   * were throttled) probes an open session and ends a backoff wait.
   */
  network(change: NetworkChange, now: number): void {
    if (!isLive(this.state)) return;
    if (change === "offline") {
      this.offlineValue = true;
      if (hasSocket(this.state)) this.abandon("offline", now);
      return;
    }
    if (change === "online") {
      this.offlineValue = false;
      this.attempt = 0;
    }
    if (this.state === "open") return this.probe(now);
    if (change === "visible" && this.state !== "waiting") return;
    if (hasSocket(this.state)) this.closeSocket(CLOSE_DEAD, "network changed");
    if (this.go("retry")) this.connect(now);
  }

  // --- inputs from the socket -----------------------------------------------------------

  opened(now: number): void {
    if (this.go("opened")) this.write(JSON.stringify(this.hello()), now);
  }

  /**
   * One frame from the server. Returns the session message to hand to the page (snapshot,
   * patch, ack, error, or a registered family's message), validated and in seq order, or null.
   * The hot path: a `ui.patch` costs no allocation here beyond its parse.
   */
  receive(data: unknown, now: number): ServerMessage | null {
    if (this.state !== "handshaking" && this.state !== "open") return null;
    this.liveness.received();
    const parsed = parseServerFrame(data, this.options.families);
    if (parsed.ok && parsed.message.type === "welcome") {
      this.welcome(parsed.message as Welcome, now);
      return null;
    }
    const open = this.state === "open";
    const seq = parsed.ok ? (typeof parsed.message.seq === "number" ? parsed.message.seq : undefined) : parsed.seq;
    if (seq !== undefined && open && !this.seq.follows(seq)) {
      this.protocolError(`seq ${seq} after ${this.seq.last}`, now);
      return null;
    }
    let deliver: ServerMessage | null = null;
    if (!parsed.ok) {
      if (seq === undefined && parsed.code === "malformed_frame") this.seq.unreadable();
      // A type this version does not know is ignored, its seq still counted (PHL-ERR-010).
      if (parsed.code !== "unknown_message_type") {
        if (open) this.reportError(parsed.code, parsed.message, now);
        this.effects.push({ type: "invalid", problem: parsed });
      }
    } else {
      const msg = parsed.message;
      if (msg.type === "ping") {
        // Answered in order, after everything received before it (PHL-PING-002); never before
        // the welcome, when only hello may be sent (PHL-HS-011).
        if (open) this.write(msg.id === undefined ? '{"type":"pong"}' : JSON.stringify({ type: "pong", id: msg.id }), now);
      } else if (msg.type !== "pong") {
        if (typeof msg.event === "number") this.events.answered(msg.event);
        // Fatal or not is all a client needs to know of a code (PHL-ERR-005); the server closes
        // after it. Only a refused version or user makes retrying pointless (PHL-CLIENT-001).
        if (msg.type === "error" && msg.fatal === true) this.finalError = endingAfterFatal(msg.code);
        deliver = msg;
      }
    }
    if (seq !== undefined && open && this.seq.processed(seq, now)) this.flushAck(now);
    return deliver;
  }

  /** The socket closed (the server closed it, or the network did). */
  closed(code: number, now: number): void {
    if (!hasSocket(this.state)) return;
    const ending = this.finalError ?? endingAfterClose(code);
    this.finalError = null;
    if (ending === null) return this.lose(now);
    this.endingValue = ending;
    this.go(ending === "version" || ending === "unauthorized" ? "refused" : "ended");
    this.detach();
  }

  /** Time passed: does whatever `deadline()` said was due. */
  poll(now: number): void {
    if (now >= this.retryAt && this.state === "waiting") {
      this.retryAt = NEVER;
      if (this.go("retry")) this.connect(now);
    }
    if (now >= this.connectBy && hasSocket(this.state) && this.state !== "open") this.abandon("no welcome", now);
    if (this.state !== "open") return;
    if (now >= this.seq.ackAt) this.flushAck(now);
    if (now >= this.events.drainAt) this.drain(now);
    const due = this.liveness.due(now);
    if (due === "ping") this.write(JSON.stringify({ type: "ping", id: this.liveness.nextPingId() }), now);
    else if (due === "dead") this.abandon(this.liveness.probeAt <= now ? "ping timeout" : "heartbeat timeout", now);
  }

  // --- internals --------------------------------------------------------------------------

  /** Moves along the table in lifecycle.ts; false when `input` changes nothing now. */
  private go(input: Input): boolean {
    const next = transition(this.state, input);
    if (next === undefined) return false;
    this.state = next;
    return true;
  }

  private connect(now: number): void {
    this.retryAt = NEVER;
    this.connectBy = now + this.connectTimeoutMs;
    this.endingValue = null;
    this.effects.push({ type: "connect" });
  }

  private hello(): Hello {
    const { path, components, features, client } = this.options;
    const hello: Hello = { type: "hello", versions: [...VERSIONS], components, path };
    if (features) hello.features = features;
    if (client) hello.client = client;
    if (this.token !== null) hello.resume = { token: this.token, seq: this.seq.last }; // PHL-DELIV-004
    return hello;
  }

  private welcome(msg: Welcome, now: number): void {
    if (this.state === "open") return this.protocolError("a second welcome", now); // the table's open × welcomed
    if (!(VERSIONS as readonly string[]).includes(msg.version)) {
      // A version we did not offer (PHL-HS-015): nothing else can work.
      this.endingValue = "version";
      this.go("refused");
      this.closeSocket(CLOSE_PROTOCOL_ERROR, `version ${msg.version} was not offered`);
      return;
    }
    const askedResume = this.token !== null;
    const resumed = msg.resumed === true && askedResume;
    if (resumed && msg.seq !== this.seq.last + 1) return this.protocolError(`resumed welcome seq ${msg.seq}`, now);
    this.token = msg.token; // the latest token wins (PHL-DELIV-004)
    this.seq.welcomed(msg.seq, resumed);
    // A refused resume: the old session's events are moot (PHL-DELIV-010).
    if (askedResume && !resumed) this.events.discard();
    this.go("welcomed");
    this.offlineValue = false; // a welcome came through: whatever the browser said, we are online
    this.attempt = 0;
    this.connectBy = NEVER;
    this.liveness.start((msg.limits.heartbeat_seconds ?? 0) * 1000, now);
    this.events.welcomed(msg.limits.max_events_per_second, msg.limits.max_frame_bytes, now);
    this.effects.push({ type: "welcome", message: msg, resumed, refused: askedResume && !resumed });
    this.drain(now);
  }

  /** Sends queued events as the rate limit allows (PHL-LIM-002). */
  private drain(now: number): void {
    for (let event = this.events.next(now); event !== null; event = this.events.next(now)) {
      const ack = this.seq.unacked;
      const frame = JSON.stringify(ack === undefined ? event : { ...event, ack });
      if (this.events.tooLarge(frame)) {
        // The server would refuse it (PHL-LIM-001); no answer will ever come.
        this.events.answered(event.id);
        const what = event.type === "event" ? `${event.name} on ${event.node}` : event.type;
        this.effects.push({ type: "warning", text: `event ${event.id} (${what}) exceeds max_frame_bytes; not sent` });
        this.effects.push({ type: "unsent", id: event.id });
        continue;
      }
      if (ack !== undefined) this.seq.acknowledged(ack);
      this.write(frame, now);
    }
  }

  private flushAck(now: number): void {
    const ack = this.seq.unacked;
    if (ack === undefined) return this.seq.acknowledged(this.lastSeq);
    this.seq.acknowledged(ack);
    this.write(`{"type":"ack","seq":${ack}}`, now);
  }

  private reportError(code: ErrorCode, message: string, now: number): void {
    this.write(JSON.stringify({ type: "error", code, message: message.slice(0, 1024) }), now);
  }

  private probe(now: number): void {
    if (this.liveness.probe(now)) this.write(JSON.stringify({ type: "ping", id: this.liveness.nextPingId() }), now);
  }

  private write(frame: string, now: number): void {
    this.liveness.sent(now);
    this.effects.push({ type: "send", frame });
  }

  /** The server broke the protocol: close with 4002 and resume on a new connection (PHL-DELIV-013). */
  private protocolError(reason: string, now: number): void {
    this.effects.push({ type: "warning", text: `${reason}; reconnecting` });
    this.closeSocket(CLOSE_PROTOCOL_ERROR, reason);
    this.lose(now);
  }

  /** Closes a connection believed dead (PHL-TRANSPORT-009) and resumes on a new one (PHL-PING-004). */
  private abandon(reason: string, now: number): void {
    this.closeSocket(CLOSE_DEAD, reason);
    this.lose(now);
  }

  /** The socket is gone and a resume may work: wait out the backoff (PHL-TRANSPORT-008). */
  private lose(now: number): void {
    this.detach();
    if (!this.go("lost")) return;
    this.retryAt = now + backoffDelay(this.attempt, this.backoff, this.random);
    this.attempt += 1;
  }

  private closeSocket(code: number, reason: string): void {
    this.detach();
    this.effects.push({ type: "close", code, reason });
  }

  private detach(): void {
    this.connectBy = NEVER;
    this.seq.detached();
    this.events.detached();
    this.liveness.stop();
  }
}
