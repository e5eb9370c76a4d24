import type { ChangeCategory, ChangeLevel } from "./change.js";

export interface ChangeRule {
  level: ChangeLevel;
  category: ChangeCategory;
  about: string;
}

/**
 * What a schema change does to the set of values it allows. In a request, "tighter" rejects
 * values clients already send; in a response, "looser" returns values clients do not expect and
 * drops guarantees they rely on. Those two break clients; "changed" is both at once.
 */
export type Effect = "tighter" | "looser" | "changed" | "neutral";

export type SchemaPlace = "request-parameter" | "request-body" | "response-body" | "response-header";

/** Schema keyword changes: id suffix -> effect and wording. */
export const SCHEMA_CHANGES: Record<string, { effect: Effect; about: string }> = {
  "type-narrowed": { effect: "tighter", about: "the schema's type allows fewer kinds of value (number to integer, a type dropped from a list, a type added where there was none)" },
  "type-widened": { effect: "looser", about: "the schema's type allows more kinds of value" },
  "type-changed": { effect: "changed", about: "the schema's type changed to an unrelated one" },
  "became-nullable": { effect: "looser", about: "null is now allowed" },
  "became-not-nullable": { effect: "tighter", about: "null is no longer allowed" },
  "became-enum": { effect: "tighter", about: "an enum now restricts the values" },
  "enum-removed": { effect: "looser", about: "the enum restriction was removed" },
  "enum-value-removed": { effect: "tighter", about: "an enum value was removed" },
  "enum-value-added": { effect: "looser", about: "an enum value was added" },
  "property-became-required": { effect: "tighter", about: "an existing property became required" },
  "property-became-optional": { effect: "looser", about: "a required property became optional" },
  "new-required-property": { effect: "tighter", about: "a new property was added as required" },
  "property-added": { effect: "neutral", about: "an optional property was added" },
  "property-removed": { effect: "neutral", about: "a property was removed" },
  "required-property-removed": { effect: "looser", about: "a required property was removed" },
  "additional-properties-closed": { effect: "tighter", about: "properties not listed are no longer allowed" },
  "additional-properties-opened": { effect: "looser", about: "properties not listed are now allowed" },
  // oneOf needs exactly one match: wrapping a schema in oneOf adds that condition to every value.
  "one-of-introduced": { effect: "changed", about: "the schema was restructured into a oneOf" },
  "required-name-added": { effect: "neutral", about: "a name was added to required without a property schema for it (often a slip; cannot be decided)" },
  "sunset-removed": { effect: "changed", about: "a deprecated schema's x-sunset date was removed, so it may now go at any time" },
  "sunset-invalid": { effect: "changed", about: "a deprecated schema's x-sunset is not a date" },
  "default-changed": { effect: "neutral", about: "the default value changed: callers that omit the value get a different behaviour" },
  deprecated: { effect: "neutral", about: "the schema was marked deprecated" },
  // Its level is the worst of the differences folded under it (see schemaChangeLevel's caller in operation-diff.ts).
  "schema-switched": { effect: "changed", about: "the place now uses another component schema; the differences between the two are listed under it, and the worst of them sets the level" },
};

/** Bounds: a higher minimum or a lower maximum is tighter. */
export const BOUNDS: { keyword: string; stem: string; kind: "min" | "max" }[] = [
  { keyword: "minimum", stem: "min", kind: "min" },
  { keyword: "exclusiveMinimum", stem: "exclusive-min", kind: "min" },
  { keyword: "minLength", stem: "min-length", kind: "min" },
  { keyword: "minItems", stem: "min-items", kind: "min" },
  { keyword: "minProperties", stem: "min-properties", kind: "min" },
  { keyword: "minContains", stem: "min-contains", kind: "min" },
  { keyword: "maximum", stem: "max", kind: "max" },
  { keyword: "exclusiveMaximum", stem: "exclusive-max", kind: "max" },
  { keyword: "maxLength", stem: "max-length", kind: "max" },
  { keyword: "maxItems", stem: "max-items", kind: "max" },
  { keyword: "maxProperties", stem: "max-properties", kind: "max" },
  { keyword: "maxContains", stem: "max-contains", kind: "max" },
];

