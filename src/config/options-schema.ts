import { isIP } from "node:net";
import { Ajv, type ValidateFunction } from "ajv";
import type { Diagnostic, RuleId } from "./diagnostics.js";
import type { DocumentSet, Location } from "./documents.js";
import { explainAjvError, pickAjvErrors } from "./ajv-errors.js";
import type { UnsupportedOptions } from "./builtins.js";
import { isObject } from "./model.js";
import { joinPointer } from "./pointer.js";

export function isIpOrCidr(value: string): boolean {
  const [ip, bits, ...rest] = value.split("/");
  if (rest.length > 0 || ip === undefined) return false;
  const family = isIP(ip);
  if (family === 0) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

let shared: Ajv | undefined;

/** Made on first use: creating one costs tens of milliseconds that `gitway validate` on a plain OpenAPI file never needs. */
function ajv(): Ajv {
  if (!shared) {
    shared = new Ajv({ allErrors: true, strict: false, logger: false });
    shared.addFormat("ip-or-cidr", isIpOrCidr);
  }
  return shared;
}

const compiled = new WeakMap<object, ValidateFunction>();

/**
 * Checks options against a built-in's schema. Unknown options are warnings, not errors: a config
 * written for another gateway may carry options Gitway does not use, and it still serves the rest.
 */
export function checkOptions(docs: DocumentSet, schema: object, options: unknown, at: Location, rule: RuleId, owner: string, unsupported: UnsupportedOptions = {}): Diagnostic[] {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv().compile(schema);
    compiled.set(schema, validate);
  }
  const refused = unsupportedIn(docs, options, at, owner, unsupported);
  if (validate(options)) return refused;
  return refused.concat(pickAjvErrors(validate.errors ?? []).map((e) => {
    const { pointer, part, message } = explainAjvError(e, at.pointer);
    const unknown = e.keyword === "additionalProperties";
    const text = unknown ? `${owner}: option "${String((e.params as { additionalProperty: string }).additionalProperty)}" is not one Gitway uses; it is ignored` : `${owner}: ${message}`;
    const d = docs.at(rule, text, { file: at.file, pointer }, part);
    if (unknown) d.severity = "warning";
    return d;
  }));
}

/**
 * Options the runtime does not act on yet, wherever they are set. `false` is let through: it asks
 * for nothing the gateway does not already do.
 */
function unsupportedIn(docs: DocumentSet, options: unknown, at: Location, owner: string, unsupported: UnsupportedOptions): Diagnostic[] {
  const out: Diagnostic[] = [];
  const visit = (node: unknown, path: string[], pointer: string, why: string, name: string) => {
    if (path.length === 0) {
      if (node !== undefined && node !== false) out.push(docs.at("option-unsupported", `${owner}: option "${name}" is not supported yet: ${why}. Remove it`, { file: at.file, pointer }, "key"));
      return;
    }
    const [head, ...rest] = path;
    if (head === "*") {
      if (Array.isArray(node)) node.forEach((item, i) => visit(item, rest, joinPointer(pointer, i), why, name));
    } else if (isObject(node) && Object.hasOwn(node, head!)) {
      visit(node[head!], rest, joinPointer(pointer, head!), why, name);
    }
  };
  for (const [path, why] of Object.entries(unsupported)) {
    const segments = path.split("/");
    visit(options, segments, at.pointer, why, segments.filter((s) => s !== "*").join("."));
  }
  return out;
}

/** Compiles a schema once and validates plain data with it (settings files). */
export function schemaValidator(schema: object): ValidateFunction {
  return ajv().compile(schema);
}
