import { findPolicy, isObject, type PolicyDefinition } from "../config/index.js";

/**
 * Config values a change report may print. A report goes to check runs, comments and logs that
 * many people read, so a policy option's value is shown only when it cannot be a credential:
 * numbers, booleans, enumerated words, header names and address lists of the built-in policies,
 * and $env(NAME) references (the name of a secret, never its value). Anything else (basic-auth
 * accounts, literal keys, set-headers values, options of custom policies) is named, not shown.
 */
const SHOWN_STRINGS = new Set(["authHeader", "authScheme", "contentType", "exampleName"]);
const ENV_REF = /^\$env\([A-Za-z_][A-Za-z0-9_]*\)$/;

function optionSchema(def: PolicyDefinition, key: string): Record<string, unknown> | undefined {
  const properties = findPolicy(def.export)?.options.properties;
  const s = isObject(properties) ? properties[key] : undefined;
  return isObject(s) ? s : undefined;
}

/** The value as JSON when it is safe to print, else undefined. */
export function shownOptionValue(def: PolicyDefinition, key: string, value: unknown): string | undefined {
  if (typeof value === "string" && ENV_REF.test(value)) return JSON.stringify(value);
  const schema = optionSchema(def, key);
  if (!schema) return undefined;
  if (typeof value === "number" || typeof value === "boolean") return JSON.stringify(value);
  if (typeof value === "string" && (Array.isArray(schema.enum) || SHOWN_STRINGS.has(key))) return JSON.stringify(value);
  const items = schema.items;
  if (Array.isArray(value) && isObject(items) && items.format === "ip-or-cidr" && value.every((v) => typeof v === "string")) return JSON.stringify(value);
  return undefined;
}

/** `requestsAllowed 100 → 1000; accounts changed (value not shown)` for the options that differ. */
export function describeOptionChanges(b: PolicyDefinition, h: PolicyDefinition, keys: readonly string[]): string {
  return keys
    .map((k) => {
      const before = b.options[k];
      const after = h.options[k];
      if (before === undefined) return `${k} added${shown(h, k, after)}`;
      if (after === undefined) return `${k} removed`;
      const x = shownOptionValue(b, k, before);
      const y = shownOptionValue(h, k, after);
      return x !== undefined && y !== undefined ? `${k} ${x} → ${y}` : `${k} changed (value not shown)`;
    })
    .join("; ");
}

function shown(def: PolicyDefinition, key: string, value: unknown): string {
  const v = shownOptionValue(def, key, value);
  return v === undefined ? " (value not shown)" : ` as ${v}`;
}

/** Option names whose values differ between two definitions of a policy. */
export function changedOptions(b: PolicyDefinition, h: PolicyDefinition): string[] {
  const keys = new Set([...Object.keys(b.options), ...Object.keys(h.options)]);
  return [...keys].filter((k) => JSON.stringify(b.options[k]) !== JSON.stringify(h.options[k])).sort();
}

/** A URL without user, password or query, which can carry credentials: `https://***@host/path?…`. Written as text, not normalised. */
export function safeUrl(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i, "$1***@").replace(/\?[^#]*/, "?…");
}
