import { ClientConnection, SUBPROTOCOL, type ConnectionOptions, type Effect } from "./connection";
import type { Status } from "./lifecycle";
import type { Ending } from "./policy";
import {
  browserEnvironment,
  browserSocket,
  realTimers,
  type Environment,
  type SocketFactory,
  type SocketLike,
  type Timers,
} from "./socket";
import type { Parsed } from "./validate";
import type { ErrorCode, ServerMessage, Welcome } from "./wire.gen";

export { SUBPROTOCOL, VERSIONS } from "./connection";
export type { Status } from "./lifecycle";

/** What the transport hands up: the session's messages, in order, each once. */
export interface SessionHandler {
  /** ui.snapshot, ui.patch, ack {event}, error and registered families' messages, validated, in seq order. */
  message(msg: ServerMessage): void;
  /** Handshake done. `refused`: a resume was asked for and a new session began instead. */
  welcome?(msg: Welcome, info: { resumed: boolean; refused: boolean }): void;
  /** A server message was dropped as invalid (it has already been reported to the server). */
  invalid?(problem: Extract<Parsed, { ok: false }>): void;
  /** Event `id` was not sent: its frame exceeds `max_frame_bytes` (PHL-LIM-001); no answer will come. */
  unsent?(id: number): void;
}

export interface TransportOptions extends ConnectionOptions {
  url: string;
  handler: SessionHandler;
  createSocket?: SocketFactory;
  timers?: Timers;
  /** Network and visibility changes (default: the browser's; `null`: none). */
  environment?: Environment | null;
}

/**
 * The I/O shell around ClientConnection: owns the WebSocket, one timer armed at the
 * connection's deadline, and the watch on network and visibility changes. Every socket event,
 * timer and change is one input to the connection; its effects are performed here, in order.
 */
export class Transport {
  readonly connection: ClientConnection;
  private socket: SocketLike | null = null;
  private timer: unknown = null;
  private armedAt = Number.POSITIVE_INFINITY;
  /** Inside flush: a handler's call that flushes again leaves the effects to the running loop. */
  private flushing = false;
  private unwatch: (() => void) | null = null;
  private shownStatus: Status;
  private shownOffline = false;
  private readonly statusListeners = new Set<() => void>();
  private readonly timers: Timers;
  private readonly createSocket: SocketFactory;
  private readonly environment: Environment | null;
  private readonly handler: SessionHandler;
  private readonly url: string;

  constructor(options: TransportOptions) {
    this.timers = options.timers ?? realTimers;
    this.createSocket = options.createSocket ?? browserSocket;
    this.environment = options.environment === undefined ? browserEnvironment : options.environment;
    this.handler = options.handler;
    this.url = options.url;
    this.connection = new ClientConnection(options, this.timers.now());
    this.shownStatus = this.connection.status;
  }

  get status(): Status {
    return this.connection.status;
  }

  /** The browser reported the network gone (`offline`) and nothing since says it is back. */
  get offline(): boolean {
    return this.connection.offline;
  }

  /** Why the connection is over for good (a refused version, taken over, …), or null. */
  get ending(): Ending | null {
    return this.connection.ending;
  }

  /** Highest server seq processed. */
  get seq(): number {
    return this.connection.lastSeq;
  }