/** Keywords that only ever constrain: adding one tightens, removing loosens, changing does both. */
export const CONSTRAINTS: { keyword: string; stem: string }[] = [
  { keyword: "pattern", stem: "pattern" },
  { keyword: "format", stem: "format" },
  { keyword: "const", stem: "const" },
  { keyword: "multipleOf", stem: "multiple-of" },
  { keyword: "not", stem: "not" },
  { keyword: "if", stem: "if" },
  { keyword: "then", stem: "then" },
  { keyword: "else", stem: "else" },
  { keyword: "contains", stem: "contains" },
  { keyword: "propertyNames", stem: "property-names" },
  { keyword: "patternProperties", stem: "pattern-properties" },
  { keyword: "dependentRequired", stem: "dependent-required" },
  { keyword: "dependentSchemas", stem: "dependent-schemas" },
  { keyword: "unevaluatedItems", stem: "unevaluated-items" },
  { keyword: "unevaluatedProperties", stem: "unevaluated-properties" },
  { keyword: "contentSchema", stem: "content-schema" },
  { keyword: "contentMediaType", stem: "content-media-type" },
  { keyword: "contentEncoding", stem: "content-encoding" },
  { keyword: "prefixItems", stem: "prefix-items" },
  { keyword: "uniqueItems", stem: "unique-items" },
  { keyword: "x-extensible-enum", stem: "x-extensible-enum" },
];

/** Composition: another allOf member adds constraints; another oneOf/anyOf branch allows more. */
export const COMPOSITIONS: { keyword: string; stem: string; more: Effect; fewer: Effect }[] = [
  { keyword: "allOf", stem: "all-of", more: "tighter", fewer: "looser" },
  { keyword: "oneOf", stem: "one-of", more: "looser", fewer: "tighter" },
  { keyword: "anyOf", stem: "any-of", more: "looser", fewer: "tighter" },
];

/** "an anyOf", "an allOf", "a oneOf": by how the keyword is said. */
export function article(keyword: string): string {
  return /^(any|all)/.test(keyword) ? "an" : "a";
}

export function schemaSuffixes(): Record<string, { effect: Effect; about: string }> {
  const out: Record<string, { effect: Effect; about: string }> = { ...SCHEMA_CHANGES };
  for (const b of BOUNDS) {
    const tighterWord = b.kind === "min" ? "increased" : "decreased";
    const looserWord = b.kind === "min" ? "decreased" : "increased";
    out[`${b.stem}-${tighterWord}`] = { effect: "tighter", about: `${b.keyword} ${tighterWord}` };
    out[`${b.stem}-${looserWord}`] = { effect: "looser", about: `${b.keyword} ${looserWord}` };
    out[`${b.stem}-added`] = { effect: "tighter", about: `${b.keyword} added` };
    out[`${b.stem}-removed`] = { effect: "looser", about: `${b.keyword} removed` };
  }
  for (const c of CONSTRAINTS) {
    out[`${c.stem}-added`] = { effect: "tighter", about: `${c.keyword} added` };
    out[`${c.stem}-removed`] = { effect: "looser", about: `${c.keyword} removed` };
    // uniqueItems is a flag (only set or unset); x-extensible-enum's removed values are enum-value-removed.
    if (c.keyword !== "uniqueItems" && c.keyword !== "x-extensible-enum") out[`${c.stem}-changed`] = { effect: "changed", about: `${c.keyword} changed` };
  }
  for (const c of COMPOSITIONS) {
    out[`${c.stem}-added`] = { effect: c.more, about: `${article(c.keyword)} ${c.keyword} member was added` };
    // allOf members are merged before comparing: a removed member shows as what it took away.
    if (c.keyword !== "allOf") out[`${c.stem}-removed`] = { effect: c.fewer, about: `${article(c.keyword)} ${c.keyword} member was removed` };
  }
  return out;
}

