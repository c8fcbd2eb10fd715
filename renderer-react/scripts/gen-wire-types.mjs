// Generates the wire types from ../schemas (the one wire contract): src/core/wire.gen.ts from
// schemas/1.0, and src/core/wire-1.1.gen.ts from what schemas/1.1 adds. 1.0's file is built
// from 1.0 alone, as released; 1.1's refers to it for every 1.0 type (`import type * as Wire10`)
// and carries the constants the client uses by name (job states, job id, message types, ...).
// `--check` regenerates in memory and fails when a committed file differs (CI guard);
// `--version V --out FILE` writes or checks one version's file elsewhere (the tests use it).
import { readFile, readdir, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { compile } from "json-schema-to-typescript";

const here = dirname(fileURLToPath(import.meta.url));
const pkgRoot = resolve(here, "..");
const schemasDir = resolve(pkgRoot, "../schemas");
const TARGETS = { "1.0": resolve(pkgRoot, "src/core/wire.gen.ts"), "1.1": resolve(pkgRoot, "src/core/wire-1.1.gen.ts") };
const ROOT_TITLE = "PhloemWireIndex";

async function listSchemas(dir) {
  const out = [];
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listSchemas(full)));
    else if (entry.name.endsWith(".schema.json")) out.push(full);
  }
  return out;
}

// A `$ref` with annotation siblings (e.g. a field-specific `description`) would otherwise be
// emitted as a second, numbered copy of the referenced type (NodeId1, Node1, ...): keep the
// `$ref` alone so each schema file maps to exactly one TypeScript name.
// A schema with no constraint at all (e.g. event.value) accepts any JSON: type it `unknown`.
const ANNOTATION_KEYS = new Set(["description", "$comment", "examples", "default", "deprecated", "readOnly", "writeOnly"]);
function normalise(node) {
  if (Array.isArray(node)) return node.map(normalise);
  if (node === null || typeof node !== "object") return node;
  if (typeof node.$ref === "string") return { $ref: node.$ref };
  const out = {};
  for (const [key, value] of Object.entries(node)) {
    out[key] = key === "properties" || key === "$defs" ? mapValues(value, normalise) : normalise(value);
  }
  return out;
}
function mapValues(obj, fn) {
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, fn(v)]));
}
function markUnconstrained(node, isSchema = true) {
  if (Array.isArray(node)) return node.map((n) => markUnconstrained(n, isSchema));
  if (node === null || typeof node !== "object") return node;
  if (isSchema && Object.keys(node).every((k) => ANNOTATION_KEYS.has(k))) {
    return { ...node, tsType: "unknown" };
  }
  const out = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "properties" || key === "$defs") out[key] = mapValues(value, (v) => markUnconstrained(v));
    else if (key === "items" || key === "additionalProperties" || key === "oneOf" || key === "anyOf" || key === "allOf")
      out[key] = typeof value === "object" ? markUnconstrained(value) : value;
    else out[key] = value;
  }
  return out;
}

function toPath(u) {
  return u.startsWith("file:") ? fileURLToPath(u) : decodeURIComponent(u);
}

// A later version's schema refers to an earlier version's file (`../../1.0/...`): in its
// TypeScript that is the earlier module's type of the same title, imported, not a copy.
function earlierRefs(node, file, titles) {
  if (Array.isArray(node)) return node.map((n) => earlierRefs(n, file, titles));
  if (node === null || typeof node !== "object") return node;
  if (typeof node.$ref === "string" && node.$ref.startsWith("../../")) {
    const target = resolve(dirname(file), node.$ref);
    return { tsType: `Wire10.${titles.get(target)}` };
  }
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, earlierRefs(v, file, titles)]));
}

async function titlesOf(dir) {
  const titles = new Map();
  for (const file of await listSchemas(dir)) titles.set(file, JSON.parse(await readFile(file, "utf8")).title);
  return titles;
}

