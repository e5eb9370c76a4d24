import { isIP } from "node:net";
import { Ajv, type ValidateFunction } from "ajv";
import type { Diagnostic, RuleId } from "./diagnostics.js";
import type { DocumentSet, Location } from "./documents.js";
import { explainAjvError, pickAjvErrors } from "./ajv-errors.js";

export function isIpOrCidr(value: string): boolean {
  const [ip, bits, ...rest] = value.split("/");
  if (rest.length > 0 || ip === undefined) return false;
  const family = isIP(ip);
  if (family === 0) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

const ajv = new Ajv({ allErrors: true, strict: false, logger: false });
ajv.addFormat("ip-or-cidr", isIpOrCidr);
const compiled = new WeakMap<object, ValidateFunction>();

/**
 * Checks options against a built-in's schema. Unknown options are warnings, not errors: a config
 * written for another gateway may carry options Gitway does not use, and it still serves the rest.
 */
export function checkOptions(docs: DocumentSet, schema: object, options: unknown, at: Location, rule: RuleId, owner: string): Diagnostic[] {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  if (validate(options)) return [];
  return pickAjvErrors(validate.errors ?? []).map((e) => {
    const { pointer, part, message } = explainAjvError(e, at.pointer);
    const unknown = e.keyword === "additionalProperties";
    const text = unknown ? `${owner}: option "${String((e.params as { additionalProperty: string }).additionalProperty)}" is not one Gitway uses; it is ignored` : `${owner}: ${message}`;
    const d = docs.at(rule, text, { file: at.file, pointer }, part);
    if (unknown) d.severity = "warning";
    return d;
  });
}

/** Compiles a schema once and validates plain data with it (settings files). */
export function schemaValidator(schema: object): ValidateFunction {
  return ajv.compile(schema);
}
