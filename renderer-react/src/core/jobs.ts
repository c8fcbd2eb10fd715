/**
 * The job store (protocol 1.1, jobs feature): what the client knows of every job it was told
 * about, kept apart from the tree (PHL-JOB-070). Job messages update it; a JobProgress node
 * reads the job its `job` prop names, so progress never costs a patch. Framework-free.
 */

import {
  ADDED_SERVER_TYPES,
  JOB_ERROR_MESSAGE_MAX_LENGTH,
  JOB_ERROR_TYPE_MAX_LENGTH,
  JOB_ID,
  JOB_LOG_LINE_MAX_LENGTH,
  JOB_LOG_LINES_MAX_ITEMS,
  JOB_NAME_MAX_LENGTH,
  JOB_PROGRESS_LOG_MAX,
  JOB_STATES,
  JOB_TEXT_MAX_LENGTH,
  TERMINAL_JOB_STATES,
  type JobState,
} from "./wire-1.1.gen";

export type { JobState };

export const TERMINAL: ReadonlySet<string> = TERMINAL_JOB_STATES;
const STATES: ReadonlySet<string> = new Set(JOB_STATES);
/** Log lines kept per job: the most a JobProgress shows (its schema's `log` maximum). */
export const LOG_KEEP = JOB_PROGRESS_LOG_MAX;

export interface JobView {
  readonly id: string;
  readonly name: string;
  readonly state: JobState;
  readonly attempt: number;
  /** In [0, 1]; undefined while indeterminate. Never decreases within an attempt. */
  readonly fraction: number | undefined;
  readonly done: number | undefined;
  readonly total: number | undefined;
  readonly stage: string | undefined;
  readonly message: string | undefined;
  readonly eta: number | undefined;
  /** The newest lines (at most LOG_KEEP). */
  readonly log: readonly string[];
  /** Lines the job's log holds in all: the offset of the next `job.log`. */
  readonly logCount: number;
  /** A cancel was sent or the server says the job is stopping. */
  readonly cancelRequested: boolean;
  readonly error: { readonly message: string; readonly type?: string } | undefined;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const isUint = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0;
const isSeq = (v: unknown): boolean => isUint(v) && v >= 1;
const isJobId = (v: unknown): v is string => typeof v === "string" && JOB_ID.test(v);

/**
 * At most `max` characters as JSON Schema counts them (Unicode code points, not UTF-16 units):
 * 200 emoji are 400 units yet fit a maxLength of 200. Counted only when the units exceed it.
 */
function fits(s: string, max: number): boolean {
  if (s.length <= max) return true;
  if (s.length > 2 * max) return false; // a code point is at most two units
  let points = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    // A surrogate pair is one code point in two units.
    if (isHigh(s.charCodeAt(i)) && isLow(s.charCodeAt(i + 1))) {
      points--;
      i++;
    }
  }
  return points <= max;
}
const isHigh = (unit: number): boolean => unit >= 0xd800 && unit <= 0xdbff;
const isLow = (unit: number): boolean => unit >= 0xdc00 && unit <= 0xdfff;

const prefixed = (prefix: string, problem: string | null): string | null => (problem === null ? null : prefix + problem);

/** Null, or why `v` is not an optional string of at most `max` characters. */
function textProblem(field: string, v: unknown, max: number): string | null {
  if (v === undefined) return null;
  if (typeof v !== "string") return `${field} is not a string`;
  return fits(v, max) ? null : `${field} is longer than ${max} characters`;
}

/**
 * The schema's bounds (the *_MAX_LENGTH constants, generated from schemas/1.1) are checked like its types: an
 * over-long stage is as invalid as a numeric one (PHL-JOB-024), and the message is dropped and
 * reported as `invalid_message` (PHL-ERR-001, PHL-ERR-006) rather than shown.
 */
