import { Store } from "./store";
import type { SocketFactory, Timers } from "./socket";
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
  private readonly errorListeners = new Set<() => void>();

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
      handler: {
        message: (msg) => {
          if (msg.type === "ui.patch") this.store.applyPatch(msg as UiPatch);
          else if (msg.type === "ui.snapshot") this.store.applySnapshot(msg as UiSnapshot);
          else if (msg.type === "error") this.setError(msg as ErrorMessage);
        },
        welcome: (_msg, resumed) => {
          // A resync sent on the dead socket is lost; ask again on the resumed session.
          // A new session sends a snapshot on its own.
          const wanted = this.store.resyncWanted;
          this.store.resetResync();
          if (resumed && wanted) this.store.askResync();
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

  subscribeError(listener: () => void): () => void {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
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

  private setError(msg: ErrorMessage): void {
    this.lastError = msg;
    for (const l of this.errorListeners) l();
  }
}