/**
 * Suffixes that cannot happen at a place: a request never gains a "required property" it returns,
 * and a response's removed property is judged as required or not, never as new-required.
 */
export function appliesAt(place: SchemaPlace, suffix: string): boolean {
  if (place.startsWith("request")) return suffix !== "required-property-removed";
  return suffix !== "new-required-property";
}

/** The level of a schema change at a place, from its effect and a few cases the effect cannot decide. */
export function schemaChangeLevel(place: SchemaPlace, suffix: string, effect: Effect): ChangeLevel {
  const request = place.startsWith("request");
  if (suffix === "default-changed") return place === "request-parameter" ? "breaking" : request ? "warning" : "info";
  if (suffix === "property-removed" || suffix === "required-name-added") return "warning";
  // Whether a new pattern or format accepts everything the old one did cannot be decided in general;
  // clients rarely check them in responses.
  if (/^(pattern|format)-(added|removed|changed)$/.test(suffix)) {
    if (!request) return "info";
    return suffix.endsWith("-added") ? "breaking" : suffix.endsWith("-changed") ? "warning" : "info";
  }
  // An upper bound where there was none usually sits above what callers send; whether one exceeds
  // it cannot be read from the spec (oasdiff's level too).
  if (request && /^max(-length|-items|-properties|-contains)?-added$/.test(suffix)) return "warning";
  // String lengths in a response describe it; clients reading a response do not enforce them, unlike
  // numeric ranges, types or required fields. Worth a look, not a blocker.
  if (!request && /^(min|max)-length-/.test(suffix) && effect === "looser") return "warning";
  // A client with an exhaustive switch over a response enum may fail on a new value; the spec cannot tell.
  if (!request && (suffix === "enum-value-added" || suffix === "enum-removed")) return "warning";
  if (effect === "changed") return "breaking";
  if (effect === "neutral") return "info";
  return (request ? effect === "tighter" : effect === "looser") ? "breaking" : "info";
}

