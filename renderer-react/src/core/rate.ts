/**
 * A token bucket that keeps client events within `welcome.limits.max_events_per_second`
 * (PHL-LIM-002). Capacity equals the sustained rate, so the client never relies on the
 * server's burst allowance.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private perSecond: number,
    now: number,
  ) {
    this.tokens = perSecond;
    this.last = now;
  }

  setRate(perSecond: number, now: number): void {
    this.refill(now);
    this.perSecond = perSecond;
    this.tokens = Math.min(this.tokens, perSecond);
  }

  /** Takes a token if one is available. */
  take(now: number): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds until the next token. */
  wait(now: number): number {
    this.refill(now);
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) * 1000) / this.perSecond);
  }

  private refill(now: number): void {
    this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.last) * this.perSecond) / 1000);
    this.last = now;
  }
}
