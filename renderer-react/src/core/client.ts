import { Edits } from "./edits";
import { JobStore } from "./jobs";
import { Store } from "./store";
import { realTimers, type Environment, type SocketFactory, type Timers } from "./socket";
import { Transport, type Status } from "./transport";
import type { Error as ErrorMessage, UiPatch, UiSnapshot } from "./wire.gen";

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
 * One Phloem session in a page: the tree store fed by the transport. Framework-free; a UI
 * binding reads `store`, watches `status`, and calls `sendEvent`.
 */
export class PhloemClient {
  readonly store: Store;
  readonly transport: Transport;
  /** Text fields' unsent and unanswered edits: the echo rule (PHL-COMP-021). */
  readonly edits: Edits;
  /** Jobs the server told us of (jobs feature), apart from the tree (PHL-JOB-070). */
  readonly jobs = new JobStore();
  private lastError: ErrorMessage | null = null;
  private lastNotice: Notice | null = null;
  private readonly noticeListeners = new Set<() => void>();

  constructor(options: ClientOptions) {
    this.store = new Store({
      requestResync: (rev) => {
        this.transport.send(rev === null ? { type: "resync" } : { type: "resync", rev });
      },
      reportProblem: (code, message) => this.transport.reportError(code, message),
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
      handler: {
        message: (msg) => {
          if (msg.type === "ui.patch") this.store.applyPatch(msg as UiPatch);
          else if (msg.type === "ui.snapshot") this.store.applySnapshot(msg as UiSnapshot);
          else if (msg.type === "error") this.serverError(msg as ErrorMessage);
          else if ((msg.type as string).startsWith("job.")) this.jobs.apply(msg as Record<string, unknown>);
          // After the tree change: a field whose last change this answers shows the new value.
          if (typeof msg.event === "number") {
            this.edits.answered(msg.event, msg.type === "error" ? (msg as ErrorMessage).code : undefined);
          }
        },
        unsent: (id) => this.edits.unsent(id),
        welcome: (_msg, { resumed, refused }) => {
          // A resync sent on the dead socket is lost; ask again on the resumed session.
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
          if (problem.type === "ui.patch" || problem.type === "ui.snapshot") this.store.askResync();
        },
      },
    });
    this.edits = new Edits({
      send: (node, text) => (this.transport.fits(node, "change", text) ? this.sendEvent(node, "change", text) : null),
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
   * The user changed text field `node` to `text`: shown at once, sent as a coalesced `change`
   * (PHL-COMP-020), and kept on screen until the server has answered (PHL-COMP-021).
   */
  edit(node: string, text: string): void {
    this.edits.edit(node, text);
  }

  /** Sends a user event on `node`, naming the revision on screen (PHL-EVT-006). */
  sendEvent(node: string, name: string, value?: unknown): number {
    return this.transport.sendEvent(node, name, value, this.store.rev);
  }

  /** The user cancels `job` (PHL-JOB-072): its control goes away at once; the answer follows. */
  cancelJob(job: string): number {
    this.jobs.requestCancel(job);
    return this.transport.sendJobCancel(job);
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
