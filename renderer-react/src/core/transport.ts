import { TokenBucket } from "./rate";
import {
  browserEnvironment,
  browserSocket,
  realTimers,
  type Environment,
  type EnvironmentChange,
  type SocketFactory,
  type SocketLike,
  type Timers,
} from "./socket";
import { parseServerFrame, type Parsed } from "./validate";
import type { ErrorCode, Event as EventMessage, Hello, ServerMessage, Welcome } from "./wire.gen";

export const SUBPROTOCOL = "phloem.v1";
export const VERSIONS = ["1.1", "1.0"] as const; // 1.1: 1.0 plus the jobs feature

export type Status = "idle" | "connecting" | "open" | "reconnecting" | "failed" | "closed";

/** What the transport hands up: the session's messages, in order, each once. */
export interface SessionHandler {
  /** ui.snapshot, ui.patch, ack {event} and error, validated and in seq order. */
  message(msg: ServerMessage): void;
  /** Handshake done. `refused`: a resume was asked for and a new session began instead. */
  welcome?(msg: Welcome, info: { resumed: boolean; refused: boolean }): void;
  /** A server message was dropped as invalid (it has already been reported to the server). */
  invalid?(problem: Extract<Parsed, { ok: false }>): void;
  /** Event `id` was not sent: its frame exceeds `max_frame_bytes` (PHL-LIM-001); no answer will come. */
  unsent?(id: number): void;
}

export interface TransportOptions {
  url: string;
  /** The app page asked for (hello.path, PHL-HS-007). */
  path: string;
  /** Component types this renderer draws → props major version (PHL-HS-005). */
  components: Record<string, number>;
  features?: string[];
  client?: { name: string; version: string };
  handler: SessionHandler;
  createSocket?: SocketFactory;
  timers?: Timers;
  random?: () => number;
  /**
   * Acks are batched (PHL-DELIV-002): piggybacked on the next event, else one `ack` within
   * this delay (PHL-DELIV-012: at least once per second), or at once after `ackEvery`
   * unacknowledged messages so the server's replay buffer stays small.
   */
  ackDelayMs?: number;
  ackEvery?: number;
  /** Reconnect backoff. The 2 s cap keeps "resume within 1 s of the network returning" likely. */
  backoff?: { initialMs: number; maxMs: number };
  /**
   * Network and visibility changes (default: the browser's; `null`: none). `offline` closes
   * the socket and shows "reconnecting"; `online` reconnects at once, skipping the backoff;
   * `visible` (the page shown again after being hidden) probes the socket with a `ping`.
   */
  environment?: Environment | null;
  /** A probe `ping` unanswered this long (nothing received at all) means a dead socket. */
  probeTimeoutMs?: number;
  /** A connection attempt with no `welcome` this long is given up and retried. */
  connectTimeoutMs?: number;
}

type OutgoingEvent =
  | Pick<EventMessage, "type" | "id" | "node" | "name" | "value" | "rev">
  // Since 1.1: a cancel takes the next event id and is answered like an event (PHL-JOB-060).
  | { type: "job.cancel"; id: number; job: string; node?: undefined; name?: undefined };
type TimerName = "ackTimer" | "retryTimer" | "heartbeatTimer" | "drainTimer" | "probeTimer" | "connectTimer";

const CLOSE_NORMAL = 1000;
const CLOSE_PROTOCOL_ERROR = 4002; // browsers may close only with 1000 or 3000-4999 (PHL-HS-015)
const CLOSE_NO_COMMON_VERSION = 4406;
const CLOSE_UNAUTHORIZED = 4401; // the page needs a signed-in user (PHL-SEC-007)
/** Closes after which the same hello would be refused again: no reconnect (transport.md). */
const FINAL_CLOSES: ReadonlySet<number> = new Set([CLOSE_NO_COMMON_VERSION, CLOSE_UNAUTHORIZED]);
/** Fatal errors that make retrying pointless; any other fatal error is followed by a resume. */
const FINAL_ERRORS: ReadonlySet<string> = new Set(["version_unsupported", "unauthorized"]);
/** Ours to close a connection we believe dead (heartbeat, probe, offline); the server keeps the session. */
const CLOSE_DEAD = 4000; // PHL-TRANSPORT-009: connection presumed dead, session kept for resume
const DEFAULT_EVENTS_PER_SECOND = 50; // the spec's default limit, until welcome names the real one

