/** @phloem/react core: the protocol client, free of React (a test enforces it). */
export { PhloemClient, CLIENT_INFO, type ClientOptions, type MessageFamily, type Notice } from "./client";
export { ClientConnection, type ConnectionOptions, type Effect, type NetworkChange } from "./connection";
export { EventQueue, MAX_UNANSWERED, type OutgoingEvent } from "./events";
export { INPUTS, STATES, TRANSITIONS, transition, type Input, type State } from "./lifecycle";
export { Liveness } from "./liveness";
export { backoffDelay, endingAfterClose, endingAfterFatal, type Backoff, type Ending } from "./policy";
export { Sequence } from "./sequence";
export { CORE_BOUND, sameValue, shownValue, type BoundDecl, type BoundTable } from "./bound";
export { COALESCE_MS, Edits, type EditsHooks, type FieldEdit } from "./edits";
export { pageConfig, resolveConfig, WS_PATH, type PhloemConfig, type ResolvedConfig } from "./config";
export { JobStore, JOB_CHECKS, LOG_KEEP, TERMINAL, jobMessages, type JobState, type JobView } from "./jobs";
export { installTestHooks, type PhloemTestHooks } from "./hooks";
export {
  browserEnvironment,
  browserSocket,
  realTimers,
  type Environment,
  type EnvironmentChange,
  type SocketFactory,
  type SocketLike,
  type Timers,
} from "./socket";
export { TokenBucket } from "./rate";
export { Store, type Listener, type StoreHooks } from "./store";
export { Transport, SUBPROTOCOL, VERSIONS, type SessionHandler, type Status, type TransportOptions } from "./transport";
export { PatchConflict, Tree, normaliseNode, type TreeNode } from "./tree";
export { safeHref } from "./url";
export { checkNode, checkOp, parseServerFrame, type Checker, type Parsed } from "./validate";
export type * as wire from "./wire.gen";