  /** Hears status, offline and ending changes. */
  subscribeStatus(listener: () => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  start(): void {
    this.unwatch ??=
      this.environment?.watch((change) => {
        this.connection.network(change, this.timers.now());
        this.flush();
      }) ?? null;
    this.connection.start(this.timers.now());
    this.flush();
  }

  stop(): void {
    this.unwatch?.();
    this.unwatch = null;
    this.connection.stop();
    this.flush();
  }

  /** Drops the connection as a dying network would; resumed after `downMs` if given. For tests (see installTestHooks). */
  dropConnection(downMs?: number): void {
    this.connection.drop(this.timers.now(), downMs);
    this.flush();
  }

  /** Sends an event with the next id; held back until the handshake and within the rate limit. Null: not made. */
  sendEvent(node: string, name: string, value?: unknown, rev?: number | null): number | null {
    const id = this.connection.sendEvent(node, name, value, rev, this.timers.now());
    this.flush();
    return id;
  }

  /**
   * Sends a feature's message answered like an event (`job.cancel`, PHL-JOB-060): the next
   * event id, resent after a reconnect until answered. Null: not made (too many unanswered).
   */
  sendAnswered(fields: { type: string; [field: string]: unknown }): number | null {
    const id = this.connection.sendAnswered(fields, this.timers.now());
    this.flush();
    return id;
  }

  /** Whether an event with this payload fits `max_frame_bytes` (PHL-LIM-001). */
  fits(node: string, name: string, value?: unknown): boolean {
    return this.connection.fits(node, name, value);
  }

  /** Sends a message now if the session is open; returns whether it was sent. */
  send(msg: { type: string; [k: string]: unknown }): boolean {
    const sent = this.connection.send(msg, this.timers.now());
    this.flush();
    return sent;
  }

  /** Tells the server one of its messages was unusable; the session goes on (PHL-ERR-002). */
  reportError(code: ErrorCode, message: string): void {
    this.send({ type: "error", code, message: message.slice(0, 1024) });
  }

  private receive(data: unknown): void {
    const msg = this.connection.receive(data, this.timers.now());
    if (msg !== null) this.handler.message(msg);
    this.flush();
  }

  /** Performs the connection's effects, re-arms the timer if its deadline moved, tells listeners. */
  private flush(): void {
    if (this.flushing) return;
    const effects = this.connection.effects;
    if (effects.length > 0) {
      this.flushing = true;
      try {
        // Handlers may add effects (a resync after welcome): the loop reads the live length.
        for (let i = 0; i < effects.length; i++) this.perform(effects[i]!);
      } finally {
        effects.length = 0;
        this.flushing = false;
      }
    }
    const deadline = this.connection.deadline();
    if (deadline !== this.armedAt) this.arm(deadline);
    const status = this.connection.status;
    const offline = this.connection.offline;
    if (status !== this.shownStatus || offline !== this.shownOffline) {
      this.shownStatus = status;
      this.shownOffline = offline;
      for (const l of this.statusListeners) l();
    }
  }

  private perform(effect: Effect): void {
    switch (effect.type) {
      case "send":
        this.socket?.send(effect.frame);
        break;
      case "connect":
        this.openSocket();
        break;
      case "close": {
        const socket = this.detach();
        socket?.close(effect.code, effect.reason);
        break;
      }
      case "welcome":
        this.handler.welcome?.(effect.message, { resumed: effect.resumed, refused: effect.refused });
        break;
      case "invalid":
        this.handler.invalid?.(effect.problem);
        break;
      case "unsent":
        this.handler.unsent?.(effect.id);
        break;
      case "warning":
        console.warn(`Phloem: ${effect.text}`);
        break;
    }
  }

  private openSocket(): void {
    this.detach();
    const socket = this.createSocket(this.url, [SUBPROTOCOL]);
    this.socket = socket;
    socket.onopen = () => {
      this.connection.opened(this.timers.now());
      this.flush();
    };
    socket.onmessage = (ev) => this.receive(ev.data);
    socket.onclose = (ev) => {
      this.detach();
      this.connection.closed(ev.code, this.timers.now());
      this.flush();
    };
    socket.onerror = () => undefined; // a close event follows; handled there
  }

  /** Forgets the current socket: its late events no longer reach the connection. */
  private detach(): SocketLike | null {
    const socket = this.socket;
    this.socket = null;
    if (socket) socket.onopen = socket.onmessage = socket.onerror = socket.onclose = null;
    return socket;
  }

  private arm(deadline: number): void {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    this.armedAt = deadline;
    if (deadline === Number.POSITIVE_INFINITY) return;
    this.timer = this.timers.setTimeout(
      () => {
        this.timer = null;
        this.armedAt = Number.POSITIVE_INFINITY;
        this.connection.poll(this.timers.now());
        this.flush();
      },
      Math.max(0, deadline - this.timers.now()),
    );
  }
}