/**
 * The client side of one Phloem session over a sequence of WebSocket connections: handshake,
 * seq tracking and batched acks, ping answering, heartbeat, reconnect with backoff and resume,
 * and event ids that keep increasing across reconnects (PHL-EVT-002).
 */
export class Transport {
  private socket: SocketLike | null = null;
  private statusValue: Status = "idle";
  private readonly statusListeners = new Set<() => void>();
  private offlineValue = false;
  private handshaken = false;
  private stopped = false;
  private token: string | null = null;
  private lastSeq = 0;
  private ackedSeq = 0;
  /** Frames whose seq could not be read (not JSON): each excuses one gap in the sequence. */
  private uncounted = 0;
  private nextEventId = 1;
  /** Events not yet answered, in id order: resent after a resume (PHL-DELIV-009). */
  private readonly unanswered = new Map<number, OutgoingEvent>();
  /** Events waiting for the rate limit or the handshake. */
  private outbox: OutgoingEvent[] = [];
  private maxFrameBytes = Number.POSITIVE_INFINITY;
  private readonly bucket: TokenBucket;
  private attempt = 0;
  private ackTimer: unknown = null;
  private retryTimer: unknown = null;
  private heartbeatTimer: unknown = null;
  private drainTimer: unknown = null;
  private probeTimer: unknown = null;
  private connectTimer: unknown = null;
  private unwatch: (() => void) | null = null;
  private heartbeatMs = 0;
  private lastSent = 0;
  private pingSentAt: number | null = null;
  private pingId = 0;
  private readonly timers: Timers;
  private readonly createSocket: SocketFactory;
  private readonly random: () => number;
  private readonly ackDelayMs: number;
  private readonly ackEvery: number;
  private readonly backoff: { initialMs: number; maxMs: number };
  private readonly environment: Environment | null;
  private readonly probeTimeoutMs: number;
  private readonly connectTimeoutMs: number;

  constructor(private readonly options: TransportOptions) {
    this.timers = options.timers ?? realTimers;
    this.createSocket = options.createSocket ?? browserSocket;
    this.random = options.random ?? Math.random;
    this.ackDelayMs = options.ackDelayMs ?? 1000;
    this.ackEvery = options.ackEvery ?? 32;
    this.backoff = options.backoff ?? { initialMs: 100, maxMs: 2000 };
    this.environment = options.environment === undefined ? browserEnvironment : options.environment;
    this.probeTimeoutMs = options.probeTimeoutMs ?? 2000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.bucket = new TokenBucket(DEFAULT_EVENTS_PER_SECOND, this.timers.now());
  }

  get status(): Status {
    return this.statusValue;
  }

  /** The browser reported the network gone (`offline`) and nothing since says it is back. */
  get offline(): boolean {
    return this.offlineValue;
  }

  /** Highest server seq processed. */
  get seq(): number {
    return this.lastSeq;
  }

