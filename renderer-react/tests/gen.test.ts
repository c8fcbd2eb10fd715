import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const pkg = resolve(__dirname, "..");
const script = join(pkg, "scripts/gen-wire-types.mjs");
const run = (...args: string[]) => spawnSync(process.execPath, [script, ...args], { cwd: pkg, encoding: "utf8" });

describe("generated wire types", () => {
  it("src/core/wire.gen.ts matches what the schemas generate", () => {
    const result = run("--check");
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  it("the check fails on a stale file", () => {
    const stale = join(mkdtempSync(join(tmpdir(), "phloem-gen-")), "wire.gen.ts");
    writeFileSync(stale, readFileSync(join(pkg, "src/core/wire.gen.ts"), "utf8").replace("ui.patch", "ui.patched"));
    const result = run("--check", "--out", stale);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("stale");
  });
});
