import type { ErrorObject, ValidateFunction } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";
import AjvDraft04Module from "ajv-draft-04";
import addFormatsModule from "ajv-formats";
import { clip, type Diagnostic } from "./diagnostics.js";
import { linearRegExpEngine, UnsupportedPatternError } from "./linear-pattern.js";
import type { DocumentSet, Location } from "./documents.js";
import { isObject, type Operation } from "./model.js";
import { getAtPointer, joinPointer, parsePointer } from "./pointer.js";

const AjvDraft04 = AjvDraft04Module as unknown as typeof import("ajv-draft-04").default;
const addFormats = addFormatsModule as unknown as typeof import("ajv-formats").default;

type OpenApiVersion = "3.0" | "3.1";
type AnyAjv = InstanceType<typeof Ajv2020> | InstanceType<typeof AjvDraft04>;

/** The base URI under which a snapshot's files are registered for $ref resolution; never fetched. */
const BASE = "https://documents.gitway.invalid/";

/**
 * Request validators of one snapshot: an Ajv per JSON Schema dialect (3.0 is draft-04, 3.1 is
 * 2020-12) holding every parsed file, so $refs within and across files resolve without any fetch.
 * Validation compiles each validator the gateway will compile, so a schema Ajv cannot compile is a
 * diagnostic and never a 500 at run time.
 */
export class SchemaCompiler {
  private readonly instances = new Map<OpenApiVersion, AnyAjv>();

  constructor(private readonly docs: DocumentSet) {}

  compile(file: string, pointer: string, version: OpenApiVersion): ValidateFunction {
    let ajv = this.instances.get(version);
    if (!ajv) {
      // Patterns run on RE2: a schema under review must not be able to stall the gateway or the app with a backtracking pattern.
      const options = { allErrors: true, strict: false, logger: false, validateSchema: false, coerceTypes: false, code: { regExp: linearRegExpEngine } } as const;
      ajv = version === "3.0" ? new AjvDraft04(options) : new Ajv2020(options);
      addFormats(ajv);
      for (const path of this.docs.snapshot.keys()) {
        const f = this.docs.get(path);
        if (f && isObject(f.value)) ajv.addSchema(f.value as object, BASE + path);
      }
      this.instances.set(version, ajv);
    }
    return ajv.compile({ $ref: `${BASE}${file}#${pointer}` });
  }
}

/** Where request-validation-inbound finds an operation's schemas: each parameter's, and the JSON request body's. */
export function requestSchemaLocations(docs: DocumentSet, op: Operation): { what: string; location: Location }[] {
  const out: { what: string; location: Location }[] = [];
  for (const p of op.parameters) {
    if (isObject(p.value.schema) || typeof p.value.schema === "boolean") out.push({ what: `${p.in} parameter "${clip(p.name)}"`, location: { file: p.location.file, pointer: joinPointer(p.location.pointer, "schema") } });
  }
  const rb = op.value.requestBody === undefined ? undefined : docs.deref(op.value.requestBody, { file: op.location.file, pointer: joinPointer(op.location.pointer, "requestBody") });
  const content = rb && isObject(rb.value) && isObject(rb.value.content) ? rb.value.content : {};
  const jsonType = Object.keys(content).find((t) => /^application\/(.+\+)?json/i.test(t));
  const media = jsonType ? content[jsonType] : undefined;
  if (rb && jsonType && isObject(media) && media.schema !== undefined) out.push({ what: "request body", location: { file: rb.location.file, pointer: joinPointer(rb.location.pointer, "content", jsonType, "schema") } });
  return out;
}

/** Compiles every validator request-validation-inbound would compile for these operations; each failure is a diagnostic at the schema. */
export function checkRequestValidators(docs: DocumentSet, compiler: SchemaCompiler, operations: readonly { op: Operation; version: OpenApiVersion; label: string }[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const { op, version, label } of operations) {
    for (const { what, location } of requestSchemaLocations(docs, op)) {
      const key = `${version} ${location.file}#${location.pointer}`;
      if (seen.has(key)) continue;
      seen.add(key);
      try {
        compiler.compile(location.file, location.pointer, version);
      } catch (e) {
        const at = e instanceof UnsupportedPatternError ? (patternWithin(docs, location, e.pattern) ?? location) : location;
        out.push(docs.at("schema-invalid", `${label}: request-validation-inbound cannot compile the schema of the ${what}: ${clip((e as Error).message, 240)}`, at));
      }
    }
  }
  return out;
}