function progressProblem(m: Obj): string | null {
  if (m.fraction !== undefined && !(typeof m.fraction === "number" && m.fraction >= 0 && m.fraction <= 1)) {
    return "fraction is not a number in [0, 1]";
  }
  if (m.done !== undefined && !isUint(m.done)) return "done is not an integer";
  if (m.total !== undefined && !(isUint(m.total) && m.total >= 1)) return "total is not a positive integer";
  const text = textProblem("stage", m.stage, JOB_TEXT_MAX_LENGTH) ?? textProblem("message", m.message, JOB_TEXT_MAX_LENGTH);
  if (text) return text;
  if (m.eta !== undefined && !(typeof m.eta === "number" && m.eta >= 0)) return "eta is not a non-negative number";
  return null;
}

type Checker = (m: Obj) => string | null;
const BASE: Checker = (m) => (!isSeq(m.seq) ? "seq is not a positive integer" : !isJobId(m.job) ? "job is not a job id" : null);

/**
 * Checks of the job messages; the client registers them with the store (`jobMessages`). One per
 * message type 1.1 adds for servers: a type added to the schema fails the typecheck until checked.
 */
export const JOB_CHECKS: Record<(typeof ADDED_SERVER_TYPES)[number], Checker> = {
  "job.state": (m) =>
    BASE(m) ??
    (typeof m.name === "string" && m.name !== "" ? textProblem("name", m.name, JOB_NAME_MAX_LENGTH) : "name is not a non-empty string") ??
    (typeof m.state === "string" && STATES.has(m.state) ? null : "state is not a job state") ??
    (m.progress === undefined ? null : isObj(m.progress) ? prefixed("progress.", progressProblem(m.progress)) : "progress is not an object") ??
    (m.log === undefined || isUint(m.log) ? null : "log is not an integer") ??
    (m.attempt === undefined || (isUint(m.attempt) && m.attempt >= 1) ? null : "attempt is not a positive integer") ??
    (m.error === undefined ? null : errorProblem(m.error)),
  "job.progress": (m) => BASE(m) ?? progressProblem(m),
  "job.log": (m) =>
    BASE(m) ??
    (isUint(m.offset) ? null : "offset is not an integer") ??
    linesProblem(m.lines),
};

function linesProblem(lines: unknown): string | null {
  if (!(Array.isArray(lines) && lines.length > 0 && lines.every((l) => typeof l === "string"))) return "lines is not a list of strings";
  if (lines.length > JOB_LOG_LINES_MAX_ITEMS) return `lines has more than ${JOB_LOG_LINES_MAX_ITEMS} items`;
  return lines.every((l: string) => fits(l, JOB_LOG_LINE_MAX_LENGTH)) ? null : `a line is longer than ${JOB_LOG_LINE_MAX_LENGTH} characters`;
}

function errorProblem(e: unknown): string | null {
  if (!isObj(e) || typeof e.message !== "string") return "error has no message";
  return textProblem("error.message", e.message, JOB_ERROR_MESSAGE_MAX_LENGTH) ?? textProblem("error.type", e.type, JOB_ERROR_TYPE_MAX_LENGTH);
}

function fresh(id: string): JobView {
  return {
    id,
    name: "",
    state: "queued",
    attempt: 1,
    fraction: undefined,
    done: undefined,
    total: undefined,
    stage: undefined,
    message: undefined,
    eta: undefined,
    log: [],
    logCount: 0,
    cancelRequested: false,
    error: undefined,
  };
}

/** Progress fields of a message folded into a view: monotone fraction and done (PHL-JOB-021). */
function withProgress(job: JobView, p: Obj): JobView {
  const done = isUint(p.done) ? Math.max(p.done, job.done ?? 0) : job.done;
  const total = isUint(p.total) ? p.total : job.total;
  let fraction = typeof p.fraction === "number" ? p.fraction : undefined;
  if (fraction === undefined && done !== undefined && total) fraction = Math.min(1, done / total);
  return {
    ...job,
    fraction: fraction === undefined ? job.fraction : Math.max(fraction, job.fraction ?? 0),
    done,
    total,
    stage: typeof p.stage === "string" ? p.stage : job.stage,
    message: typeof p.message === "string" ? p.message : job.message,
    eta: typeof p.eta === "number" ? p.eta : job.eta,
  };
}

