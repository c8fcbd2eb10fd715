// The message schemas declare JSON Schema 2020-12; AsyncAPI 3.0 payloads are draft-07. The two
// agree on every keyword Phloem's schemas use, but a 2020-12-only keyword would be silently
// ignored by a draft-07 validator, so a schema that uses one, or that puts a constraint beside
// a `$ref` (2020-12 applies it, draft-07 ignores it), is refused here rather than mis-described.

import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import yaml from "js-yaml";

const ONLY_2020_12 = new Set([
  "$defs",
  "$anchor",
  "$dynamicRef",
  "$dynamicAnchor",
  "$recursiveRef",
  "$recursiveAnchor",
  "$vocabulary",
  "prefixItems",
  "unevaluatedItems",
  "unevaluatedProperties",
  "dependentRequired",
  "dependentSchemas",
  "minContains",
  "maxContains",
  "contentSchema",
]);
// Beside a `$ref`, draft-07 ignores every keyword; these only annotate, so nothing is lost.
const ANNOTATIONS = new Set(["$ref", "$comment", "description", "title", "examples", "deprecated"]);
const SUBSCHEMA = ["not", "if", "then", "else", "items", "additionalItems", "additionalProperties", "contains", "propertyNames"];
const SUBSCHEMA_LISTS = ["allOf", "anyOf", "oneOf", "items"];
const SUBSCHEMA_MAPS = ["properties", "patternProperties", "definitions"];

function problemsIn(schema, where, found) {
  if (schema === null || typeof schema !== "object" || Array.isArray(schema)) return;
  for (const key of Object.keys(schema)) {
    if (ONLY_2020_12.has(key)) found.push(`${where}: "${key}" is JSON Schema 2020-12 only`);
  }
  if ("$ref" in schema) {
    const extra = Object.keys(schema).filter((k) => !ANNOTATIONS.has(k) && !k.startsWith("x-"));
    if (extra.length) found.push(`${where}: ${extra.join(", ")} beside $ref is ignored by draft-07`);
  }
  for (const key of SUBSCHEMA) problemsIn(schema[key], `${where}/${key}`, found);
  for (const key of SUBSCHEMA_LISTS) {
    if (Array.isArray(schema[key])) schema[key].forEach((s, i) => problemsIn(s, `${where}/${key}/${i}`, found));
  }
  for (const key of SUBSCHEMA_MAPS) {
    for (const [name, s] of Object.entries(schema[key] ?? {})) problemsIn(s, `${where}/${key}/${name}`, found);
  }
}

function externalRefs(node, out = []) {
  if (Array.isArray(node)) node.forEach((n) => externalRefs(n, out));
  else if (node !== null && typeof node === "object") {
    for (const [key, value] of Object.entries(node)) {
      if (key === "$ref" && typeof value === "string" && !value.startsWith("#")) out.push(value);
      else externalRefs(value, out);
    }
  }
  return out;
}

const isDocument = (file) => /\.ya?ml$/.test(file);

/** The node a JSON pointer (`/a/b`, RFC 6901) names in `doc`. */
function at(doc, pointer) {
  let node = doc;
  for (const raw of pointer.split("/").slice(1)) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (node === null || typeof node !== "object" || !(key in node)) throw new Error(`no ${pointer}`);
    node = node[key];
  }
  return node;
}

/**
 * Every JSON Schema file the document references, directly, through other schemas, or through
 * a part of another AsyncAPI document it `$ref`s (1.1's reuses 1.0's messages).
 */
export function referencedSchemas(docPath) {
  const doc = yaml.load(readFileSync(docPath, "utf8"));
  const seen = new Map();
  const visited = new Set();
  const queue = externalRefs(doc).map((ref) => [dirname(docPath), ref]);
  while (queue.length) {
    const [base, ref] = queue.shift();
    const [path, pointer = ""] = ref.split("#");
    const file = resolve(base, path);
    if (visited.has(`${file}#${pointer}`)) continue;
    visited.add(`${file}#${pointer}`);
    const text = readFileSync(file, "utf8");
    if (isDocument(file)) {
      // Another AsyncAPI document: only the part referenced, and only for the schemas it names.
      for (const inner of externalRefs(at(yaml.load(text), pointer))) queue.push([dirname(file), inner]);
      continue;
    }
    if (seen.has(file)) continue;
    const schema = JSON.parse(text);
    seen.set(file, schema);
    for (const inner of externalRefs(schema)) queue.push([dirname(file), inner]);
  }
  return seen;
}

/** Why the referenced schemas would not mean the same under draft-07 (empty when they do). */
export function draft07Problems(docPath) {
  const found = [];
  for (const [file, schema] of referencedSchemas(docPath)) problemsIn(schema, file, found);
  return found;
}