/** Where under a schema (its own file, $refs not followed) this pattern is written, so the diagnostic points at it. */
function patternWithin(docs: DocumentSet, schema: Location, pattern: string): Location | undefined {
  const root = docs.get(schema.file);
  if (!root) return undefined;
  const search = (node: unknown, pointer: string, depth: number): string | undefined => {
    if (depth > 64 || node === null || typeof node !== "object") return undefined;
    for (const [k, v] of Object.entries(node)) {
      const here = joinPointer(pointer, k);
      if (k === "pattern" && v === pattern) return here;
      if (k === "patternProperties" && isObject(v) && pattern in v) return joinPointer(here, pattern);
      const found = search(v, here, depth + 1);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  const segments = parsePointer(schema.pointer);
  const pointer = segments && search(getAtPointer(root.value, segments), schema.pointer, 0);
  return pointer === undefined ? undefined : { file: schema.file, pointer };
}

let metaAjv: InstanceType<typeof Ajv2020> | undefined;
const META_2020 = "https://json-schema.org/draft/2020-12/schema";

/** Keys whose values are data, not schemas or OpenAPI objects: never searched for schemas. */
const DATA_KEYS = new Set(["example", "examples", "default", "enum", "const"]);

/**
 * The schemas of a 3.1 document checked against their dialect, JSON Schema 2020-12 (the OpenAPI
 * schema itself lets any object through as a Schema Object, so `type: numbr` would pass it).
 * Schemas in other files reached by $ref are checked too, and reported where they are written.
 */
export function checkSchemaDialect(docs: DocumentSet, file: string): Diagnostic[] {
  const doc = docs.get(file);
  if (!doc || !isObject(doc.value)) return [];
  const dialect = doc.value.jsonSchemaDialect;
  if (dialect !== undefined && dialect !== META_2020 && dialect !== "https://spec.openapis.org/oas/3.1/dialect/base") return [];
  metaAjv ??= new Ajv2020({ allErrors: true, strict: false, logger: false });
  const validateMeta = metaAjv.getSchema(META_2020)!;
  const out: Diagnostic[] = [];
  const visited = new Set<string>();
  const queue: Location[] = [];

  // Schema roots: every value under a "schema" key of the OpenAPI structure, and components/schemas/*,
  // also in parameters, bodies and responses that other files hold.
  const walked = new Set<string>();
  const findRoots = (node: unknown, at: Location, key: string | undefined, parentKey: string | undefined) => {
    if (key === "schema" || parentKey === "schemas") {
      queue.push(at);
      return;
    }
    if (key !== undefined && DATA_KEYS.has(key)) return;
    if (Array.isArray(node)) node.forEach((v, i) => findRoots(v, { file: at.file, pointer: joinPointer(at.pointer, i) }, String(i), key));
    else if (isObject(node)) {
      for (const [k, v] of Object.entries(node)) {
        if (k === "$ref" && typeof v === "string") {
          const r = docs.resolve(at.file, v);
          const id = r.ok ? `${r.location.file}#${r.location.pointer}` : "";
          if (r.ok && r.location.file !== file && !walked.has(id)) {
            walked.add(id);
            findRoots(r.value, r.location, key, parentKey);
          }
        } else findRoots(v, { file: at.file, pointer: joinPointer(at.pointer, k) }, k, key);
      }
    }
  };
  findRoots(doc.value, { file, pointer: "" }, undefined, undefined);

  while (queue.length > 0 && out.length < 50) {
    const at = queue.shift()!;
    const id = `${at.file}#${at.pointer}`;
    if (visited.has(id)) continue;
    visited.add(id);
    const segments = parsePointer(at.pointer);
    const value = segments === undefined ? undefined : getAtPointer(docs.get(at.file)?.value, segments);
    if (!isObject(value) && typeof value !== "boolean") continue;
    if (!validateMeta(value)) out.push(...metaErrors(docs, at, validateMeta.errors ?? []));
    // Follow $refs to schemas elsewhere (other files, or places no root covers).
    collectRefs(value, (ref) => {
      const r = docs.resolve(at.file, ref);
      if (r.ok && !visited.has(`${r.location.file}#${r.location.pointer}`)) queue.push(r.location);
    });
  }
  return out;
}

function collectRefs(node: unknown, onRef: (ref: string) => void): void {
  if (Array.isArray(node)) for (const v of node) collectRefs(v, onRef);
  else if (isObject(node)) {
    for (const [k, v] of Object.entries(node)) {
      if (k === "$ref" && typeof v === "string") onRef(v);
      else if (!DATA_KEYS.has(k)) collectRefs(v, onRef);
    }
  }
}

/** One diagnostic per schema node, saying what the dialect expects there. */
function metaErrors(docs: DocumentSet, at: Location, errors: ErrorObject[]): Diagnostic[] {
  const byPath = new Map<string, ErrorObject[]>();
  for (const e of errors) byPath.set(e.instancePath, [...(byPath.get(e.instancePath) ?? []), e]);
  const out: Diagnostic[] = [];
  for (const [path, list] of byPath) {
    // Parents fail because a child did; the deepest node says what is wrong.
    if ([...byPath.keys()].some((p) => p !== path && p.startsWith(path + "/"))) continue;
    const keyword = path.split("/").pop() ?? "";
    const enumError = list.find((e) => e.keyword === "enum");
    const allowed = enumError ? (enumError.params as { allowedValues: unknown[] }).allowedValues : undefined;
    const what = allowed ? `must be one of ${allowed.map((v) => JSON.stringify(v)).join(", ")}${list.some((e) => e.keyword === "type" && (e.params as { type: string }).type === "array") ? " (or a list of them)" : ""}` : (list.find((e) => !["anyOf", "oneOf", "allOf", "$ref", "$dynamicRef"].includes(e.keyword))?.message ?? list[0]!.message ?? "is invalid");
    out.push(docs.at("schema-invalid", `This schema is not valid JSON Schema 2020-12 (the dialect of OpenAPI 3.1): ${keyword ? `"${clip(keyword)}" ` : ""}${what}`, { file: at.file, pointer: at.pointer + path }));
  }
  return out;
}
