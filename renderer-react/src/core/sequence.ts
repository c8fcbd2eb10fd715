/**
 * Seq and ack bookkeeping for one session: which server `seq` was processed last, which was
 * acknowledged, and when the next ack is due. Acks are batched (PHL-DELIV-002): piggybacked on
 * the next event, else one `ack` within `ackDelayMs` (PHL-DELIV-012: at least once per second),
 * or at once after `ackEvery` unacknowledged messages so the server's replay buffer stays small.
 */
export class Sequence {
  /** Highest seq processed. */
  last = 0;
  /** Highest seq acknowledged to the server. */
  private acked = 0;
  /** Frames whose seq could not be read (not JSON): each excuses one gap in the sequence. */
  private uncounted = 0;
  /** When the batched ack is due; Infinity while nothing waits. */
  ackAt = Number.POSITIVE_INFINITY;

  constructor(
    private readonly ackDelayMs: number,
    private readonly ackEvery: number,
  ) {}

  /** Whether `seq` continues the sequence: exactly one more, bar unreadable frames (PHL-DELIV-013). */
  follows(seq: number): boolean {
    if (seq > this.last && seq <= this.last + 1 + this.uncounted) {
      this.uncounted = 0;
      return true;
    }
    return false;
  }

  /** A frame arrived whose seq could not be read. */
  unreadable(): void {
    this.uncounted += 1;
  }

  /** Records `seq` as processed; returns whether an ack is due at once. */
  processed(seq: number, now: number): boolean {
    this.last = seq;
    if (seq - this.acked >= this.ackEvery) return true;
    if (this.ackAt === Number.POSITIVE_INFINITY) this.ackAt = now + this.ackDelayMs;
    return false;
  }

  /** The seq an outgoing frame may acknowledge now, or undefined when all is acknowledged. */
  get unacked(): number | undefined {
    return this.last > this.acked ? this.last : undefined;
  }

  /** `seq` went out in an `ack` or an event's `ack` field. */
  acknowledged(seq: number): void {
    this.acked = seq;
    this.ackAt = Number.POSITIVE_INFINITY;
  }

  /** A `welcome` numbered `seq`; a new session counts from it (PHL-DELIV-001). */
  welcomed(seq: number, resumed: boolean): void {
    this.last = seq;
    this.uncounted = 0;
    if (!resumed) this.acked = 0;
  }

  /** The connection is gone: nothing can be acknowledged until the next welcome. */
  detached(): void {
    this.ackAt = Number.POSITIVE_INFINITY;
  }
}
