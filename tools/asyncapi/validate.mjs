// Usage: node validate.mjs PATH/TO/asyncapi.yaml
// Exits 0 when @asyncapi/parser accepts the document with no error or warning and every JSON
// Schema it references means the same under draft-07 (drafts.mjs); prints what is wrong and
// exits 1 otherwise, 2 on a usage error.

import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { DiagnosticSeverity, Parser, fromFile } from "@asyncapi/parser";
import { draft07Problems } from "./drafts.mjs";

const [file, ...rest] = process.argv.slice(2);
if (!file || rest.length || !existsSync(file)) {
  console.error("usage: node validate.mjs PATH/TO/asyncapi.yaml");
  process.exit(2);
}
const path = resolve(file);
const problems = [];

try {
  problems.push(...draft07Problems(path));
} catch (error) {
  problems.push(`cannot read a referenced schema: ${error.message}`);
}

// Informational diagnostics (e.g. "a newer AsyncAPI version exists") do not fail the check.
const failing = new Set([DiagnosticSeverity.Error, DiagnosticSeverity.Warning]);
const { document, diagnostics } = await fromFile(new Parser(), path).parse();
for (const d of diagnostics) {
  if (failing.has(d.severity)) {
    const kind = d.severity === DiagnosticSeverity.Error ? "error" : "warning";
    problems.push(`${kind} ${d.code} at /${d.path.join("/")}: ${d.message}`);
  }
}
if (!document && !problems.length) problems.push("the parser returned no document");

if (problems.length) {
  console.error(`${file}: invalid AsyncAPI document`);
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
const doc = document;
console.log(
  `${file}: valid AsyncAPI ${doc.version()} document: ${doc.channels().length} channel(s), ` +
    `${doc.operations().length} operations, ${doc.messages().length} messages`,
);
