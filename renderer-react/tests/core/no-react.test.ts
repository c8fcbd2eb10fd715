import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it, vi } from "vitest";

// Any import of React from the core now fails loudly.
vi.mock("react", () => {
  throw new Error("the core imported react");
});
vi.mock("react-dom", () => {
  throw new Error("the core imported react-dom");
});

const coreDir = resolve(__dirname, "../../src/core");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : /\.(ts|tsx)$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

describe("core is React-free", () => {
  it("no core file imports react or anything outside the core", () => {
    const files = sourceFiles(coreDir);
    expect(files.length).toBeGreaterThan(5);
    const specifier =
      /(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|import\s*\(?\s*["']([^"']+)["']|require\(\s*["']([^"']+)["']\s*\)/g;
    const offenders: string[] = [];
    for (const file of files) {
      if (file.endsWith(".tsx")) offenders.push(`${file}: JSX file`);
      for (const m of readFileSync(file, "utf8").matchAll(specifier)) {
        const spec = m[1] ?? m[2] ?? m[3] ?? "";
        if (!spec.startsWith("./")) offenders.push(`${file}: ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it("the mocked react throws when imported", async () => {
    await expect(import("react")).rejects.toThrow();
  });

  it("the core entry loads while react cannot be imported", async () => {
    const core = await import("../../src/core");
    expect(typeof core.PhloemClient).toBe("function");
    expect(typeof core.Store).toBe("function");
  });
});
