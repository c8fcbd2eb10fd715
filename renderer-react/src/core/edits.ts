import { sameValue } from "./bound";
import type { Timers } from "./socket";

/**
 * What an input shows while the user's value wins over its bound prop in the tree
 * (PHL-COMP-021): the text of a text field, the state of a checkbox, the choice of a select.
 * Immutable: a new object each time it changes, so UI bindings can compare by identity.
 */
export interface FieldEdit {
  /** The value the user entered (a JSON value): displayed instead of the node's bound prop. */
  readonly value: unknown;
  /** The latest value would make a frame larger than `max_frame_bytes`: not sent (PHL-LIM-001). */
  readonly tooLong: boolean;
}

export interface EditsHooks {
  /**
   * Sends event `event` (the node's bound event) carrying `value`; returns its event id,
   * `"too-long"` when the frame would exceed `max_frame_bytes`, or `"refused"` when the client
   * makes no more events for now (too many unanswered); nothing is sent in either case.
   */
  send(node: string, event: string, value: unknown): number | "too-long" | "refused";
  /** False once the field is disabled: an edit still waiting is dropped, not sent (PHL-COMP-013). */
  enabled(node: string): boolean;
  timers: Timers;
  /** Wraps notification (the store's batch: a UI binding's synchronous flush). */
  batch(notify: () => void): void;
}

interface Entry {
  view: FieldEdit;
  /** The bound event that carries the value. */
  event: string;
  /** Edited since the last `change` went out (or the last one could not go). */
  pending: boolean;
  /** `change` events sent for this node and not yet answered. */
  readonly unanswered: Set<number>;
  timer: unknown;
}

/**
 * PHL-COMP-020: at most one `change` per field per 50 ms, the last edit sent within 50 ms of
 * the last keystroke. 50 ms is below what a typist notices and above keystroke intervals; a
 * checkbox or slider is held to the same spacing (a slider drag is a burst of edits too).
 */
export const COALESCE_MS = 50;

/**
 * The echo rule (PHL-COMP-021), per input node, for any bound value (`bound.ts`): while an
 * edit is unsent or its event is unanswered, the input shows the user's value and snapshots and
 * patches cannot replace it; once every event is answered and nothing is pending, the entry
 * goes and the input shows its node's bound prop again. Edits are coalesced here too
 * (PHL-COMP-020). Values are JSON values, compared structurally.
 */
export class Edits {
  private readonly entries = new Map<string, Entry>();
  /** Unanswered `change` id → node. */
  private readonly owners = new Map<number, string>();
  /** When each field last sent a `change`; outlives its entry, as the 50 ms spacing must. */
  private readonly sentAt = new Map<string, number>();
  private readonly listeners = new Map<string, Set<() => void>>();

  constructor(private readonly hooks: EditsHooks) {}

  /** What node `id` shows instead of its bound prop; undefined: show the tree's value. */
  get(node: string): FieldEdit | undefined {
    return this.entries.get(node)?.view;
  }

  subscribe(node: string, listener: () => void): () => void {
    let set = this.listeners.get(node);
    if (!set) this.listeners.set(node, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(node) === set) this.listeners.delete(node);
    };
  }

  /**
   * The user changed the input's bound value to `value` (its complete current value, e.g. the
   * field's whole text), to be sent as event `event`.
   */
  edit(node: string, value: unknown, event: string): void {
    let entry = this.entries.get(node);
    if (!entry) {
      entry = { view: { value, tooLong: false }, event, pending: true, unanswered: new Set(), timer: null };
      this.entries.set(node, entry);
    } else {
      entry.pending = true;
      entry.event = event;
      if (!sameValue(entry.view.value, value) || entry.view.tooLong) entry.view = { value, tooLong: false };
    }
    this.notify(node);
    this.schedule(node, entry);
  }

  /**
   * A server message answered event `id` (a patch or ack carrying it, or an error with `code`).
   * Call it after the message's tree change is applied.
   */
  answered(id: number, code?: string): void {
    const node = this.owners.get(id);
    if (node === undefined) return;
    this.owners.delete(id);
    const entry = this.entries.get(node);
    if (!entry) return;
    entry.unanswered.delete(id);
    // A rate_limited change was dropped unapplied; it goes again as a new event (PHL-CLIENT-009). Only
    // the latest one matters: a later change carries the complete value anyway.
    if (code === "rate_limited" && !entry.pending && ![...entry.unanswered].some((later) => later > id)) {
      entry.pending = true;
      this.schedule(node, entry);
    }
    this.settle(node, entry);
  }

  /** Event `id` was not sent after all (its frame exceeded `max_frame_bytes` at send time). */
  unsent(id: number): void {
    const node = this.owners.get(id);
    if (node === undefined) return;
    this.owners.delete(id);
    const entry = this.entries.get(node);
    if (!entry) return;
    entry.unanswered.delete(id);
    if (![...entry.unanswered].some((later) => later > id)) {
      // The value on screen never reached the server: it is an unsent edit again.
      entry.pending = true;
      this.markTooLong(node, entry);
    }
  }

  /** Forgets every edit: the session they belonged to is gone (a refused resume, PHL-DELIV-010). */
  reset(): void {
    const nodes = [...this.entries.keys()];
    for (const entry of this.entries.values()) this.cancel(entry);
    this.entries.clear();
    this.owners.clear();
    for (const node of nodes) this.notify(node);
  }

  /** Sends now if this field sent nothing in the last 50 ms, else when 50 ms have passed. */
  private schedule(node: string, entry: Entry): void {
    if (entry.timer !== null) return;
    const wait = (this.sentAt.get(node) ?? -Infinity) + COALESCE_MS - this.hooks.timers.now();
    if (wait <= 0) {
      this.sentAt.delete(node); // long enough ago to forget
      return this.flush(node, entry);
    }
    entry.timer = this.hooks.timers.setTimeout(() => {
      entry.timer = null;
      this.flush(node, entry);
    }, wait);
  }

  private flush(node: string, entry: Entry): void {
    if (!entry.pending || this.entries.get(node) !== entry) return;
    if (!this.hooks.enabled(node)) {
      entry.pending = false;
      return this.settle(node, entry);
    }
    const id = this.hooks.send(node, entry.event, entry.view.value);
    if (id === "too-long") return this.markTooLong(node, entry);
    if (id === "refused") return; // stays an unsent edit, shown as typed: the next edit tries again
    entry.pending = false;
    this.sentAt.set(node, this.hooks.timers.now());
    entry.unanswered.add(id);
    this.owners.set(id, node);
  }

  private markTooLong(node: string, entry: Entry): void {
    // Stays pending with no timer: the next edit tries again.
    if (entry.view.tooLong) return;
    entry.view = { value: entry.view.value, tooLong: true };
    this.notify(node);
  }

  /** Nothing unsent and nothing unanswered: the tree's value is displayed again. */
  private settle(node: string, entry: Entry): void {
    if (entry.pending || entry.unanswered.size > 0 || entry.timer !== null) return;
    this.entries.delete(node);
    this.notify(node);
  }

  private cancel(entry: Entry): void {
    if (entry.timer !== null) this.hooks.timers.clearTimeout(entry.timer);
    entry.timer = null;
  }

  private notify(node: string): void {
    const set = this.listeners.get(node);
    if (set && set.size > 0) this.hooks.batch(() => set.forEach((l) => l()));
  }
}