  subscribeStatus(listener: () => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  start(): void {
    this.stopped = false;
    this.unwatch ??= this.environment?.watch((change) => this.environmentChanged(change)) ?? null;
    if (!this.socket && this.retryTimer === null) this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.unwatch?.();
    this.unwatch = null;
    this.clearTimer("retryTimer");
    this.closeSocket(CLOSE_NORMAL, "client stopped");
    this.setStatus("closed");
  }

  /**
   * The network is back (the browser's `online` event): reconnect now, skipping the backoff
   * wait, and give up an attempt started while offline; an open session is probed instead,
   * since its socket may have died with the old network.
   */
  reconnectNow(): void {
    if (!this.live()) return;
    this.attempt = 0;
    if (this.handshaken) return this.probe();
    this.closeSocket(CLOSE_DEAD, "network changed");
    this.clearTimer("retryTimer");
    this.connect();
  }

  /**
   * Drops the connection as a dying network would; the session then resumes as after any drop,
   * after `downMs` if given, else after the usual backoff. For tests (see installTestHooks).
   */
  dropConnection(downMs?: number): void {
    if (!this.live() || !this.socket) return;
    this.abandon("connection dropped");
    if (downMs !== undefined) this.retryAfter(downMs);
  }

  /** Sends an event with the next id; held back until the handshake and within the rate limit. */
  sendEvent(node: string, name: string, value?: unknown, rev?: number | null): number {
    const id = this.nextEventId++;
    const event: OutgoingEvent = { type: "event", id, node, name };
    if (value !== undefined) event.value = value;
    if (rev != null) event.rev = rev;
    this.unanswered.set(id, event);
    if (this.handshaken) {
      this.outbox.push(event);
      this.drain();
    }
    return id;
  }

  /** Sends `job.cancel` for `job` with the next event id, resent after a reconnect until answered. */
  sendJobCancel(job: string): number {
    const id = this.nextEventId++;
    const cancel: OutgoingEvent = { type: "job.cancel", id, job };
    this.unanswered.set(id, cancel);
    if (this.handshaken) {
      this.outbox.push(cancel);
      this.drain();
    }
    return id;
  }

  /**
   * Whether an event with this payload fits `max_frame_bytes` whatever id, rev and ack it gets
   * (PHL-LIM-001). Before the first welcome the limit is unknown: everything fits.
   */
  fits(node: string, name: string, value?: unknown): boolean {
    const big = Number.MAX_SAFE_INTEGER;
    return !this.tooLarge(JSON.stringify({ type: "event", id: big, node, name, value, rev: big, ack: big }));
  }

  /** Sends a message now if the session is open; returns whether it was sent. */
  send(msg: { type: string; [k: string]: unknown }): boolean {
    if (!this.handshaken) return false;
    this.write(msg);
    return true;
  }

  /** Tells the server one of its messages was unusable; the session goes on (PHL-ERR-002). */
  reportError(code: ErrorCode, message: string): void {
    this.send({ type: "error", code, message: message.slice(0, 1024) });
  }

  /** Started, not stopped, not failed for good: network changes matter. */
  private live(): boolean {
    return !this.stopped && this.statusValue !== "idle" && this.statusValue !== "failed";
  }

  private environmentChanged(change: EnvironmentChange): void {
    if (!this.live()) return;
    if (change === "online") {
      this.setOffline(false);
      return this.reconnectNow();
    }
    if (change === "offline") {
      this.setOffline(true);
      // Nothing gets through now; don't wait for the heartbeat to find out.
      if (this.socket) this.abandon("offline");
      return;
    }
    // Shown again: timers were throttled while hidden, and the socket may have died unnoticed.
    if (this.handshaken) this.probe();
    else if (!this.socket && this.retryTimer !== null) {
      this.clearTimer("retryTimer");
      this.connect();
    }
  }

  /** A ping that must be answered (by anything) within probeTimeoutMs, else the socket is dead. */
  private probe(): void {
    if (this.probeTimer !== null) return;
    this.write({ type: "ping", id: `c${++this.pingId}` });
    this.probeTimer = this.timers.setTimeout(() => {
      this.probeTimer = null;
      this.abandon("ping timeout");
    }, this.probeTimeoutMs);
  }

  /** Closes a connection believed dead and reconnects to resume (PHL-PING-004). */
  private abandon(reason: string): void {
    this.closeSocket(CLOSE_DEAD, reason);
    this.closed(1006);
  }

  private connect(): void {
    this.setStatus(this.token === null && this.attempt === 0 ? "connecting" : "reconnecting");
    const socket = this.createSocket(this.options.url, [SUBPROTOCOL]);
    this.socket = socket;
    this.connectTimer = this.timers.setTimeout(() => {
      this.connectTimer = null;
      this.abandon("no welcome");
    }, this.connectTimeoutMs);
    socket.onopen = () => this.write(this.hello());
    socket.onmessage = (ev) => this.receive(ev.data);
    socket.onclose = (ev) => this.closed(ev.code);
    socket.onerror = () => undefined; // a close event follows; handled there
  }

  private hello(): Hello {
    const hello: Hello = {
      type: "hello",
      versions: [...VERSIONS],
      components: this.options.components,
      path: this.options.path,
    };
    if (this.options.features) hello.features = this.options.features;
    if (this.options.client) hello.client = this.options.client;
    if (this.token !== null) hello.resume = { token: this.token, seq: this.lastSeq }; // PHL-DELIV-004
    return hello;
  }

  private receive(data: unknown): void {
    // Anything received shows the connection alive (PHL-PING-004).
    this.pingSentAt = null;
    this.clearTimer("probeTimer");
    const parsed = parseServerFrame(data);
    if (parsed.ok && parsed.message.type === "welcome") return this.welcome(parsed.message as Welcome);
    const seq = parsed.ok ? (typeof parsed.message.seq === "number" ? parsed.message.seq : undefined) : parsed.seq;
    if (seq !== undefined && this.handshaken && !this.inSequence(seq)) return;
    if (!parsed.ok) {
      if (seq === undefined && parsed.code === "malformed_frame") this.uncounted += 1;
      if (parsed.code === "unknown_message_type") {
        // A type this version does not know is ignored, its seq still counted (PHL-ERR-010).
      } else {
        if (this.handshaken) this.reportError(parsed.code, parsed.message);
        this.options.handler.invalid?.(parsed);
      }
      if (seq !== undefined) this.processed(seq);
      return;
    }
    const msg = parsed.message;
    switch (msg.type) {
      case "ping":
        // Answered in order, after everything received before it (PHL-PING-002).
        this.write(msg.id === undefined ? { type: "pong" } : { type: "pong", id: msg.id });
        break;
      case "pong":
        break;
      case "error":
        if (typeof msg.event === "number") this.unanswered.delete(msg.event);
        // Fatal or not is all a client needs to know about a code (PHL-ERR-005); the server
        // closes after a fatal error; only a refused version or user makes retrying pointless.
        if (msg.fatal === true && FINAL_ERRORS.has(msg.code)) this.stopped = true;
        this.options.handler.message(msg);
        break;
      default:
        if (typeof msg.event === "number") this.unanswered.delete(msg.event);
        this.options.handler.message(msg);
    }
    if (seq !== undefined) this.processed(seq);
  }

  /** Seq must grow by exactly 1; otherwise close with 4002 and resume (PHL-DELIV-013). */
  private inSequence(seq: number): boolean {
    if (seq > this.lastSeq && seq <= this.lastSeq + 1 + this.uncounted) {
      this.uncounted = 0;
      return true;
    }
    this.protocolError(`seq ${seq} after ${this.lastSeq}`);
    return false;
  }

  private welcome(msg: Welcome): void {
    if (!(VERSIONS as readonly string[]).includes(msg.version)) {
      // A version we did not offer (PHL-HS-015): nothing else can work.
      this.stopped = true;
      this.closeSocket(CLOSE_PROTOCOL_ERROR, `version ${msg.version} was not offered`);
      this.setStatus("failed");
      return;
    }
    const askedResume = this.token !== null;
    const resumed = msg.resumed === true && askedResume;
    if (resumed && msg.seq !== this.lastSeq + 1) return this.protocolError(`resumed welcome seq ${msg.seq}`);
    this.token = msg.token; // the latest token wins (PHL-DELIV-004)
    this.lastSeq = msg.seq;
    this.uncounted = 0;
    if (!resumed) {
      this.ackedSeq = 0;
      // A refused resume: the old session's events are moot (PHL-DELIV-010).
      if (askedResume) this.unanswered.clear();
    }
    this.handshaken = true;
    this.setOffline(false); // a welcome came through: whatever the browser said, we are online
    this.attempt = 0;
    this.clearTimer("connectTimer");
    this.heartbeatMs = (msg.limits.heartbeat_seconds ?? 0) * 1000;
    this.maxFrameBytes = msg.limits.max_frame_bytes;
    this.bucket.setRate(msg.limits.max_events_per_second, this.timers.now());
    this.setStatus("open");
    this.options.handler.welcome?.(msg, { resumed, refused: askedResume && !resumed });
    // Unanswered events go (again) in id order; the server acks a duplicate (PHL-DELIV-009).
    this.outbox = [...this.unanswered.values()];
    this.drain();
    this.scheduleHeartbeat();
  }

  private processed(seq: number): void {
    this.lastSeq = seq;
    if (this.lastSeq - this.ackedSeq >= this.ackEvery) this.flushAck();
    else if (this.ackTimer === null) this.ackTimer = this.timers.setTimeout(() => this.flushAck(), this.ackDelayMs);
  }

  private flushAck(): void {
    this.clearTimer("ackTimer");
    if (this.lastSeq > this.ackedSeq && this.handshaken) {
      this.ackedSeq = this.lastSeq;
      this.write({ type: "ack", seq: this.lastSeq });
    }
  }

  /** Sends queued events as the rate limit allows (PHL-LIM-002). */
  private drain(): void {
    this.clearTimer("drainTimer");
    while (this.outbox.length > 0 && this.handshaken) {
      if (!this.bucket.take(this.timers.now())) {
        this.drainTimer = this.timers.setTimeout(() => this.drain(), this.bucket.wait(this.timers.now()));
        return;
      }
      this.writeEvent(this.outbox.shift() as OutgoingEvent);
    }
  }

  private writeEvent(event: OutgoingEvent): void {
    const piggyback = this.lastSeq > this.ackedSeq;
    const frame = JSON.stringify(piggyback ? { ...event, ack: this.lastSeq } : event);
    if (this.tooLarge(frame)) {
      // The server would refuse it (PHL-LIM-001); no answer will ever come.
      console.warn(`Phloem: event ${event.id} (${event.name} on ${event.node}) exceeds max_frame_bytes; not sent`);
      this.unanswered.delete(event.id);
      this.options.handler.unsent?.(event.id);
      return;
    }
    if (piggyback) {
      this.ackedSeq = this.lastSeq;
      this.clearTimer("ackTimer");
    }
    this.writeFrame(frame);
  }

  /** UTF-8 length over `max_frame_bytes`; a UTF-16 unit is at most 3 bytes, so short frames skip encoding. */
  private tooLarge(frame: string): boolean {
    return frame.length * 3 > this.maxFrameBytes && new TextEncoder().encode(frame).length > this.maxFrameBytes;
  }

  private write(msg: object): void {
    this.writeFrame(JSON.stringify(msg));
  }

  private writeFrame(frame: string): void {
    if (!this.socket) return;
    this.lastSent = this.timers.now();
    this.socket.send(frame);
  }

  /** The server broke the protocol: close with 4002 and resume on a new connection. */
  private protocolError(reason: string): void {
    console.warn(`Phloem: ${reason}; reconnecting`);
    this.closeSocket(CLOSE_PROTOCOL_ERROR, reason);
    this.closed(CLOSE_PROTOCOL_ERROR);
  }

  private closed(code: number): void {
    this.detach();
    if (this.stopped) {
      if (this.statusValue !== "failed") this.setStatus(FINAL_CLOSES.has(code) ? "failed" : "closed");
      return;
    }
    if (FINAL_CLOSES.has(code)) {
      this.setStatus("failed"); // the same hello would be refused again (PHL-HS-004, PHL-SEC-007)
      return;
    }
    // PHL-TRANSPORT-008: exponential backoff, with jitter so clients do not return in lockstep.
    const base = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** this.attempt);
    this.attempt += 1;
    this.setStatus("reconnecting");
    this.retryAfter(base * (0.8 + 0.4 * this.random()));
  }

