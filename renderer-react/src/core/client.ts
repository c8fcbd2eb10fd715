import { Store } from "./store";
import type { Environment, SocketFactory, Timers } from "./socket";
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
      ...(options.features ? { features: options.features } : {}),
      ...(options.createSocket ? { createSocket: options.createSocket } : {}),
      ...(options.timers ? { timers: options.timers } : {}),
      ...(options.random ? { random: options.random } : {}),
      ...(options.environment !== undefined ? { environment: options.environment } : {}),
      handler: {
        message: (msg) => {
          if (msg.type === "ui.patch") this.store.applyPatch(msg as UiPatch);
          else if (msg.type === "ui.snapshot") this.store.applySnapshot(msg as UiSnapshot);
          else if (msg.type === "error") this.serverError(msg as ErrorMessage);
        },
        welcome: (_msg, { resumed, refused }) => {
          // A resync sent on the dead socket is lost; ask again on the resumed session.
          // A new session sends a snapshot on its own.
          const wanted = this.store.resyncWanted;
          this.store.resetResync();
          if (resumed && wanted) this.store.askResync();
          if (refused) {
            // PHL-DELIV-010: the old tree is gone; the user is told the page was reset.
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

  /** Sends a user event on `node`, naming the revision on screen (PHL-EVT-006). */
  sendEvent(node: string, name: string, value?: unknown): number {
    return this.transport.sendEvent(node, name, value, this.store.rev);
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
