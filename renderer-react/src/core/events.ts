import { TokenBucket } from "./rate";
import type { Event as EventMessage } from "./wire.gen";

export type OutgoingEvent =
  | Pick<EventMessage, "type" | "id" | "node" | "name" | "value" | "rev">
  /**
   * A feature's message answered like an event (since 1.1, `job.cancel`, PHL-JOB-060): it takes
   * the next event id and is resent after a resume until answered.
   */
  | { type: string; id: number; node?: undefined; name?: undefined; [field: string]: unknown };

/** The spec's default rate (PHL-LIM-005), used until `welcome` names the real one. */
const DEFAULT_EVENTS_PER_SECOND = 50;
/**
 * Events made and not answered, at most: a user who keeps acting while the server is away
 * (offline, or slower than the clicks) cannot grow memory without bound. 1,000 is twenty
 * seconds of events at the default rate, far beyond what a person does.
 */
export const MAX_UNANSWERED = 1000;

/**
 * The session's outgoing events: ids, the unanswered ones (resent after a resume,
 * PHL-DELIV-009), and the queue that keeps sending within `max_events_per_second`
 * (PHL-LIM-002, PHL-CLIENT-006) and within `max_frame_bytes` (PHL-LIM-001).
 */
export class EventQueue {
  private nextId = 1;
  /** Events not yet answered, in id order (a Map keeps insertion order). */
  private readonly unanswered = new Map<number, OutgoingEvent>();
  /** Events to send on the open connection, in id order. */
  private outbox: OutgoingEvent[] = [];
  private readonly bucket: TokenBucket;
  private maxFrameBytes = Number.POSITIVE_INFINITY;
  /** When the bucket has a token for the next queued event; Infinity while none waits for one. */
  drainAt = Number.POSITIVE_INFINITY;

  constructor(
    now: number,
    private readonly maxUnanswered = MAX_UNANSWERED,
  ) {
    this.bucket = new TokenBucket(DEFAULT_EVENTS_PER_SECOND, now);
  }

  /**
   * A new event with the next id (PHL-EVT-002); `open`: queue it for sending now. Events made
   * while no session is open wait for the next welcome (PHL-CLIENT-005). Null when too many
   * events are unanswered: the event is not made.
   */
  add(node: string, name: string, value: unknown, rev: number | null | undefined, open: boolean): OutgoingEvent | null {
    if (this.unanswered.size >= this.maxUnanswered) return null;
    const event: OutgoingEvent = { type: "event", id: this.nextId++, node, name };
    if (value !== undefined) event.value = value;
    if (rev != null) event.rev = rev;
    this.unanswered.set(event.id, event);
    if (open) this.outbox.push(event);
    return event;
  }

  /** A feature's message (`{type, ...fields}`) with the next event id, answered like an event. */
  addAnswered(fields: { type: string; [field: string]: unknown }, open: boolean): OutgoingEvent | null {
    if (this.unanswered.size >= this.maxUnanswered) return null;
    const msg: OutgoingEvent = { ...fields, id: this.nextId++ };
    this.unanswered.set(msg.id, msg);
    if (open) this.outbox.push(msg);
    return msg;
  }

  /** Event `id` got its answer (or will never get one). */
  answered(id: number): void {
    this.unanswered.delete(id);
  }

  get pending(): number {
    return this.unanswered.size;
  }

  /**
   * Welcomed: the limits apply from now on, and every unanswered event goes (again), in id
   * order, unchanged: same id, node, name, value and rev (PHL-DELIV-009, PHL-CLIENT-007).
   */
  welcomed(maxEventsPerSecond: number, maxFrameBytes: number, now: number): void {
    this.bucket.setRate(maxEventsPerSecond, now);
    this.maxFrameBytes = maxFrameBytes;
    this.outbox = [...this.unanswered.values()];
  }

  /** A new session replaced the old one: its events are moot (PHL-DELIV-010). */
  discard(): void {
    this.unanswered.clear();
    this.outbox = [];
  }

  /** The connection is gone: nothing is sent until the next welcome; unanswered events stay. */
  detached(): void {
    this.outbox = [];
    this.drainAt = Number.POSITIVE_INFINITY;
  }

  /** The next event the rate allows at `now`, or null (then `drainAt` says when to ask again). */
  next(now: number): OutgoingEvent | null {
    this.drainAt = Number.POSITIVE_INFINITY;
    if (this.outbox.length === 0) return null;
    if (!this.bucket.take(now)) {
      this.drainAt = now + this.bucket.wait(now);
      return null;
    }
    return this.outbox.shift() ?? null;
  }

  /**
   * Whether an event with this payload fits `max_frame_bytes` whatever id, rev and ack it gets
   * (PHL-LIM-001). Before the first welcome the limit is unknown: everything fits.
   */
  fits(node: string, name: string, value?: unknown): boolean {
    const big = Number.MAX_SAFE_INTEGER;
    return !this.tooLarge(JSON.stringify({ type: "event", id: big, node, name, value, rev: big, ack: big }));
  }

  /** UTF-8 length over `max_frame_bytes`; a UTF-16 unit is at most 3 bytes, so short frames skip encoding. */
  tooLarge(frame: string): boolean {
    return frame.length * 3 > this.maxFrameBytes && new TextEncoder().encode(frame).length > this.maxFrameBytes;
  }
}