const OPERATION_RULES: Record<string, ChangeRule> = {
  "operation-removed-without-deprecation": { level: "breaking", category: "contract", about: "An operation was removed without being marked deprecated first." },
  "operation-removed-after-deprecation": { level: "warning", category: "contract", about: "A deprecated operation was removed." },
  "operation-removed-before-sunset": { level: "breaking", category: "contract", about: "A deprecated operation was removed before its x-sunset date (or with an x-sunset that is not a date)." },
  "operation-path-changed": { level: "breaking", category: "contract", about: "An operation (same method and operationId) moved to a path its old URLs no longer reach." },
  "operation-path-template-changed": { level: "info", category: "contract", about: "An operation's path template changed (parameters renamed, split or joined) while every old URL still reaches it." },
  "operation-added": { level: "info", category: "contract", about: "An operation was added." },
  "operation-sunset-removed": { level: "breaking", category: "contract", about: "A deprecated operation's x-sunset date was removed: it could now be removed at any time." },
  "operation-sunset-invalid": { level: "breaking", category: "contract", about: "A deprecated operation's x-sunset is not a date (RFC 3339)." },
  "operation-stability-invalid": { level: "breaking", category: "contract", about: "x-stability-level is not one of draft, alpha, beta, stable." },
  "operation-stability-decreased": { level: "breaking", category: "contract", about: "x-stability-level went down (for example stable to beta)." },
  "request-parameter-removed-before-sunset": { level: "breaking", category: "contract", about: "A deprecated parameter was removed before its x-sunset date (or with an x-sunset that is not a date)." },
  "request-parameter-sunset-removed": { level: "breaking", category: "contract", about: "A deprecated parameter's x-sunset date was removed." },
  "request-parameter-sunset-invalid": { level: "breaking", category: "contract", about: "A deprecated parameter's x-sunset is not a date." },
  "request-parameter-deprecated": { level: "info", category: "contract", about: "A parameter was marked deprecated." },
  "operation-deprecated": { level: "info", category: "contract", about: "An operation was marked deprecated." },
  "operation-id-changed": { level: "warning", category: "contract", about: "An operationId changed; generated clients rename the method." },
  "webhook-removed": { level: "breaking", category: "contract", about: "A webhook was removed." },
  "request-parameter-added-required": { level: "breaking", category: "contract", about: "A required parameter was added." },
  "request-parameter-added": { level: "info", category: "contract", about: "An optional parameter was added." },
  "request-parameter-removed": { level: "warning", category: "contract", about: "A parameter was removed; callers still sending it may be refused or ignored." },
  "request-parameter-became-required": { level: "breaking", category: "contract", about: "An optional parameter became required." },
  "request-parameter-became-optional": { level: "info", category: "contract", about: "A required parameter became optional." },
  "request-parameter-location-changed": { level: "breaking", category: "contract", about: "A parameter moved (for example from query to header)." },
  "request-parameter-style-changed": { level: "breaking", category: "contract", about: "A parameter's serialization (style or explode) changed." },
  "request-body-added-required": { level: "breaking", category: "contract", about: "A required request body was added." },
  "request-body-added": { level: "info", category: "contract", about: "An optional request body was added." },
  "request-body-removed": { level: "breaking", category: "contract", about: "The request body was removed; callers sending one may be refused." },
  "request-body-became-required": { level: "breaking", category: "contract", about: "The request body became required." },
  "request-body-became-optional": { level: "info", category: "contract", about: "The request body became optional." },
  "request-body-media-type-removed": { level: "breaking", category: "contract", about: "A request media type is no longer accepted." },
  "request-body-media-type-added": { level: "info", category: "contract", about: "A request media type was added." },
  "response-success-status-removed": { level: "breaking", category: "contract", about: "A success (2xx/3xx) response status was removed." },
  "response-non-success-status-removed": { level: "warning", category: "contract", about: "An error response status was removed." },
  "response-status-added": { level: "info", category: "contract", about: "A response status was added." },
  "response-media-type-removed": { level: "breaking", category: "contract", about: "A response media type was removed." },
  "response-media-type-added": { level: "info", category: "contract", about: "A response media type was added." },
  "response-required-header-removed": { level: "breaking", category: "contract", about: "A required response header was removed." },
  "response-header-removed": { level: "warning", category: "contract", about: "An optional response header was removed." },
  "security-requirement-added": { level: "breaking", category: "contract", about: "An operation that needed no credentials now needs them." },
  "security-requirement-removed": { level: "warning", category: "security", about: "An operation no longer declares any security requirement." },
  "security-alternative-removed": { level: "breaking", category: "contract", about: "A way to authenticate (a security requirement alternative) was removed." },
  "security-alternative-added": { level: "info", category: "security", about: "Another way to authenticate was added." },
  "security-scope-added": { level: "breaking", category: "contract", about: "A security requirement now needs a scope it did not: callers whose tokens lack it are refused." },
  "security-scope-removed": { level: "warning", category: "security", about: "A security requirement no longer needs a scope: callers with less privilege now get in (a loosening, never breaking)." },
  "security-requirement-loosened": { level: "warning", category: "security", about: "A way to authenticate asks for fewer schemes than before (for example key + oauth became key): a loosening, never breaking." },
  "servers-changed": { level: "warning", category: "contract", about: "The servers list changed; clients using the old base URL may stop working." },
};