export class JobStore {
  /**
   * Runs the listeners of one change; the React binding makes it `flushSync`, so progress is
   * on screen within the message handler (as for tree patches).
   */
  batch: (notify: () => void) => void = (notify) => notify();
  private readonly jobs = new Map<string, JobView>();
  private readonly listeners = new Map<string, Set<() => void>>();

  get(id: string): JobView | undefined {
    return this.jobs.get(id);
  }

  /** Every job known, in the order first heard of. */
  all(): JobView[] {
    return [...this.jobs.values()];
  }

  /** Calls `listener` whenever job `id` changes; returns the unsubscribe. */
  subscribe(id: string, listener: () => void): () => void {
    let set = this.listeners.get(id);
    if (!set) this.listeners.set(id, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(id);
    };
  }

  /** Applies one validated job message (`job.state`, `job.progress`, `job.log`). */
  apply(msg: Obj): void {
    const id = msg.job as string;
    const known = this.jobs.get(id);
    const job = known ?? fresh(id);
    let next: JobView | null;
    if (msg.type === "job.state") next = this.state(job, msg, known === undefined);
    else if (TERMINAL.has(job.state)) next = null; // nothing after a terminal state counts (PHL-JOB-073)
    else if (msg.type === "job.progress") next = withProgress(job.state === "queued" ? { ...job, state: "running" } : job, msg);
    else if (msg.type === "job.log") next = this.log(job, msg.offset as number, msg.lines as string[]);
    else next = null;
    if (next === null) return;
    this.jobs.set(id, next);
    this.notify(id);
  }

  /** The user asked to cancel: the control goes away at once, before the server's answer. */
  requestCancel(id: string): void {
    const job = this.jobs.get(id);
    if (!job || job.cancelRequested || TERMINAL.has(job.state)) return;
    this.jobs.set(id, { ...job, cancelRequested: true });
    this.notify(id);
  }

  /** A new session: its sync re-sends every job it may see (PHL-JOB-041). */
  reset(): void {
    const ids = [...this.jobs.keys()];
    this.jobs.clear();
    for (const id of ids) this.notify(id);
  }

  private state(job: JobView, m: Obj, first: boolean): JobView | null {
    const attempt = isUint(m.attempt) ? m.attempt : 1;
    const retry = attempt > job.attempt;
    // After a terminal state only a sync's repeat of it or a new attempt counts.
    if (!first && TERMINAL.has(job.state) && !retry && m.state !== job.state) return null;
    const base: JobView = retry ? { ...fresh(job.id), log: job.log, logCount: job.logCount } : job;
    let next: JobView = {
      ...base,
      name: typeof m.name === "string" ? m.name : base.name,
      state: m.state as JobState,
      attempt,
      cancelRequested: m.cancel_requested === true || (base.cancelRequested && !TERMINAL.has(m.state as string)),
      error: isObj(m.error) ? { message: String(m.error.message), ...(typeof m.error.type === "string" ? { type: m.error.type } : {}) } : base.error,
    };
    if (isObj(m.progress)) next = withProgress(next, m.progress);
    if (TERMINAL.has(next.state)) next = { ...next, eta: undefined };
    return next;
  }

  private log(job: JobView, offset: number, lines: string[]): JobView | null {
    // Lines we hold already are skipped (a sync re-sends a tail); a gap means lines were
    // trimmed on the server: the new ones follow what we have.
    const skip = Math.max(0, job.logCount - offset);
    if (skip >= lines.length) return null;
    const added = lines.slice(skip);
    const log = [...job.log, ...added];
    return { ...job, log: log.length > LOG_KEEP ? log.slice(-LOG_KEEP) : log, logCount: offset + lines.length };
  }

  private notify(id: string): void {
    const set = this.listeners.get(id);
    if (set && set.size > 0) this.batch(() => set.forEach((listener) => listener()));
  }
}

/**
 * The jobs feature as message families for `PhloemClient.registerMessages`: each job message
 * is checked, then applied to `store`. The core knows nothing of jobs.
 */
export function jobMessages(store: JobStore): Record<string, { check: Checker; handle(msg: Obj): void }> {
  const handle = (msg: Obj): void => store.apply(msg);
  return Object.fromEntries(Object.entries(JOB_CHECKS).map(([type, check]) => [type, { check, handle }]));
}
