import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const pkg = resolve(__dirname, "..");
const script = join(pkg, "scripts/gen-wire-types.mjs");
const run = (...args: string[]) => spawnSync(process.execPath, [script, ...args], { cwd: pkg, encoding: "utf8" });

describe("generated wire types", () => {
  it("src/core/wire.gen.ts and wire-1.1.gen.ts match what the schemas generate", () => {
    const result = run("--check");
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain("wire-1.1.gen.ts is up to date");
    expect(result.status).toBe(0);
  });

  it.each([
    ["1.0", "wire.gen.ts", "ui.patch", "ui.patched"],
    ["1.1", "wire-1.1.gen.ts", '"interrupted"]', '"interrupted", "paused"]'],
  ])("the check fails on a stale %s file", (version, file, from, to) => {
    const stale = join(mkdtempSync(join(tmpdir(), "phloem-gen-")), file);
    const committed = readFileSync(join(pkg, "src/core", file), "utf8");
    expect(committed).toContain(from);
    writeFileSync(stale, committed.replace(from, to));
    const result = run("--check", "--version", version, "--out", stale);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("stale");
    writeFileSync(stale, committed); // the control: the same file unchanged passes
    expect(run("--check", "--version", version, "--out", stale).status).toBe(0);
  });
});