export async function generate(version = "1.0") {
  const schemaRoot = resolve(schemasDir, version);
  const files = await listSchemas(schemaRoot);
  const earlier = version === "1.0" ? new Map() : await titlesOf(resolve(schemasDir, "1.0"));
  const byPath = new Map();
  for (const file of files) {
    const schema = earlierRefs(JSON.parse(await readFile(file, "utf8")), file, earlier);
    byPath.set(file, JSON.stringify(markUnconstrained(normalise(schema))));
  }
  const resolver = {
    order: 1,
    canRead: (f) => byPath.has(toPath(f.url)),
    read: (f) => byPath.get(toPath(f.url)),
  };
  // One synthetic root that references every schema file, so each named type is declared
  // exactly once; the root interface itself is dropped from the output.
  const properties = {};
  for (const file of files) {
    const rel = relative(schemaRoot, file).split("\\").join("/");
    properties[rel] = { $ref: `./${rel}` };
  }
  const root = { title: ROOT_TITLE, type: "object", properties, additionalProperties: false };
  const banner =
    `/* This file is generated by \`npm run gen\` from schemas/${version} (json-schema-to-typescript).\n` +
    " * Do not edit by hand: change the schema and regenerate; `npm run gen:check` guards it. */" +
    (version === "1.0" ? "" : '\n\nimport type * as Wire10 from "./wire.gen";');
  const ts = await compile(root, ROOT_TITLE, {
    cwd: schemaRoot,
    bannerComment: banner,
    declareExternallyReferenced: true,
    enableConstEnums: false,
    unknownAny: true,
    additionalProperties: true,
    maxItems: -1,
    $refOptions: { resolve: { phloem: resolver } },
    style: { bracketSpacing: true, printWidth: 100, semi: true, singleQuote: false, tabWidth: 2, trailingComma: "all", useTabs: false },
  });
  const types = stripRoot(ts);
  return version === "1.0" ? types : types + (await constants(version, files));
}

// ---- constants: what the client uses by name, from the schemas' enums, consts and x-phloem ----

const readJson = async (file) => JSON.parse(await readFile(file, "utf8"));
const list = (values) => `[${values.map((v) => JSON.stringify(v)).join(", ")}]`;
const hasEarlierRef = (node) =>
  Array.isArray(node)
    ? node.some(hasEarlierRef)
    : node !== null && typeof node === "object" &&
      Object.entries(node).some(([k, v]) => (k === "$ref" ? String(v).startsWith("../../") : hasEarlierRef(v)));

/** `^[..]+$` with length bounds as one pattern, `^[..]{low,high}$`; another shape fails loudly. */
function bounded(pattern, low, high) {
  const m = /^\^(\[[^\]]+\])\+\$$/.exec(pattern);
  if (!m) throw new Error(`pattern ${pattern} has not the shape the generator bounds`);
  return `/^${m[1]}{${low},${high}}$/`;
}

