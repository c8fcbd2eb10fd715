import { CORE_BOUND, shownValue, type BoundTable } from "./bound";
import { Edits } from "./edits";
import { JobStore, jobMessages } from "./jobs";
import { Store } from "./store";
import { realTimers, type Environment, type SocketFactory, type Timers } from "./socket";
import { Transport, type Status } from "./transport";
import type { Checker } from "./validate";
import type { Error as ErrorMessage, ServerMessage, UiPatch, UiSnapshot } from "./wire.gen";

export interface ClientOptions {
  url: string;
  path: string;
  components: Record<string, number>;
  features?: string[];
  createSocket?: SocketFactory;
  timers?: Timers;
  random?: () => number;
  /** Network and visibility changes; default the browser's, `null` for none. */
  environment?: Environment | null;
  /**
   * Bound values of custom input components (type -> declaration), beside the core catalog's:
   * they get the echo rule as TextInput does (PHL-COMP-021).
   */
  bound?: BoundTable;
}

export interface Notice {
  kind: "error" | "info";
  text: string;
  detail?: string;
  /** When it happened (ms since epoch); also makes each notice a distinct object. */
  at: number;
}

export const CLIENT_INFO = { name: "@phloem/react", version: "0.1.0" } as const;

/**
 * A message type added by a feature module (jobs, data windows): how to check one that arrives
 * and what to do with it. Registered on the client with `registerMessages`; such messages are
 * sequenced, acknowledged and answer events like the core's own.
 */
export interface MessageFamily {
  check: Checker;
  handle(msg: ServerMessage): void;
}

/**
 * One Phloem session in a page: the tree store fed by the transport. Framework-free; a UI
 * binding reads `store`, watches `status`, and calls `sendEvent`.
 */
export class PhloemClient {
  readonly store: Store;
  readonly transport: Transport;
  /** Inputs' unsent and unanswered edits: the echo rule (PHL-COMP-021). */
  readonly edits: Edits;
  /** Every input component's bound value, by type: the core catalog's and custom ones. */
  readonly bound: BoundTable;
  /** Jobs the server told us of (jobs feature), apart from the tree (PHL-JOB-070). */
  readonly jobs = new JobStore();
  private lastError: ErrorMessage | null = null;
  private lastNotice: Notice | null = null;
  private readonly noticeListeners = new Set<() => void>();
  private readonly checks = new Map<string, Checker>();
  private readonly families = new Map<string, MessageFamily>();

  constructor(options: ClientOptions) {
    this.store = new Store({
      requestResync: (rev) => {
        this.transport.send(rev === null ? { type: "resync" } : { type: "resync", rev });
      },
      reportProblem: (code, message) => this.transport.reportError(code, message),
      snapshotUnusable: () =>
        this.setNotice({ kind: "error", text: "The server sent a page this renderer cannot show; what you see may be out of date." }),
    });
    this.transport = new Transport({
      url: options.url,
      path: options.path,
      components: options.components,
      client: { ...CLIENT_INFO },
      features: options.features ?? ["jobs"],
      ...(options.createSocket ? { createSocket: options.createSocket } : {}),
      ...(options.timers ? { timers: options.timers } : {}),
      ...(options.random ? { random: options.random } : {}),
      ...(options.environment !== undefined ? { environment: options.environment } : {}),
      families: this.checks,
      handler: {
        message: (msg) => {
          if (msg.type === "ui.patch") this.store.applyPatch(msg as UiPatch);
          else if (msg.type === "ui.snapshot") this.store.applySnapshot(msg as UiSnapshot);
          else if (msg.type === "error") this.serverError(msg as ErrorMessage);
          else this.families.get(msg.type)?.handle(msg);
          // After the tree change: a field whose last change this answers shows the new value.
          if (typeof msg.event === "number") {
            this.edits.answered(msg.event, msg.type === "error" ? (msg as ErrorMessage).code : undefined);
          }
        },
        unsent: (id) => this.edits.unsent(id),
        welcome: (_msg, { resumed, refused }) => {
          // A resync sent on the dead socket is lost; ask again on the resumed session (PHL-CLIENT-011).
          // A new session sends a snapshot on its own.
          const wanted = this.store.resyncWanted;
          this.store.resetResync();
          if (resumed && wanted) this.store.askResync();
          // A new session re-sends every job it may see right after its snapshot (PHL-JOB-041).
          if (!resumed) this.jobs.reset();
          if (refused) {
            // PHL-DELIV-010: the old tree is gone, and with it the old session's edits and
            // unanswered changes; the user is told the page was reset.
            this.edits.reset();
            this.store.reset();
            this.setNotice({ kind: "info", text: "The session expired while offline; this page was reset." });
          }
        },
        invalid: (problem) => {
          // A dropped tree message leaves our tree behind the server's.
          if (problem.type === "ui.snapshot") this.store.rejectSnapshot();
          else if (problem.type === "ui.patch") this.store.askResync();
        },
      },
    });
    // Protocol 1.1's jobs feature plugs in as message families (the core knows nothing of jobs).
    this.registerMessages(jobMessages(this.jobs));
    this.bound = { ...CORE_BOUND, ...options.bound };
    this.edits = new Edits({
      send: (node, event, value) =>
        this.transport.fits(node, event, value) ? (this.sendEvent(node, event, value) ?? "refused") : "too-long",
      enabled: (node) => this.store.getNode(node)?.props.disabled !== true,
      timers: options.timers ?? realTimers,
      batch: (notify) => this.store.batch(notify),
    });
  }