  private retryAfter(delay: number): void {
    this.clearTimer("retryTimer");
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = null;
      if (!this.stopped) this.connect();
    }, delay);
  }

  private closeSocket(code: number, reason: string): void {
    const socket = this.socket;
    this.detach();
    socket?.close(code, reason);
  }

  private detach(): void {
    const socket = this.socket;
    this.socket = null;
    this.handshaken = false;
    this.outbox = [];
    this.pingSentAt = null;
    this.clearTimer("ackTimer");
    this.clearTimer("heartbeatTimer");
    this.clearTimer("drainTimer");
    this.clearTimer("probeTimer");
    this.clearTimer("connectTimer");
    if (socket) socket.onopen = socket.onmessage = socket.onerror = socket.onclose = null;
  }

  /**
   * Pings after `heartbeat_seconds` without sending (PHL-PING-003); nothing received within
   * `heartbeat_seconds` of that ping means a dead connection: close it and resume (PHL-PING-004).
   * Checked every half interval.
   */
  private scheduleHeartbeat(): void {
    if (this.heartbeatMs <= 0) return;
    this.heartbeatTimer = this.timers.setTimeout(() => {
      this.heartbeatTimer = null;
      const now = this.timers.now();
      if (this.pingSentAt !== null) {
        if (now - this.pingSentAt >= this.heartbeatMs) {
          this.abandon("heartbeat timeout");
          return;
        }
      } else if (now - this.lastSent >= this.heartbeatMs) {
        this.write({ type: "ping", id: `c${++this.pingId}` });
        this.pingSentAt = now;
      }
      this.scheduleHeartbeat();
    }, this.heartbeatMs / 2);
  }

  private clearTimer(name: TimerName): void {
    if (this[name] !== null) {
      this.timers.clearTimeout(this[name]);
      this[name] = null;
    }
  }

  private setOffline(offline: boolean): void {
    if (offline === this.offlineValue) return;
    this.offlineValue = offline;
    for (const l of this.statusListeners) l();
  }

  private setStatus(status: Status): void {
    if (status === this.statusValue) return;
    this.statusValue = status;
    for (const l of this.statusListeners) l();
  }
}