const GATEWAY_RULES: Record<string, ChangeRule> = {
  "route-authentication-removed": { level: "breaking", category: "security", about: "A route that required credentials (api-key, basic auth) no longer does." },
  "route-authentication-made-optional": { level: "breaking", category: "security", about: "A route's authentication now lets unauthenticated requests through." },
  "route-authentication-made-required": { level: "breaking", category: "contract", about: "A route's authentication no longer lets unauthenticated requests through; callers without credentials get 401." },
  "route-authentication-added": { level: "breaking", category: "contract", about: "A route now requires credentials; existing callers without them get 401." },
  "route-authentication-changed": { level: "breaking", category: "contract", about: "A route changed how callers authenticate." },
  "route-ip-restriction-removed": { level: "breaking", category: "security", about: "A route's IP restriction was removed." },
  "route-ip-restriction-added": { level: "breaking", category: "contract", about: "An IP restriction was added to a route; callers from other addresses are refused." },
  "route-ip-restriction-changed": { level: "warning", category: "security", about: "A route's allowed or blocked addresses changed." },
  "route-rate-limit-removed": { level: "warning", category: "traffic", about: "A route's rate limit was removed." },
  "route-rate-limit-added": { level: "warning", category: "traffic", about: "A rate limit was added to a route; heavy callers may now get 429." },
  "route-rate-limit-loosened": { level: "warning", category: "traffic", about: "A route allows more requests per unit of time." },
  "route-rate-limit-tightened": { level: "warning", category: "traffic", about: "A route allows fewer requests per unit of time." },
  "route-rate-limit-key-changed": { level: "warning", category: "traffic", about: "A route's rate limit counts by another key (ip, user, all)." },
  "route-cors-opened": { level: "warning", category: "security", about: "A route's CORS now admits origins it did not (anything-goes reflects every origin, with credentials)." },
  "route-cors-closed": { level: "breaking", category: "contract", about: "A route's CORS admits fewer origins; browser callers from them fail." },
  "route-upstream-changed": { level: "warning", category: "upstream", about: "A route forwards to another upstream." },
  "route-handler-changed": { level: "warning", category: "upstream", about: "A route's handler changed." },
  "route-request-validation-added": { level: "warning", category: "contract", about: "Request validation was added: requests that do not fit the OpenAPI schemas are refused." },
  "route-request-validation-removed": { level: "info", category: "contract", about: "Request validation was removed from a route." },
  "route-policy-added": { level: "info", category: "traffic", about: "A policy was added to a route." },
  "route-policy-removed": { level: "info", category: "traffic", about: "A policy was removed from a route." },
  "route-no-longer-served": { level: "breaking", category: "contract", about: "An operation still in the document is no longer served by the gateway (its x-zuplo-route was removed)." },
  "policy-options-changed": { level: "info", category: "traffic", about: "A policy's options changed." },
  "cors-policy-origins-widened": { level: "warning", category: "security", about: "A custom CORS policy admits more origins." },
  "cors-policy-origins-narrowed": { level: "breaking", category: "contract", about: "A custom CORS policy admits fewer origins; browser callers from them fail." },
  "env-variable-added": { level: "warning", category: "upstream", about: "The config needs a new $env variable; every environment must set it before deploying." },
  "settings-gate-loosened": { level: "breaking", category: "security", about: ".github/gitway.yml loosens a gate: a rule turned off or down, a change accepted, a lower approval permission, a neutral changes check, fork previews opened, previews given another environment's values, the smoke test of previews turned off or allowed unsafe methods, a stage or production approval dropped, production moved to another branch." },
  "settings-gate-tightened": { level: "info", category: "security", about: ".github/gitway.yml tightens a gate (the opposite of a loosening)." },
};

function buildRegistry(): Record<string, ChangeRule> {
  const out: Record<string, ChangeRule> = { ...OPERATION_RULES, ...GATEWAY_RULES };
  const places: SchemaPlace[] = ["request-parameter", "request-body", "response-body", "response-header"];
  for (const place of places) {
    for (const [suffix, { effect, about }] of Object.entries(schemaSuffixes())) {
      // A parameter's own deprecation and x-sunset rules share their ids with the schema's: the
      // parameter's wording stays (same level), rather than a schema sentence about a parameter.
      if (!appliesAt(place, suffix) || out[`${place}-${suffix}`]) continue;
      out[`${place}-${suffix}`] = { level: schemaChangeLevel(place, suffix, effect), category: "contract", about: `${place.replace("-", " ")}: ${about}.` };
    }
  }
  return out;
}

/** Every change rule, with its default level and category. Settings may override levels by id. */
export const CHANGE_RULES: Readonly<Record<string, ChangeRule>> = buildRegistry();
