/**
 * Whether the open connection is alive. Heartbeat: a ping after `heartbeat_seconds` without
 * sending anything (PHL-PING-003); nothing received within `heartbeat_seconds` of that ping
 * means a dead connection (PHL-PING-004). Probe: a ping that must be answered (by anything)
 * within `probeTimeoutMs`, sent when the network or the page's visibility changed.
 *
 * The heartbeat deadline moves only when it is reached, so sending and receiving cost one
 * assignment each and the shell's timer is not re-armed per frame.
 */
export class Liveness {
  private heartbeatMs = 0;
  private lastSent = 0;
  private pingSentAt: number | null = null;
  private pingId = 0;
  /** When the heartbeat is next checked; Infinity without a heartbeat. */
  checkAt = Number.POSITIVE_INFINITY;
  /** When an unanswered probe makes the connection dead; Infinity without one. */
  probeAt = Number.POSITIVE_INFINITY;

  constructor(private readonly probeTimeoutMs: number) {}

  /** Welcomed: start the heartbeat announced in `welcome.limits`. */
  start(heartbeatMs: number, now: number): void {
    this.heartbeatMs = heartbeatMs;
    this.pingSentAt = null;
    this.checkAt = heartbeatMs > 0 ? this.lastSent + heartbeatMs : Number.POSITIVE_INFINITY;
    if (this.checkAt < now) this.checkAt = now;
  }

  stop(): void {
    this.pingSentAt = null;
    this.checkAt = this.probeAt = Number.POSITIVE_INFINITY;
  }

  sent(now: number): void {
    this.lastSent = now;
  }

  /** Anything received shows the connection alive (PHL-PING-004). */
  received(): void {
    this.pingSentAt = null;
    this.probeAt = Number.POSITIVE_INFINITY;
  }

  /** The id for a client ping: ours start with "c" so they never collide with a barrier's. */
  nextPingId(): string {
    return `c${++this.pingId}`;
  }

  /** Starts a probe; false when one is already waiting for its answer. */
  probe(now: number): boolean {
    if (this.probeAt !== Number.POSITIVE_INFINITY) return false;
    this.probeAt = now + this.probeTimeoutMs;
    return true;
  }

  /** What is due at `now`: a heartbeat `ping`, `dead` (close and resume), or nothing. */
  due(now: number): "ping" | "dead" | null {
    if (now >= this.probeAt) return "dead";
    if (now < this.checkAt) return null;
    const hb = this.heartbeatMs;
    if (this.pingSentAt !== null) {
      if (now - this.pingSentAt >= hb) return "dead";
      this.checkAt = this.pingSentAt + hb;
      return null;
    }
    if (now - this.lastSent >= hb) {
      this.pingSentAt = now;
      this.checkAt = now + hb;
      return "ping";
    }
    this.checkAt = this.lastSent + hb;
    return null;
  }

  get deadline(): number {
    return Math.min(this.checkAt, this.probeAt);
  }
}
