import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { JobStore, LOG_KEEP, jobMessages, parseServerFrame } from "../../src/core";
import {
  JOB_ERROR_MESSAGE_MAX_LENGTH,
  JOB_ERROR_TYPE_MAX_LENGTH,
  JOB_LOG_LINE_MAX_LENGTH,
  JOB_LOG_LINES_MAX_ITEMS,
  JOB_NAME_MAX_LENGTH,
  JOB_TEXT_MAX_LENGTH,
} from "../../src/core/wire-1.1.gen";

// The job store (PHL-JOB-070, PHL-JOB-073) and the checks of job messages.

const state = (job: string, s: string, extra: Record<string, unknown> = {}) => ({ type: "job.state", seq: 1, job, name: "fit", state: s, ...extra });
const progress = (job: string, extra: Record<string, unknown>) => ({ type: "job.progress", seq: 1, job, ...extra });
const log = (job: string, offset: number, lines: string[]) => ({ type: "job.log", seq: 1, job, offset, lines });

describe("JobStore", () => {
  it("follows a job from queued through progress to its terminal state", () => {
    const store = new JobStore();
    store.apply(state("j1", "queued"));
    expect(store.get("j1")).toMatchObject({ state: "queued", name: "fit", fraction: undefined });
    store.apply(state("j1", "running"));
    store.apply(progress("j1", { fraction: 0.4, stage: "k = 3", eta: 12 }));
    expect(store.get("j1")).toMatchObject({ state: "running", fraction: 0.4, stage: "k = 3", eta: 12 });
    store.apply(state("j1", "succeeded", { progress: { fraction: 1 } }));
    expect(store.get("j1")).toMatchObject({ state: "succeeded", fraction: 1, eta: undefined });
  });

  it("never moves progress back, and turns done of total into a fraction", () => {
    const store = new JobStore();
    store.apply(progress("j1", { fraction: 0.6 }));
    store.apply(progress("j1", { fraction: 0.2, stage: "again" }));
    expect(store.get("j1")).toMatchObject({ fraction: 0.6, stage: "again", state: "running" });
    store.apply(progress("j2", { done: 3, total: 4 }));
    expect(store.get("j2")?.fraction).toBe(0.75);
  });

  it("ignores job messages after a terminal state, but takes a sync's repeat and a new attempt", () => {
    const store = new JobStore();
    store.apply(state("j1", "cancelled"));
    store.apply(progress("j1", { fraction: 0.9 }));
    store.apply(log("j1", 0, ["late"]));
    store.apply(state("j1", "running"));
    expect(store.get("j1")).toMatchObject({ state: "cancelled", fraction: undefined, log: [] });
    store.apply(state("j1", "queued", { attempt: 2 }));
    expect(store.get("j1")).toMatchObject({ state: "queued", attempt: 2 });
  });

  it("applies log lines by offset so that a re-sent tail shows no line twice", () => {
    const store = new JobStore();
    store.apply(log("j1", 0, ["a", "b"]));
    store.apply(log("j1", 1, ["b", "c"]));
    store.apply(log("j1", 0, ["a"]));
    expect(store.get("j1")).toMatchObject({ log: ["a", "b", "c"], logCount: 3 });
    store.apply(log("j1", 10, ["k"])); // lines 3..9 were trimmed on the server
    expect(store.get("j1")).toMatchObject({ log: ["a", "b", "c", "k"], logCount: 11 });
  });

  it("keeps the newest LOG_KEEP lines", () => {
    const store = new JobStore();
    const lines = Array.from({ length: LOG_KEEP + 5 }, (_, i) => `l${i}`);
    store.apply(log("j1", 0, lines));
    const kept = store.get("j1")?.log ?? [];
    expect(kept.length).toBe(LOG_KEEP);
    expect(kept[0]).toBe("l5");
  });

  it("tells only the subscribers of the job that changed, and hides a cancel at once", () => {
    const store = new JobStore();
    const seen: string[] = [];
    const stop = store.subscribe("j1", () => seen.push("j1"));
    store.subscribe("j2", () => seen.push("j2"));
    store.apply(state("j1", "running"));
    store.requestCancel("j1");
    expect(store.get("j1")?.cancelRequested).toBe(true);
    stop();
    store.apply(state("j1", "cancelled"));
    expect(seen).toEqual(["j1", "j1"]);
    expect(store.get("j1")?.cancelRequested).toBe(false);
  });

  it("forgets every job on reset (a new session syncs them again)", () => {
    const store = new JobStore();
    store.apply(state("j1", "running"));
    store.reset();
    expect(store.get("j1")).toBeUndefined();
  });
});

// The checks the client registers for the jobs feature (PhloemClient.registerMessages).
const FAMILIES = new Map(Object.entries(jobMessages(new JobStore())).map(([t, f]) => [t, f.check]));

describe("job message checks", () => {
  it("accepts valid job messages and rejects malformed ones with invalid_message", () => {
    expect(parseServerFrame(JSON.stringify(state("j1", "running", { progress: { fraction: 0.5 } })), FAMILIES).ok).toBe(true);
    expect(parseServerFrame(JSON.stringify(log("j1", 0, ["x"])), FAMILIES).ok).toBe(true);
    for (const bad of [
      state("j1", "paused"),
      progress("j1", { fraction: 1.5 }),
      progress("a b", { fraction: 0.5 }),
      log("j1", -1, ["x"]),
      log("j1", 0, []),
      { ...state("j1", "failed"), error: { type: "E" } },
    ]) {
      const parsed = parseServerFrame(JSON.stringify(bad), FAMILIES);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.code).toBe("invalid_message");
    }
  });
});

