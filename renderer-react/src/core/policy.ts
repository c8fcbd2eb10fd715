/**
 * What a client does after a close or a fatal error (PHL-CLIENT-001 … PHL-CLIENT-003), and how
 * long it waits before trying again.
 */

import { FINAL_CLOSES, FINAL_ERRORS } from "./catalog.gen";

export const CLOSE_NORMAL = 1000;
/** Ours, for a connection we presume dead (heartbeat, probe, offline, no welcome): PHL-TRANSPORT-009. */
export const CLOSE_DEAD = 4000;
/** Ours, when the server broke the protocol. Browsers may close only with 1000 or 3000-4999 (PHL-HS-015). */
export const CLOSE_PROTOCOL_ERROR = 4002;
/** The session was resumed on another connection (PHL-DELIV-011). */
export const CLOSE_TAKEN_OVER = 4409;

/** Why a connection is over for good; null while it is not. */
export type Ending = "version" | "unauthorized" | "taken-over" | "ended" | "stopped";

/**
 * After the server closes with `code`: retry (a resume may work), or stop for good.
 * PHL-CLIENT-001: the close code that follows a final error (4406, 4401: the error table, via
 * FINAL_CLOSES) ends it as that error does, since the same hello would be refused again;
 * PHL-CLIENT-002: 4409 means another holder of the token has the session, and taking it back
 * would start a tug of war; 1000 means the application ended the session. Every other code,
 * known or not, is retried (PHL-CLIENT-003, PHL-TRANSPORT-008).
 */
export function endingAfterClose(code: number): Ending | null {
  const error = FINAL_CLOSES.get(code);
  if (error !== undefined) return endingAfterFatal(error);
  if (code === CLOSE_TAKEN_OVER) return "taken-over";
  return code === CLOSE_NORMAL ? "ended" : null;
}

/**
 * After a fatal `error`: the codes after which the same hello is refused again end the
 * connection for good; any other fatal code, known (`internal_error`) or not, is followed by a
 * resume (PHL-ERR-005, PHL-CLIENT-003).
 */
export function endingAfterFatal(code: string): Ending | null {
  if (!FINAL_ERRORS.has(code)) return null; // the error table's final codes (catalog.gen.ts)
  return code === "unauthorized" ? "unauthorized" : "version";
}

export interface Backoff {
  initialMs: number;
  maxMs: number;
}

/**
 * PHL-TRANSPORT-008: exponential backoff from `initialMs` doubling to `maxMs`, with ±20 %
 * jitter so that clients do not return in lockstep. `attempt` counts failures since the last
 * welcome, so a server that refuses before `welcome` is retried at the capped rate, never in a
 * tight loop (PHL-CLIENT-003).
 */
export function backoffDelay(attempt: number, backoff: Backoff, random: () => number): number {
  const base = Math.min(backoff.maxMs, backoff.initialMs * 2 ** attempt);
  return base * (0.8 + 0.4 * random());
}
