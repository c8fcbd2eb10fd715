import { PatchConflict, Tree, normaliseNode, type TreeNode } from "./tree";
import type { ErrorCode, UiPatch, UiSnapshot } from "./wire.gen";

export type Listener = () => void;

export interface StoreHooks {
  /** The tree is unusable (gap or conflict): ask the server for a snapshot (PHL-PATCH-008). */
  requestResync(rev: number | null): void;
  /** A server message was well-formed JSON but unusable; the client keeps running. */
  reportProblem?(code: ErrorCode, message: string): void;
  /** A snapshot was unusable again while the resync asked for after the last one is pending. */
  snapshotUnusable?(): void;
}

/**
 * Holds the component tree at revision `rev`. Listeners subscribe per node id and hear about
 * a change to that node's own props or children list (or its re-creation); a change deeper
 * down is heard by the deeper node only. That is what lets a renderer re-render only the
 * touched nodes.
 */
export class Store {
  private tree: Tree | null = null;
  private revision: number | null = null;
  private resyncPending = false;
  private readonly nodeListeners = new Map<string, Set<Listener>>();
  private readonly anyListeners = new Set<Listener>();
  /** Wraps notification; a UI binding installs its synchronous flush here (e.g. flushSync). */
  batch: (notify: () => void) => void = (notify) => notify();

  constructor(private readonly hooks: StoreHooks) {}

  get rev(): number | null {
    return this.revision;
  }

  getRoot(): TreeNode | null {
    return this.tree?.root ?? null;
  }

  getRootId(): string | null {
    return this.tree?.root.id ?? null;
  }

  getNode(id: string): TreeNode | undefined {
    return this.tree?.get(id);
  }

  /** Listens to node `id` (see the class comment). Returns the unsubscribe function. */
  subscribeNode(id: string, listener: Listener): () => void {
    let set = this.nodeListeners.get(id);
    if (!set) this.nodeListeners.set(id, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.nodeListeners.get(id) === set) this.nodeListeners.delete(id);
    };
  }

  /** Listens to every change of the tree (snapshot or patch). */
  subscribe(listener: Listener): () => void {
    this.anyListeners.add(listener);
    return () => this.anyListeners.delete(listener);
  }

  /** Replaces the whole tree (PHL-TREE-004). */
  applySnapshot(msg: UiSnapshot): void {
    let tree: Tree;
    try {
      tree = new Tree(normaliseNode(msg.root));
    } catch (err) {
      if (!(err instanceof PatchConflict)) throw err;
      this.hooks.reportProblem?.("invalid_message", `ui.snapshot: ${err.message}`);
      this.rejectSnapshot();
      return;
    }
    this.tree = tree;
    this.revision = msg.rev;
    this.resyncPending = false;
    this.notify(null);
  }

  /**
   * Applies a patch when `base` is the current revision; otherwise leaves the tree alone and
   * asks for a resync (PHL-PATCH-008). Returns whether the patch was applied.
   */
  applyPatch(msg: UiPatch): boolean {
    // While a resync is pending every patch is ignored, even one whose base matches: the
    // snapshot on its way supersedes them (PHL-PATCH-014). Its seq and event still count.
    if (this.resyncPending) return false;
    const tree = this.tree;
    if (!tree || msg.base !== this.revision) {
      this.askResync();
      return false;
    }
    let touched: Set<string>;
    try {
      touched = tree.apply(msg.ops);
    } catch (err) {
      if (!(err instanceof PatchConflict)) throw err;
      // Atomic (PHL-PATCH-009): nothing applied; our tree and the server's disagree.
      this.askResync();
      return false;
    }
    this.revision = msg.rev;
    this.notify(touched);
    return true;
  }

  /** Asks for a snapshot once until one arrives, however many stale patches follow. */
  askResync(): void {
    if (this.resyncPending) return;
    this.resyncPending = true;
    this.hooks.requestResync(this.revision);
  }

  /**
   * A snapshot could not be used: the previous tree stays, and one resync asks for a fresh one;
   * one that is unusable too asks nothing more, or the same snapshot would come back forever
   * (PHL-CLIENT-012).
   */
  rejectSnapshot(): void {
    if (this.resyncPending) this.hooks.snapshotUnusable?.();
    else this.askResync();
  }

  /** Forgets the tree (a new session's snapshot follows). */
  reset(): void {
    this.tree = null;
    this.revision = null;
    this.resyncPending = false;
    this.notify(null);
  }

  /** Whether a resync was asked for and no snapshot has arrived since. */
  get resyncWanted(): boolean {
    return this.resyncPending;
  }

  /** A fresh connection may resend resync: the previous request died with the socket. */
  resetResync(): void {
    this.resyncPending = false;
  }

  private notify(touched: Set<string> | null): void {
    this.batch(() => {
      if (touched === null) {
        for (const set of this.nodeListeners.values()) for (const l of set) l();
      } else {
        for (const id of touched) {
          const set = this.nodeListeners.get(id);
          if (set) for (const l of set) l();
        }
      }
      for (const l of this.anyListeners) l();
    });
  }
}