describe("job message bounds", () => {
  // Each bound of schemas/1.1 (the generated constants): a field at the bound is accepted, one
  // character more is invalid_message naming the field (PHL-JOB-024, PHL-ERR-001).
  const text = (n: number) => "x".repeat(n);
  const lines = (n: number) => Array.from({ length: n }, (_, i) => `l${i}`);
  const BOUNDS: Array<[string, number, (n: number) => Record<string, unknown>, string]> = [
    ["progress stage", JOB_TEXT_MAX_LENGTH, (n) => progress("j1", { stage: text(n) }), "stage is longer than 200"],
    ["progress message", JOB_TEXT_MAX_LENGTH, (n) => progress("j1", { message: text(n) }), "message is longer than 200"],
    ["state progress stage", JOB_TEXT_MAX_LENGTH, (n) => state("j1", "running", { progress: { stage: text(n) } }), "progress.stage is longer"],
    ["state progress message", JOB_TEXT_MAX_LENGTH, (n) => state("j1", "running", { progress: { message: text(n) } }), "progress.message is longer"],
    ["state name", JOB_NAME_MAX_LENGTH, (n) => state("j1", "running", { name: text(n) }), "name is longer than 128"],
    ["error message", JOB_ERROR_MESSAGE_MAX_LENGTH, (n) => state("j1", "failed", { error: { message: text(n) } }), "error.message is longer than 1024"],
    ["error type", JOB_ERROR_TYPE_MAX_LENGTH, (n) => state("j1", "failed", { error: { message: "m", type: text(n) } }), "error.type is longer than 128"],
    ["log line", JOB_LOG_LINE_MAX_LENGTH, (n) => log("j1", 0, ["a", text(n)]), "a line is longer than 1000"],
    ["log lines", JOB_LOG_LINES_MAX_ITEMS, (n) => log("j1", 0, lines(n)), "lines has more than 1000 items"],
  ];
  it.each(BOUNDS)("%s: %d accepted, one more is invalid_message", (_, max, make, problem) => {
    expect(parseServerFrame(JSON.stringify(make(max)), FAMILIES).ok).toBe(true);
    const parsed = parseServerFrame(JSON.stringify(make(max + 1)), FAMILIES);
    expect(parsed).toMatchObject({ ok: false, code: "invalid_message", seq: 1 });
    if (!parsed.ok) expect(parsed.message).toContain(problem);
  });

  it("counts characters as JSON Schema does: a surrogate pair is one", () => {
    const sprout = "\u{1F331}"; // two UTF-16 units, one code point
    expect(parseServerFrame(JSON.stringify(progress("j1", { stage: sprout.repeat(JOB_TEXT_MAX_LENGTH) })), FAMILIES).ok).toBe(true);
    expect(parseServerFrame(JSON.stringify(progress("j1", { stage: sprout.repeat(JOB_TEXT_MAX_LENGTH + 1) })), FAMILIES).ok).toBe(false);
    // Mixed: 199 pairs and two plain characters are 201 characters in 400 units.
    expect(parseServerFrame(JSON.stringify(progress("j1", { stage: sprout.repeat(199) + "ab" })), FAMILIES).ok).toBe(false);
    // A lone surrogate counts as one character, as its code point does.
    expect(parseServerFrame(JSON.stringify(progress("j1", { stage: "\ud800".repeat(JOB_TEXT_MAX_LENGTH) })), FAMILIES).ok).toBe(true);
  });

  it("rejects an empty name and a non-string error type", () => {
    expect(parseServerFrame(JSON.stringify(state("j1", "running", { name: "" })), FAMILIES).ok).toBe(false);
    expect(parseServerFrame(JSON.stringify(state("j1", "failed", { error: { message: "m", type: 7 } })), FAMILIES).ok).toBe(false);
  });
});

describe("job message checks agree with schemas/1.1", () => {
  // The hand checks (JOB_CHECKS, with the core's for 1.0 types) and the schema are two
  // statements of one fact: every server → client example the schema accepts is accepted,
  // every one it rejects is rejected. Every folder of such examples is read, so a new example
  // is checked here as soon as it is written.
  const examples = resolve(__dirname, "../../../schemas/1.1/examples");
  const SERVER_TO_CLIENT = ["job.state", "job.progress", "job.log", "job-error", "server-message"];
  const cases = SERVER_TO_CLIENT.flatMap((folder) => readdirSync(join(examples, folder)).map((file) => [folder, file] as const));
  it("reads every folder of server → client examples", () => {
    expect(cases.length).toBeGreaterThanOrEqual(16);
    expect(cases.filter(([, file]) => file.startsWith("invalid-")).length).toBeGreaterThanOrEqual(7);
  });
  // Where the client is lenient on purpose, by a rule of its own: the example is accepted.
  const LENIENT: Record<string, string> = {
    // A server must not send unknown_job as fatal; a client acts on `fatal` whatever the code.
    "job-error/invalid-fatal.json": "PHL-ERR-005",
  };
  it.each(cases)("%s example %s", (folder, file) => {
    const example = JSON.parse(readFileSync(join(examples, folder, file), "utf8")) as Record<string, unknown>;
    const parsed = parseServerFrame(JSON.stringify(example), FAMILIES);
    expect(parsed.ok).toBe(file.startsWith("valid-") || `${folder}/${file}` in LENIENT);
    if (!parsed.ok) expect(["invalid_message", "unknown_message_type"]).toContain(parsed.code);
  });
});
