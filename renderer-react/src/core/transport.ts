import { browserSocket, realTimers, type SocketFactory, type SocketLike, type Timers } from "./socket";
import { parseServerFrame, type Parsed } from "./validate";
import type { ErrorCode, Event as EventMessage, Hello, ServerMessage, Welcome } from "./wire.gen";

export const SUBPROTOCOL = "phloem.v1";
export const VERSIONS = ["1.0"] as const;

export type Status = "idle" | "connecting" | "open" | "reconnecting" | "failed" | "closed";

/** What the transport hands up: the session's messages, in order, each once. */
export interface SessionHandler {
  /** ui.snapshot, ui.patch, ack {event} and error, after dedup and validation. */
  message(msg: ServerMessage): void;
  /** The handshake completed; `resumed` says whether the old session (and tree) continues. */
  welcome?(msg: Welcome, resumed: boolean): void;
  /** A server message was dropped as invalid (it has already been reported to the server). */
  invalid?(problem: Extract<Parsed, { ok: false }>): void;
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
   * Acks are batched (PHL-DELIV-002): piggybacked on the next event, else one `ack` at most
   * this often. 1 s keeps idle traffic near zero; the server's replay buffer stays bounded by
   * `ackEvery` as well.
   */
  ackDelayMs?: number;
  ackEvery?: number;
  /** Reconnect backoff. The 2 s cap keeps "resume within 1 s of the network returning" likely. */
  backoff?: { initialMs: number; maxMs: number };
}

type OutgoingEvent = Omit<EventMessage, "ack">;

/**
 * The client side of one Phloem session over a sequence of WebSocket connections: handshake,
 * seq tracking and batched acks, ping answering, heartbeat, reconnect with backoff and resume,
 * and event ids that keep increasing across reconnects (PHL-EVT-002).
 */
export class Transport {
  private socket: SocketLike | null = null;
  private statusValue: Status = "idle";
  private readonly statusListeners = new Set<() => void>();
  private handshaken = false;
  private stopped = false;
  private token: string | null = null;
  private lastSeq = 0;
  private ackedSeq = 0;
  private nextEventId = 1;
  /** Events not yet answered, in id order: resent after a resume (duplicates are acked once). */
  private readonly unanswered = new Map<number, OutgoingEvent>();
  private attempt = 0;
  private ackTimer: unknown = null;
  private retryTimer: unknown = null;
  private heartbeatTimer: unknown = null;
  private heartbeatMs = 0;
  private lastReceived = 0;
  private lastSent = 0;
  private pingId = 0;
  private readonly timers: Timers;
  private readonly createSocket: SocketFactory;
  private readonly random: () => number;
  private readonly ackDelayMs: number;
  private readonly ackEvery: number;
  private readonly backoff: { initialMs: number; maxMs: number };

  constructor(private readonly options: TransportOptions) {
    this.timers = options.timers ?? realTimers;
    this.createSocket = options.createSocket ?? browserSocket;
    this.random = options.random ?? Math.random;
    this.ackDelayMs = options.ackDelayMs ?? 1000;
    this.ackEvery = options.ackEvery ?? 32;
    this.backoff = options.backoff ?? { initialMs: 100, maxMs: 2000 };
  }

  get status(): Status {
    return this.statusValue;
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
    if (!this.socket && this.retryTimer === null) this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimer("retryTimer");
    const socket = this.socket;
    this.dropSocket();
    socket?.close(1000, "client stopped");
    this.setStatus("closed");
  }

  /** Skips the backoff wait (e.g. on the browser's `online` event). */
  reconnectNow(): void {
    if (this.stopped || this.socket || this.retryTimer === null) return;
    this.clearTimer("retryTimer");
    this.connect();
  }

  /** Sends an event with the next id; queued until the handshake when not connected. */
  sendEvent(node: string, name: string, value?: unknown, rev?: number | null): number {
    const id = this.nextEventId++;
    const event: OutgoingEvent = { type: "event", id, node, name };
    if (value !== undefined) event.value = value;
    if (rev != null) event.rev = rev;
    this.unanswered.set(id, event);
    if (this.handshaken) this.writeEvent(event);
    return id;
  }

  /** Sends a message now if the session is open; returns whether it was sent. */
  send(msg: { type: string; [k: string]: unknown }): boolean {
    if (!this.handshaken) return false;
    this.write(msg);
    return true;
  }

  /** Tells the server one of its messages was unusable; the session goes on (PHL-ERR-001). */
  reportError(code: ErrorCode, message: string): void {
    this.send({ type: "error", code, message: message.slice(0, 1024) });
  }

  private connect(): void {
    this.setStatus(this.token === null && this.attempt === 0 ? "connecting" : "reconnecting");
    const socket = this.createSocket(this.options.url, [SUBPROTOCOL]);
    this.socket = socket;
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
    if (this.token !== null) hello.resume = { token: this.token, seq: this.lastSeq };
    return hello;
  }

