/**
 * Cheap structural checks of what arrives from the network (the brief: validate what arrives,
 * trust what we build). Not a JSON Schema validator: it checks exactly what the client relies
 * on, so a bad server message becomes a coded error instead of a crash (PHL-ERR-001).
 */
import { JOB_CHECKS } from "./jobs";
import type { ErrorCode, Node, PatchOp, ServerMessage } from "./wire.gen";

export type Parsed =
  | { ok: true; message: ServerMessage }
  | { ok: false; code: ErrorCode; message: string; seq?: number; type?: string };

const NODE_ID = /^[A-Za-z0-9_.:/-]{1,128}$/;
const COMPONENT_TYPE = /^[A-Z][A-Za-z0-9]{0,63}$/;
const MAX_DEPTH = 512;

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const isUint = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const isSeq = (v: unknown): v is number => isUint(v) && v >= 1;
const isNodeId = (v: unknown): v is string => typeof v === "string" && NODE_ID.test(v);
const optional = (v: unknown, check: (v: unknown) => boolean): boolean => v === undefined || check(v);

/** Returns a problem description, or null when `node` is a valid Node (recursively). */
export function checkNode(node: unknown, depth = 0): string | null {
  if (depth > MAX_DEPTH) return "tree too deep";
  if (!isObj(node)) return "node is not an object";
  if (!isNodeId(node.id)) return "node.id is not a node id";
  if (typeof node.type !== "string" || !COMPONENT_TYPE.test(node.type)) return `node ${node.id}: bad type`;
  if (node.props !== undefined && !isObj(node.props)) return `node ${node.id}: props is not an object`;
  const children = node.children;
  if (children === undefined) return null;
  if (!Array.isArray(children)) return `node ${node.id}: children is not an array`;
  for (const child of children) {
    const problem = checkNode(child, depth + 1);
    if (problem) return problem;
  }
  return null;
}

const OP_KEYS = ["set", "unset", "insert", "remove", "move", "replace"] as const;

/** Returns a problem description, or null when `op` has exactly one well-formed operation. */
export function checkOp(op: unknown): string | null {
  if (!isObj(op)) return "op is not an object";
  if (!isNodeId(op.id)) return "op.id is not a node id";
  let kind: (typeof OP_KEYS)[number] | undefined;
  for (const key of OP_KEYS) {
    if (key in op) {
      if (kind) return `op ${op.id} has both ${kind} and ${key}`;
      kind = key;
    }
  }
  switch (kind) {
    case "set":
      return isObj(op.set) && Object.keys(op.set).length > 0 ? null : "set is not a non-empty object";
    case "unset":
      return Array.isArray(op.unset) && op.unset.length > 0 && op.unset.every((k) => typeof k === "string")
        ? null
        : "unset is not a non-empty list of names";
    case "insert":
      return isUint(op.index) ? checkNode(op.insert) : "insert without a valid index";
    case "remove":
      return op.remove === true ? null : "remove is not true";
    case "move":
      return isNodeId(op.move) && isUint(op.index) ? null : "move needs a parent id and an index";
    case "replace":
      return checkNode(op.replace);
    default:
      return `op ${op.id} has no operation`;
  }
}

type Checker = (m: Obj) => string | null;

const SEQUENCED: Checker = (m) => (isSeq(m.seq) ? null : "seq is not a positive integer");

/** One checker per server → client message type (the closed list of PHL-MSG-001). */
const CHECKS: Record<string, Checker> = {
  welcome: (m) =>
    SEQUENCED(m) ??
    (typeof m.version !== "string" ? "version missing" : null) ??
    (typeof m.session !== "string" || typeof m.token !== "string" ? "session/token missing" : null) ??
    (isObj(m.limits) ? null : "limits missing") ??
    (optional(m.resumed, (v) => typeof v === "boolean") ? null : "resumed is not a boolean"),
  "ui.snapshot": (m) => SEQUENCED(m) ?? (isUint(m.rev) ? null : "rev is not an integer") ?? checkNode(m.root),
  "ui.patch": (m) => {
    const problem =
      SEQUENCED(m) ??
      (isUint(m.base) && isUint(m.rev) ? null : "base/rev are not integers") ??
      (optional(m.event, isUint) ? null : "event is not an integer") ??
      (Array.isArray(m.ops) && m.ops.length > 0 ? null : "ops is not a non-empty list");
    if (problem) return problem;
    for (const op of m.ops as unknown[]) {
      const opProblem = checkOp(op);
      if (opProblem) return opProblem;
    }
    return null;
  },
  ack: (m) => SEQUENCED(m) ?? (isUint(m.event) ? null : "ack without an event id"),
  error: (m) =>
    (optional(m.seq, isSeq) ? null : "seq is not a positive integer") ??
    (typeof m.code === "string" && typeof m.message === "string" ? null : "code/message missing") ??
    (optional(m.event, isUint) ? null : "event is not an integer"),
  ping: (m) => SEQUENCED(m) ?? (optional(m.id, isPingId) ? null : "id is not a string or integer"),
  pong: (m) => (optional(m.id, isPingId) ? null : "id is not a string or integer"),
  ...JOB_CHECKS, // since 1.1: job.state, job.progress, job.log
};

function isPingId(v: unknown): boolean {
  return typeof v === "string" || (typeof v === "number" && Number.isInteger(v));
}

/** Parses one frame from the server. Binary frames are reserved in 1.0 (malformed_frame). */
export function parseServerFrame(data: unknown): Parsed {
  if (typeof data !== "string") return { ok: false, code: "malformed_frame", message: "binary frames are not used in 1.0" };
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return { ok: false, code: "malformed_frame", message: "frame is not JSON" };
  }
  if (!isObj(value)) return { ok: false, code: "malformed_frame", message: "frame is not a JSON object" };
  const { type } = value;
  const seqInfo = isSeq(value.seq) ? { seq: value.seq } : {};
  if (typeof type !== "string") return { ok: false, code: "invalid_message", message: "type is not a string", ...seqInfo };
  const check = Object.prototype.hasOwnProperty.call(CHECKS, type) ? CHECKS[type] : undefined;
  if (!check) {
    return { ok: false, code: "unknown_message_type", message: `unknown message type ${truncate(type)}`, ...seqInfo, type };
  }
  const problem = check(value);
  if (problem) return { ok: false, code: "invalid_message", message: `${type}: ${problem}`, ...seqInfo, type };
  return { ok: true, message: value as ServerMessage };
}

function truncate(s: string): string {
  return s.length > 64 ? `${s.slice(0, 64)}…` : s;
}

export type { Node, PatchOp };