async function constants(version, files) {
  const earlierTypes = new Set();
  for (const file of await listSchemas(resolve(schemasDir, "1.0", "messages"))) {
    const type = (await readJson(file)).properties?.type?.const;
    if (typeof type === "string") earlierTypes.add(type);
  }
  const out = ["", "// ---- what this version adds to 1.0's unions, and the constants code uses by name ----", ""];
  const names = { ClientMessage: "ADDED_CLIENT_TYPES", ServerMessage: "ADDED_SERVER_TYPES", ErrorCode: "ADDED_ERROR_CODES" };
  for (const file of files) {
    const schema = await readJson(file);
    if (!hasEarlierRef(schema)) continue;
    const values = [];
    for (const member of [...(schema.oneOf ?? []), ...(schema.anyOf ?? [])]) {
      if ("const" in member) values.push(member.const);
      else if (!member.$ref.startsWith("../../")) {
        const type = (await readJson(resolve(dirname(file), member.$ref))).properties.type.const;
        if (!earlierTypes.has(type) && !values.includes(type)) values.push(type);
      }
    }
    const rule = schema.title === "ErrorCode" ? "PHL-ERR-001" : "PHL-MSG-001";
    out.push(`/** What ${basename(file)} adds to 1.0's (${rule}). */`);
    out.push(`export const ${names[schema.title]} = ${list(values)} as const;`);
  }
  if (version !== "1.1") return out.join("\n") + "\n";
  const defs = resolve(schemasDir, version, "defs");
  const states = await readJson(join(defs, "job-state.schema.json"));
  const terminal = states["x-phloem"].terminal;
  if (!terminal.every((s) => states.enum.includes(s))) throw new Error("x-phloem.terminal names a state the enum lacks");
  const jobId = await readJson(join(defs, "job-id.schema.json"));
  const limits = await readJson(join(defs, "job-limits.schema.json"));
  const props = await readJson(resolve(schemasDir, version, "components", "JobProgress.schema.json"));
  const fields = (await readJson(join(defs, "job-progress.schema.json"))).properties;
  const stateMsg = (await readJson(resolve(schemasDir, version, "messages", "job.state.schema.json"))).properties;
  const logMsg = (await readJson(resolve(schemasDir, version, "messages", "job.log.schema.json"))).properties;
  // The bounds a client checks job messages against, named as the Python generator names them
  // (tools/gen_python_types.py), each from the one schema keyword that states it.
  if (fields.stage.maxLength !== fields.message.maxLength) throw new Error("job-progress: stage and message must share one maxLength");
  const bounds = [
    ["JOB_TEXT_MAX_LENGTH", fields.stage.maxLength, "Longest stage and message of a job's progress (job-progress.schema.json, PHL-JOB-024)."],
    ["JOB_NAME_MAX_LENGTH", stateMsg.name.maxLength, "Longest job name (job.state.schema.json)."],
    ["JOB_ERROR_MESSAGE_MAX_LENGTH", stateMsg.error.properties.message.maxLength, "Longest failure message (job.state.schema.json error)."],
    ["JOB_ERROR_TYPE_MAX_LENGTH", stateMsg.error.properties.type.maxLength, "Longest exception type name (job.state.schema.json error)."],
    ["JOB_LOG_LINE_MAX_LENGTH", logMsg.lines.items.maxLength, "Longest log line (job.log.schema.json)."],
    ["JOB_LOG_LINES_MAX_ITEMS", logMsg.lines.maxItems, "Most lines in one job.log (job.log.schema.json)."],
  ];
  for (const [name, value] of bounds) {
    if (!Number.isInteger(value)) throw new Error(`schemas/${version}: the schema keyword behind ${name} is missing`);
  }
  out.push(
    "",
    "/** A job's states, in lifecycle order (job-state.schema.json, PHL-JOB-010). */",
    `export const JOB_STATES: readonly JobState[] = ${list(states.enum)};`,
    "/** The states a job ends in (job-state.schema.json x-phloem, PHL-JOB-012). */",
    `export const TERMINAL_JOB_STATES: ReadonlySet<string> = new Set<JobState>(${list(terminal)});`,
    "/** A job id (job-id.schema.json, PHL-JOB-050). */",
    `export const JOB_ID = ${bounded(jobId.pattern, jobId.minLength, jobId.maxLength)};`,
    "/** What welcome.limits gains with the jobs feature (job-limits.schema.json). */",
    `export const JOB_LIMITS = ${list(Object.keys(limits.properties))} as const;`,
    "/** The most log lines a JobProgress shows (JobProgress.schema.json, props.log maximum). */",
    `export const JOB_PROGRESS_LOG_MAX = ${props.properties.log.maximum};`,
    "// Bounds in characters as JSON Schema counts them (code points, not UTF-16 units).",
    ...bounds.flatMap(([name, value, doc]) => [`/** ${doc} */`, `export const ${name} = ${value};`]),
  );
  return out.join("\n") + "\n";
}

function stripRoot(ts) {
  const start = ts.indexOf(`export interface ${ROOT_TITLE} {`);
  if (start < 0) return ts;
  const end = ts.indexOf("\n}\n", start);
  return (ts.slice(0, start) + ts.slice(end + 3)).replace(/\n{3,}/g, "\n\n");
}

async function main() {
  const check = process.argv.includes("--check");
  const arg = (name) => {
    const at = process.argv.indexOf(name);
    return at > 0 ? process.argv[at + 1] : undefined;
  };
  const only = arg("--version") ?? (arg("--out") ? "1.0" : undefined);
  if (only !== undefined && !(only in TARGETS)) {
    console.error(`--version ${only}: one of ${Object.keys(TARGETS).join(", ")}`);
    process.exit(2);
  }
  const targets = only ? { [only]: resolve(arg("--out") ?? TARGETS[only]) } : TARGETS;
  let stale = 0;
  for (const [version, outFile] of Object.entries(targets)) {
    const fresh = await generate(version);
    if (!check) {
      await writeFile(outFile, fresh);
      console.log(`wrote ${relative(pkgRoot, outFile)}`);
      continue;
    }
    let current = "";
    try {
      current = await readFile(outFile, "utf8");
    } catch {
      /* missing file counts as stale */
    }
    if (current !== fresh) {
      console.error(`${relative(pkgRoot, outFile)} is stale: run \`npm run gen\` and commit the result.`);
      stale += 1;
    } else console.log(`${relative(pkgRoot, outFile)} is up to date.`);
  }
  if (stale) process.exit(1);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