  get status(): Status {
    return this.transport.status;
  }

  /** The last error the server reported (e.g. handler_error), or null. */
  get error(): ErrorMessage | null {
    return this.lastError;
  }

  /** Something the user should be told: an app failure or a reset session. */
  get notice(): Notice | null {
    return this.lastNotice;
  }

  subscribeNotice(listener: () => void): () => void {
    this.noticeListeners.add(listener);
    return () => this.noticeListeners.delete(listener);
  }

  start(): this {
    this.transport.start();
    return this;
  }

  stop(): void {
    this.transport.stop();
  }

  /**
   * The user changed input `node`'s bound value to `value` (a text field's whole text, a
   * checkbox's state…): shown at once, sent as the type's bound event, coalesced
   * (PHL-COMP-020), and kept on screen until the server has answered (PHL-COMP-021). A node
   * no longer in the tree shows nothing: the edit is dropped.
   */
  edit(node: string, value: unknown): void {
    const type = this.store.getNode(node)?.type;
    if (type === undefined) return;
    const decl = this.bound[type];
    if (!decl) throw new TypeError(`${type} declares no bound value: node ${node} has nothing to edit`);
    this.edits.edit(node, value, decl.event);
  }

  /**
   * What input `node` displays (PHL-COMP-021): the user's value while any of it is unsent or
   * unanswered, else its bound prop, else the declared default; undefined for a node that is
   * not an input, or not in the tree.
   */
  shown(node: string): unknown {
    const found = this.store.getNode(node);
    const decl = found ? this.bound[found.type] : undefined;
    return found && decl ? shownValue(decl, found.props, this.edits.get(node)) : undefined;
  }

  /**
   * Adds message types of a feature module: `families` maps each type to its checker and
   * handler. A type the core already defines cannot be taken over.
   */
  registerMessages(families: Record<string, MessageFamily>): void {
    for (const [type, family] of Object.entries(families)) {
      if (["welcome", "ui.snapshot", "ui.patch", "ack", "error", "ping", "pong"].includes(type)) {
        throw new Error(`message type ${type} belongs to the core`);
      }
      this.checks.set(type, family.check);
      this.families.set(type, family);
    }
  }

  /** Sends a user event on `node`, naming the revision on screen (PHL-EVT-006). Null: not made (too many unanswered). */
  sendEvent(node: string, name: string, value?: unknown): number | null {
    const id = this.transport.sendEvent(node, name, value, this.store.rev);
    if (id === null) this.setNotice({ kind: "error", text: "Too many actions are waiting for the server; that one was not sent." });
    return id;
  }

  /**
   * The user cancels `job` (PHL-JOB-072): its control goes away at once; the `job.cancel` takes
   * the next event id and is answered like an event (PHL-JOB-060). Null: not sent.
   */
  cancelJob(job: string): number | null {
    this.jobs.requestCancel(job);
    const id = this.transport.sendAnswered({ type: "job.cancel", job });
    if (id === null) this.setNotice({ kind: "error", text: "Too many actions are waiting for the server; that one was not sent." });
    return id;
  }

  private serverError(msg: ErrorMessage): void {
    this.lastError = msg;
    // Other codes (stale_revision, unknown_node, rate_limited, …) are races the next patch
    // resolves; an unknown non-fatal code is only logged (PHL-ERR-005).
    if (msg.code === "handler_error") {
      this.setNotice({ kind: "error", text: "The app failed to handle that action.", detail: msg.message });
    } else if (msg.fatal === true) {
      this.setNotice({ kind: "error", text: "The server closed the session.", detail: msg.message });
    } else {
      console.warn(`Phloem: server error ${msg.code}: ${msg.message}`);
    }
  }

  private setNotice(notice: Omit<Notice, "at">): void {
    this.lastNotice = { ...notice, at: Date.now() };
    for (const l of this.noticeListeners) l();
  }
}