  private receive(data: unknown): void {
    this.lastReceived = this.timers.now();
    const parsed = parseServerFrame(data);
    if (!parsed.ok) {
      if (this.handshaken) this.reportError(parsed.code, parsed.message);
      if (parsed.seq !== undefined && parsed.seq > this.lastSeq) this.processed(parsed.seq);
      this.options.handler.invalid?.(parsed);
      return;
    }
    const msg = parsed.message;
    if (msg.type === "welcome") return this.welcome(msg as Welcome);
    const seq = typeof msg.seq === "number" ? msg.seq : undefined;
    // A message replayed after a resume that we already processed: nothing doubled (PHL-DELIV-005).
    if (seq !== undefined && seq <= this.lastSeq) return;
    switch (msg.type) {
      case "ping":
        // Answered in order, after everything received before it (PHL-PING-002).
        this.write(msg.id === undefined ? { type: "pong" } : { type: "pong", id: msg.id });
        break;
      case "pong":
        break;
      case "error":
        if (typeof msg.event === "number") this.unanswered.delete(msg.event);
        if (msg.fatal === true && msg.code === "version_unsupported") this.stopped = true;
        this.options.handler.message(msg);
        break;
      default:
        if (typeof msg.event === "number") this.unanswered.delete(msg.event);
        this.options.handler.message(msg);
    }
    if (seq !== undefined) this.processed(seq);
  }

  private welcome(msg: Welcome): void {
    const resumed = msg.resumed === true && this.token !== null;
    const hadSession = this.token !== null;
    this.token = msg.token;
    this.handshaken = true;
    this.attempt = 0;
    if (!resumed) {
      // A new session: its seq starts over, and events of the old session are moot.
      this.lastSeq = msg.seq;
      this.ackedSeq = 0;
      if (hadSession) this.unanswered.clear();
    }
    // A resumed welcome leaves lastSeq alone: the replay that follows may carry lower seqs.
    this.heartbeatMs = (msg.limits.heartbeat_seconds ?? 0) * 1000;
    this.setStatus("open");
    this.options.handler.welcome?.(msg, resumed);
    // Resend what the server may not have seen; it answers a duplicate with an ack (PHL-EVT-005).
    for (const event of this.unanswered.values()) this.writeEvent(event);
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

  private writeEvent(event: OutgoingEvent): void {
    if (this.lastSeq > this.ackedSeq) {
      this.ackedSeq = this.lastSeq;
      this.clearTimer("ackTimer");
      this.write({ ...event, ack: this.lastSeq });
    } else {
      this.write(event);
    }
  }

  private write(msg: object): void {
    if (!this.socket) return;
    this.lastSent = this.timers.now();
    this.socket.send(JSON.stringify(msg));
  }

  private closed(code: number): void {
    this.dropSocket();
    if (this.stopped) {
      if (this.statusValue !== "failed") this.setStatus(code === 4406 ? "failed" : "closed");
      return;
    }
    if (code === 4406) {
      // No common version (PHL-HS-004): retrying cannot help.
      this.setStatus("failed");
      return;
    }
    const base = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** this.attempt);
    const delay = base * (0.8 + 0.4 * this.random()); // jitter: clients do not return in lockstep
    this.attempt += 1;
    this.setStatus("reconnecting");
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = null;
      if (!this.stopped) this.connect();
    }, delay);
  }

  private dropSocket(): void {
    const socket = this.socket;
    this.socket = null;
    this.handshaken = false;
    this.clearTimer("ackTimer");
    this.clearTimer("heartbeatTimer");
    if (socket) {
      socket.onopen = socket.onmessage = socket.onerror = null;
      socket.onclose = null;
    }
  }

  /** Pings when idle for a heartbeat (PHL-PING-003); a silent peer means a dead connection. */
  private scheduleHeartbeat(): void {
    if (this.heartbeatMs <= 0) return;
    this.heartbeatTimer = this.timers.setTimeout(() => {
      this.heartbeatTimer = null;
      const now = this.timers.now();
      if (now - this.lastReceived > 2.5 * this.heartbeatMs) {
        const socket = this.socket;
        this.closed(1006);
        socket?.close(4000, "heartbeat timeout");
        return;
      }
      if (now - this.lastSent >= this.heartbeatMs * 0.9) this.write({ type: "ping", id: `c${++this.pingId}` });
      this.scheduleHeartbeat();
    }, this.heartbeatMs);
  }

  private clearTimer(name: "ackTimer" | "retryTimer" | "heartbeatTimer"): void {
    if (this[name] !== null) {
      this.timers.clearTimeout(this[name]);
      this[name] = null;
    }
  }

  private setStatus(status: Status): void {
    if (status === this.statusValue) return;
    this.statusValue = status;
    for (const l of this.statusListeners) l();
  }
}
