import { describe, expect, it } from "vitest";
import { parseServerFrame } from "../../src/core";
import { counterTree } from "../helpers/fakeSocket";

const parse = (v: unknown) => parseServerFrame(typeof v === "string" ? v : JSON.stringify(v));
const code = (v: unknown) => {
  const r = parse(v);
  return r.ok ? "ok" : r.code;
};

describe("parseServerFrame", () => {
  it("accepts every well-formed server message type", () => {
    const msgs = [
      { type: "welcome", seq: 1, version: "1.0", session: "s", token: "t".repeat(16), limits: {} },
      { type: "ui.snapshot", seq: 2, rev: 1, root: counterTree() },
      { type: "ui.patch", seq: 3, base: 1, rev: 2, event: 1, ops: [{ id: "count", set: { text: "1" } }] },
      { type: "ack", seq: 4, event: 2 },
      { type: "error", seq: 5, code: "unknown_node", message: "no", event: 3 },
      { type: "error", code: "version_unsupported", message: "no", supported: ["2.0"], fatal: true },
      { type: "ping", seq: 6, id: 7 },
      { type: "pong", id: "x" },
    ];
    for (const m of msgs) expect(code(m)).toBe("ok");
  });

  it("unknown fields are ignored, not an error", () => {
    expect(code({ type: "ack", seq: 4, event: 2, future: { x: 1 } })).toBe("ok");
  });

  it("non-JSON, non-object and binary frames are malformed_frame", () => {
    expect(code("{nope")).toBe("malformed_frame");
    expect(code("[1,2]")).toBe("malformed_frame");
    expect(code("null")).toBe("malformed_frame");
    expect(parseServerFrame(new ArrayBuffer(2))).toMatchObject({ ok: false, code: "malformed_frame" });
  });

  it("an unknown type is unknown_message_type and keeps its seq", () => {
    expect(parse({ type: "data.window", seq: 9 })).toMatchObject({ ok: false, code: "unknown_message_type", seq: 9 });
  });

  it.each([
    ["type missing", { seq: 1 }],
    ["patch without ops", { type: "ui.patch", seq: 3, base: 1, rev: 2, ops: [] }],
    ["op with two operations", { type: "ui.patch", seq: 3, base: 1, rev: 2, ops: [{ id: "a", set: { x: 1 }, remove: true }] }],
    ["op with no operation", { type: "ui.patch", seq: 3, base: 1, rev: 2, ops: [{ id: "a" }] }],
    ["remove not true", { type: "ui.patch", seq: 3, base: 1, rev: 2, ops: [{ id: "a", remove: 1 }] }],
    ["move without index", { type: "ui.patch", seq: 3, base: 1, rev: 2, ops: [{ id: "a", move: "b" }] }],
    ["insert of a bad node", { type: "ui.patch", seq: 3, base: 1, rev: 2, ops: [{ id: "a", insert: { id: "" }, index: 0 }] }],
    ["empty set", { type: "ui.patch", seq: 3, base: 1, rev: 2, ops: [{ id: "a", set: {} }] }],
    ["snapshot with lowercase type", { type: "ui.snapshot", seq: 2, rev: 1, root: { id: "r", type: "column" } }],
    ["snapshot with non-array children", { type: "ui.snapshot", seq: 2, rev: 1, root: { id: "r", type: "Column", children: {} } }],
    ["sequenced message without seq", { type: "ack", event: 1 }],
    ["welcome without token", { type: "welcome", seq: 1, version: "1.0", session: "s", limits: {} }],
    ["error without code", { type: "error", message: "x" }],
  ])("%s is invalid_message", (_name, msg) => {
    expect(code(msg)).toBe("invalid_message");
  });
});
