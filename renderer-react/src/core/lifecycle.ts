/**
 * The life of a client connection: every state, every input that can move it, and the one
 * table of transitions. Everything that changes ClientConnection's state is decided here (as
 * in h11's `_state.py`); connection.ts does the work that goes with each transition.
 */

export type State =
  /** Made, not started. */
  | "idle"
  /** A socket was asked for and has not opened yet. */
  | "connecting"
  /** The socket is open and `hello` went out; waiting for `welcome`. */
  | "handshaking"
  /** Welcomed: the session runs on this socket. */
  | "open"
  /** No socket; a retry is due at a deadline (backoff), or when the network returns. */
  | "waiting"
  /** The server refused what this client offers; retrying would be refused again. */
  | "failed"
  /** Stopped by the page, or the server ended or handed over the session: no retry. */
  | "closed";

export type Input =
  /** The page starts the client (again). */
  | "start"
  /** The socket opened. */
  | "opened"
  /** A `welcome` with a version we offered arrived. */
  | "welcomed"
  /** The socket is gone (closed, dropped, presumed dead) and a resume may work. */
  | "lost"
  /** The server refused us for good: 4401, 4406, a final fatal error, an unoffered version. */
  | "refused"
  /** The server ended the session (1000) or it was taken over by another connection (4409). */
  | "ended"
  /** Connect now: the backoff ran out, the network returned, or the page became visible. */
  | "retry"
  /** The page stops the client. */
  | "stop";

export const STATES: readonly State[] = ["idle", "connecting", "handshaking", "open", "waiting", "failed", "closed"];
export const INPUTS: readonly Input[] = ["start", "opened", "welcomed", "lost", "refused", "ended", "retry", "stop"];

/**
 * (state, input) → next state. An input missing from a state's row changes nothing there
 * (a late `opened` after a stop, a `retry` while open): connection.ts then does nothing either.
 */
export const TRANSITIONS: Readonly<Record<State, Readonly<Partial<Record<Input, State>>>>> = {
  idle: { start: "connecting", stop: "closed" },
  // `retry` while connecting gives up the attempt and opens a fresh socket (network changed).
  connecting: { opened: "handshaking", lost: "waiting", refused: "failed", ended: "closed", retry: "connecting", stop: "closed" },
  handshaking: { welcomed: "open", lost: "waiting", refused: "failed", ended: "closed", retry: "connecting", stop: "closed" },
  // A second welcome breaks the protocol: close with 4002 and resume (PHL-DELIV-013).
  open: { welcomed: "waiting", lost: "waiting", refused: "failed", ended: "closed", stop: "closed" },
  waiting: { retry: "connecting", stop: "closed" },
  failed: { start: "connecting", stop: "closed" },
  closed: { start: "connecting" },
};

/** The next state, or undefined when `input` changes nothing in `state`. */
export function transition(state: State, input: Input): State | undefined {
  return TRANSITIONS[state][input];
}

/** States in which the client holds a socket. */
export function hasSocket(state: State): boolean {
  return state === "connecting" || state === "handshaking" || state === "open";
}

/** States in which network and visibility changes matter: started and not over. */
export function isLive(state: State): boolean {
  return hasSocket(state) || state === "waiting";
}

/** What a UI shows; `reconnecting` once a session existed or an attempt failed. */
export type Status = "idle" | "connecting" | "open" | "reconnecting" | "failed" | "closed";

export function statusOf(state: State, firstAttempt: boolean): Status {
  switch (state) {
    case "connecting":
    case "handshaking":
      return firstAttempt ? "connecting" : "reconnecting";
    case "waiting":
      return "reconnecting";
    default:
      return state;
  }
}
