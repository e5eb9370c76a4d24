import { isObject, joinPointer, normalizeTemplate, templateNames, type DocumentSet, type JsonObject, type Location, type Operation, type Parameter } from "../config/index.js";
import { sourceKey, type ChangeSink } from "./emit.js";
import type { ChangeDetail, ChangeLevel } from "./change.js";
import { CHANGE_RULES, type SchemaPlace } from "./rules.js";
import { schemaPlaceLabel } from "./source-label.js";
import { propertyPath, sunsetOf, type Direction, type SchemaChange, type SchemaDiffer, type Textual } from "./schema-diff.js";

export interface Sides {
  base: DocumentSet;
  head: DocumentSet;
  schemas: SchemaDiffer;
  sink: ChangeSink;
}

/** Operations match by method and path template, parameter names ignored: renaming {id} breaks nobody. */
export function operationKey(op: { method: string; path: string }): string {
  return `${op.method} ${normalizeTemplate(op.path)}`;
}

/**
 * "GET /repos/{owner}/{repo}/compare/{basehead}", whole: a change report names operations in full
 * (two long paths cut at the same length would read alike). Only a path no API has is bounded.
 */
export function operationLabel(op: { method: string; path: string }): string {
  const path = op.path.replace(/\s+/g, " ");
  return `${op.method.toUpperCase()} ${path.length <= 2000 ? path : `${path.slice(0, 1999)}…`}`;
}

/** Does every URL the old template matches still reach the new one? A segment that is one whole {parameter} takes any value. */
export function sameOnTheWire(oldPath: string, newPath: string): boolean {
  const a = oldPath.split("/");
  const b = newPath.split("/");
  if (a.length !== b.length) return false;
  return a.every((seg, i) => normalizeTemplate(seg) === normalizeTemplate(b[i]!) || /^\{[^{}]+\}$/.test(b[i]!));
}

function sub(loc: Location, ...segments: (string | number)[]): Location {
  return { file: loc.file, pointer: joinPointer(loc.pointer, ...segments) };
}

/**
 * Removing a deprecated element is safe once its x-sunset date has passed, or when it never had
 * one; not before that date, and not when the date cannot be read.
 */
function removalBlockedBySunset(node: JsonObject, now: number): boolean {
  const sunset = sunsetOf(node);
  return node.deprecated === true && sunset !== undefined && (Number.isNaN(sunset) || sunset > now);
}

const STABILITY = ["draft", "alpha", "beta", "stable"];

/** Deprecation and stability promises: x-sunset kept and readable, x-stability-level never lowered. */
function diffLifecycle(s: Sides, label: string, what: "operation" | "request-parameter", b: JsonObject, h: JsonObject, bLoc: Location, hLoc: Location): void {
  if (h.deprecated === true) {
    const bSun = sunsetOf(b);
    const hSun = sunsetOf(h);
    if (b.deprecated === true && bSun !== undefined && hSun === undefined) s.sink.add(`${what}-sunset-removed`, label, `x-sunset ${String(b["x-sunset"])} was removed from the deprecated ${what === "operation" ? "operation" : `parameter "${String(h.name)}"`}`, sub(bLoc, "x-sunset"), hLoc);
    if (hSun !== undefined && Number.isNaN(hSun) && (bSun === undefined || !Number.isNaN(bSun))) s.sink.add(`${what}-sunset-invalid`, label, `x-sunset ${JSON.stringify(h["x-sunset"])} is not a date (use YYYY-MM-DD)`, bLoc, sub(hLoc, "x-sunset"));
  }
  if (what !== "operation") {
    if (b.deprecated !== true && h.deprecated === true) s.sink.add("request-parameter-deprecated", label, `parameter "${String(h.name)}" is now deprecated`, bLoc, hLoc);
    return;
  }
  const hs = h["x-stability-level"];
  const bs = b["x-stability-level"];
  if (hs !== undefined && !STABILITY.includes(hs as string)) {
    if (bs === undefined || STABILITY.includes(bs as string)) s.sink.add("operation-stability-invalid", label, `x-stability-level ${JSON.stringify(hs)} is not one of ${STABILITY.join(", ")}`, bLoc, sub(hLoc, "x-stability-level"));
  } else if (typeof bs === "string" && typeof hs === "string" && STABILITY.indexOf(hs) < STABILITY.indexOf(bs) && STABILITY.includes(bs)) {
    s.sink.add("operation-stability-decreased", label, `x-stability-level went down from ${bs} to ${hs}`, sub(bLoc, "x-stability-level"), sub(hLoc, "x-stability-level"));
  }
}

export function diffOperationSets(s: Sides, base: readonly Operation[], head: readonly Operation[], now: number): Map<string, [Operation, Operation]> {
  const headByKey = new Map(head.map((op) => [operationKey(op), op]));
  const baseByKey = new Map(base.map((op) => [operationKey(op), op]));
  const matched = new Map<string, [Operation, Operation]>();
  const moved = movedOperations(base.filter((b) => !headByKey.has(operationKey(b))), head.filter((h) => !baseByKey.has(operationKey(h))));
  for (const b of base) {
    const h = headByKey.get(operationKey(b)) ?? moved.get(b);
    const label = operationLabel(b);
    if (h && h.path !== b.path && !headByKey.has(operationKey(b))) {
      const id = b.operationId !== undefined ? ` (operationId "${b.operationId}")` : "";
      if (sameOnTheWire(b.path, h.path)) s.sink.add("operation-path-template-changed", operationLabel(h), `path template ${b.path} -> ${h.path}${id}: every URL that reached it still does`, b.location, h.location);
      else s.sink.add("operation-path-changed", operationLabel(h), `${label} moved to ${h.path}${id}: clients calling the old path get 404`, b.location, h.location);
    }
    if (!h) {
      if (removalBlockedBySunset(b.value, now)) {
        s.sink.add("operation-removed-before-sunset", label, `${label} was removed before its sunset date ${String(b.value["x-sunset"])}`, b.location);
      } else if (b.value.deprecated === true) {
        s.sink.add("operation-removed-after-deprecation", label, `${label} was removed after being deprecated`, b.location);
      } else {
        s.sink.add("operation-removed-without-deprecation", label, `${label} was removed without being deprecated first`, b.location);
      }
      continue;
    }
    matched.set(operationKey(b), [b, h]);
    diffOperation(s, b, h, now);
  }
  const movedHere = new Set(moved.values());
  for (const h of head) {
    if (!baseByKey.has(operationKey(h)) && !movedHere.has(h)) s.sink.add("operation-added", operationLabel(h), `${operationLabel(h)} was added`, undefined, h.location);
  }
  return matched;
}

/**
 * Operations whose path changed but that are still the same operation: the same method and
 * operationId, or, where neither side has an operationId, the same method and a template that
 * still matches every old URL. Each base operation pairs with at most one head operation.
 */
function movedOperations(gone: readonly Operation[], arrived: readonly Operation[]): Map<Operation, Operation> {
  const out = new Map<Operation, Operation>();
  const taken = new Set<Operation>();
  for (const b of gone) {
    const h = arrived.find((x) => !taken.has(x) && x.method === b.method && (b.operationId !== undefined ? x.operationId === b.operationId : x.operationId === undefined && sameOnTheWire(b.path, x.path)));
    if (!h) continue;
    out.set(b, h);
    taken.add(h);
  }
  return out;
}

function diffOperation(s: Sides, b: Operation, h: Operation, now: number): void {
  const label = operationLabel(h);
  diffLifecycle(s, label, "operation", b.value, h.value, b.location, h.location);
  if (b.value.deprecated !== true && h.value.deprecated === true) s.sink.add("operation-deprecated", label, `${label} is now deprecated`, b.location, h.location);
  if (b.operationId !== undefined && h.operationId !== undefined && b.operationId !== h.operationId) {
    s.sink.add("operation-id-changed", label, `operationId changed from "${b.operationId}" to "${h.operationId}"`, sub(b.location, "operationId"), sub(h.location, "operationId"));
  }
  diffParameters(s, label, b, h, now);
  diffRequestBody(s, label, b, h);
  diffResponses(s, label, b, h);
}

/**
 * Path parameters match by position in the template (renaming one is harmless), or by name once
 * the template itself changed; others by location and name.
 */
function paramKey(op: Operation, p: Parameter, byName = false): string {
  if (p.in === "path" && !byName) {
    const i = templateNames(op.path).indexOf(p.name);
    return `path#${i === -1 ? p.name : i}`;
  }
  return `${p.in}:${p.in === "header" ? p.name.toLowerCase() : p.name}`;
}

/** A parameter's schema: `schema`, or the one media type's under `content` (OpenAPI allows exactly one). */
function parameterSchema(p: Parameter): { value: unknown; location: Location } {
  if (p.value.schema !== undefined || !isObject(p.value.content)) return { value: p.value.schema, location: sub(p.location, "schema") };
  const [type, media] = Object.entries(p.value.content)[0] ?? [];
  return type !== undefined && isObject(media) ? { value: media.schema, location: sub(p.location, "content", type, "schema") } : { value: undefined, location: p.location };
}

function describeParam(p: Parameter): string {
  return `${p.in} parameter "${p.name}"`;
}

function diffParameters(s: Sides, label: string, b: Operation, h: Operation, now: number): void {
  // The path's own change (operation-path-changed or -template-changed) already says which path parameters came and went.
  const templateChanged = operationKey(b) !== operationKey(h);
  const key = (op: Operation, p: Parameter) => paramKey(op, p, templateChanged);
  const bmap = new Map(b.parameters.map((p) => [key(b, p), p]));
  const hmap = new Map(h.parameters.map((p) => [key(h, p), p]));
  const moved = new Set<string>();
  for (const [k, bp] of bmap) {
    const hp = hmap.get(k);
    if (!hp) {
      const elsewhere = h.parameters.find((p) => p.name === bp.name && p.in !== bp.in && !bmap.has(key(h, p)));
      if (templateChanged && bp.in === "path" && !elsewhere) continue;
      if (elsewhere) {
        moved.add(key(h, elsewhere));
        s.sink.add("request-parameter-location-changed", label, `parameter "${bp.name}" moved from ${bp.in} to ${elsewhere.in}`, bp.location, elsewhere.location);
      } else if (removalBlockedBySunset(bp.value, now)) {
        s.sink.add("request-parameter-removed-before-sunset", label, `deprecated ${describeParam(bp)} was removed before its sunset date ${String(bp.value["x-sunset"])}`, bp.location, h.location);
      } else {
        s.sink.add("request-parameter-removed", label, `${describeParam(bp)} was removed`, bp.location, h.location);
      }
      continue;
    }
    diffLifecycle(s, label, "request-parameter", bp.value, hp.value, bp.location, hp.location);
    if (!bp.required && hp.required) s.sink.add("request-parameter-became-required", label, `${describeParam(hp)} became required`, bp.location, hp.location);
    if (bp.required && !hp.required) s.sink.add("request-parameter-became-optional", label, `${describeParam(hp)} became optional`, bp.location, hp.location);
    // With OpenAPI's defaults filled in (form for query and cookie, simple otherwise; explode only for form),
    // so writing out a default is no change.
    const style = (p: Parameter) => {
      const named = String(p.value.style ?? (p.in === "query" || p.in === "cookie" ? "form" : "simple"));
      return `${named}, explode ${String(p.value.explode ?? named === "form")}`;
    };
    if (style(bp) !== style(hp)) s.sink.add("request-parameter-style-changed", label, `${describeParam(hp)} serialization changed from ${style(bp)} to ${style(hp)}`, bp.location, hp.location);
    const bSchema = parameterSchema(bp);
    let hSchema = parameterSchema(hp);
    const widened = scalarToArray(s, bSchema, hSchema);
    if (widened && hp.in !== "path") {
      // A query or header value "x" also reads as the array ["x"]: the old single values still work.
      s.sink.add("request-parameter-type-widened", label, `${describeParam(hp)}: type changed from a single value to an array of such values`, bSchema.location, hSchema.location);
      hSchema = widened;
    }
    schemaChanges(s, label, "request-parameter", describeParam(hp), bSchema, hSchema, "request", true);
  }
  for (const [k, hp] of hmap) {
    if (bmap.has(k) || moved.has(k) || (templateChanged && hp.in === "path")) continue;
    if (hp.required) s.sink.add("request-parameter-added-required", label, `required ${describeParam(hp)} was added`, b.location, hp.location);
    else s.sink.add("request-parameter-added", label, `optional ${describeParam(hp)} was added`, b.location, hp.location);
  }
}

function content(holder: JsonObject, at: Location): Map<string, { schema: unknown; location: Location }> {
  const out = new Map<string, { schema: unknown; location: Location }>();
  if (!isObject(holder.content)) return out;
  for (const [type, media] of Object.entries(holder.content)) {
    if (isObject(media)) out.set(type.toLowerCase(), { schema: media.schema, location: sub(at, "content", type) });
  }
  return out;
}

function diffRequestBody(s: Sides, label: string, b: Operation, h: Operation): void {
  const bb = b.value.requestBody === undefined ? undefined : s.base.deref(b.value.requestBody, sub(b.location, "requestBody"));
  const hb = h.value.requestBody === undefined ? undefined : s.head.deref(h.value.requestBody, sub(h.location, "requestBody"));
  const bRequired = isObject(bb?.value) && bb.value.required === true;
  const hRequired = isObject(hb?.value) && hb.value.required === true;
  if (!bb && hb) {
    s.sink.add(hRequired ? "request-body-added-required" : "request-body-added", label, `${hRequired ? "required" : "optional"} request body was added`, b.location, hb.location);
    return;
  }
  if (bb && !hb) {
    s.sink.add("request-body-removed", label, "request body was removed", bb.location, h.location);
    return;
  }
  if (!bb || !hb || !isObject(bb.value) || !isObject(hb.value)) return;
  if (!bRequired && hRequired) s.sink.add("request-body-became-required", label, "request body became required", bb.location, hb.location);
  if (bRequired && !hRequired) s.sink.add("request-body-became-optional", label, "request body became optional", bb.location, hb.location);
  const bc = content(bb.value, bb.location);
  const hc = content(hb.value, hb.location);
  for (const [type, bm] of bc) {
    const hm = hc.get(type);
    if (!hm) {
      s.sink.add("request-body-media-type-removed", label, `request media type ${type} is no longer accepted`, bm.location, hb.location);
      continue;
    }
    // A form's fields travel as text, as parameters do: a string field still takes what a number field did.
    const form = type === "application/x-www-form-urlencoded" || type === "multipart/form-data" ? "properties" : false;
    schemaChanges(s, label, "request-body", `request body (${type})`, { value: bm.schema, location: sub(bm.location, "schema") }, { value: hm.schema, location: sub(hm.location, "schema") }, "request", form);
  }
  for (const [type, hm] of hc) if (!bc.has(type)) s.sink.add("request-body-media-type-added", label, `request media type ${type} was added`, bb.location, hm.location);
}

function isSuccess(status: string): boolean {
  return /^[23]/.test(status);
}

function diffResponses(s: Sides, label: string, b: Operation, h: Operation): void {
  const br = isObject(b.value.responses) ? b.value.responses : {};
  const hr = isObject(h.value.responses) ? h.value.responses : {};
  for (const [status, rawB] of Object.entries(br)) {
    const bLoc = sub(b.location, "responses", status);
    if (!Object.hasOwn(hr, status)) {
      // Say what answers instead: "202 removed" alone does not tell a reviewer it became 200.
      const instead = Object.keys(hr).filter((x) => !Object.hasOwn(br, x) && isSuccess(x) === isSuccess(status));
      const now = instead.length ? ` (${status} -> ${instead.join(", ")})` : "";
      s.sink.add(isSuccess(status) ? "response-success-status-removed" : "response-non-success-status-removed", label, `response ${status} was removed${now}`, bLoc, sub(h.location, "responses"));
      continue;
    }
    const bResp = s.base.deref(rawB, bLoc);
    const hResp = s.head.deref(hr[status], sub(h.location, "responses", status));
    if (!bResp || !hResp || !isObject(bResp.value) || !isObject(hResp.value)) continue;
    const bc = content(bResp.value, bResp.location);
    const hc = content(hResp.value, hResp.location);
    for (const [type, bm] of bc) {
      const hm = hc.get(type);
      if (!hm) {
        s.sink.add("response-media-type-removed", label, `response ${status} media type ${type} was removed`, bm.location, hResp.location);
        continue;
      }
      schemaChanges(s, label, "response-body", `response ${status} (${type})`, { value: bm.schema, location: sub(bm.location, "schema") }, { value: hm.schema, location: sub(hm.location, "schema") }, "response");
    }
    for (const [type, hm] of hc) if (!bc.has(type)) s.sink.add("response-media-type-added", label, `response ${status} media type ${type} was added`, bResp.location, hm.location);
    diffResponseHeaders(s, label, status, bResp as { value: JsonObject; location: Location }, hResp as { value: JsonObject; location: Location });
  }
  for (const status of Object.keys(hr)) {
    if (!Object.hasOwn(br, status)) s.sink.add("response-status-added", label, `response ${status} was added`, sub(b.location, "responses"), sub(h.location, "responses", status));
  }
}

function diffResponseHeaders(s: Sides, label: string, status: string, b: { value: JsonObject; location: Location }, h: { value: JsonObject; location: Location }): void {
  const bh = isObject(b.value.headers) ? b.value.headers : {};
  const hh = isObject(h.value.headers) ? h.value.headers : {};
  const hNames = new Map(Object.keys(hh).map((n) => [n.toLowerCase(), n]));
  for (const [name, raw] of Object.entries(bh)) {
    const bHeader = s.base.deref(raw, sub(b.location, "headers", name));
    const hName = hNames.get(name.toLowerCase());
    if (hName === undefined) {
      const required = isObject(bHeader?.value) && bHeader.value.required === true;
      s.sink.add(required ? "response-required-header-removed" : "response-header-removed", label, `response ${status} header "${name}" was removed`, bHeader?.location, h.location);
      continue;
    }
    const hHeader = s.head.deref(hh[hName], sub(h.location, "headers", hName));
    if (!bHeader || !hHeader || !isObject(bHeader.value) || !isObject(hHeader.value)) continue;
    schemaChanges(s, label, "response-header", `response ${status} header "${name}"`, { value: bHeader.value.schema, location: sub(bHeader.location, "schema") }, { value: hHeader.value.schema, location: sub(hHeader.location, "schema") }, "response");
  }
}

function schemaChanges(s: Sides, label: string, place: SchemaPlace, where: string, b: { value: unknown; location: Location }, h: { value: unknown; location: Location }, direction: Direction, textual: Textual = false): void {
  if (b.value === undefined || h.value === undefined) return;
  for (const c of s.schemas.diff(b, h, direction, 0, textual)) {
    const reached = `${where}${c.path.length ? ` property ${propertyPath(c.path)}` : ""}`;
    // The same change object comes back for every operation sharing the component: its identity is written once.
    c.key ??= sourceKey(c);
    s.sink.addAtSource(
      `${place}-${c.suffix}`,
      c,
      { operation: label, where: reached },
      () => {
        // A switch is read by what switched, wherever it is written; other changes are named by
        // the more precise of their two places (a removed property is only in the base).
        if (c.details) return { source: c.detail, single: `${reached}: ${c.detail}` };
        const source = c.head && (!c.base || c.head.pointer.length >= c.base.pointer.length) ? c.head : c.base!;
        return { source: `${schemaPlaceLabel(source)}: ${c.detail}`, single: `${reached}: ${c.detail}` };
      },
      c.details ? () => foldDetails(place, c.details!) : undefined,
    );
  }
}

const LEVEL_RANK: Record<ChangeLevel, number> = { breaking: 0, warning: 1, info: 2 };

/** The differences under a switch, worst first, and the level they give it (info when none). */
function foldDetails(place: SchemaPlace, inner: readonly SchemaChange[]): { level: ChangeLevel; details: ChangeDetail[] } {
  const details: ChangeDetail[] = inner.map((d) => {
    const rule = `${place}-${d.suffix}`;
    const nested = d.details ? foldDetails(place, d.details).level : undefined;
    return { rule, level: nested ?? CHANGE_RULES[rule]?.level ?? "warning", message: `${d.path.length ? `property ${propertyPath(d.path)}: ` : ""}${d.detail}` };
  });
  details.sort((a, b) => LEVEL_RANK[a.level] - LEVEL_RANK[b.level]);
  return { level: details[0]?.level ?? "info", details };
}

/** One way to authenticate: every scheme it names must be satisfied, each with its scopes. */
type Requirement = Map<string, Set<string>>;

/** Effective security of an operation: its own, or the document's; undefined when neither says. */
function securityOf(doc: unknown, op: Operation): Requirement[] | undefined {
  const raw = op.value.security ?? (isObject(doc) ? doc.security : undefined);
  if (!Array.isArray(raw)) return undefined;
  return raw.filter(isObject).map((req) => new Map(Object.entries(req).map(([scheme, scopes]) => [scheme, new Set(Array.isArray(scopes) ? scopes.map(String) : [])])));
}

function showRequirement(r: Requirement): string {
  return [...r].sort(([a], [b]) => a.localeCompare(b)).map(([scheme, scopes]) => `${scheme}${scopes.size ? `[${[...scopes].sort().join(",")}]` : ""}`).join(" + ") || "none";
}

/** Does every caller who meets `strong` also meet `weak`? True when `weak` asks for nothing more. */
function satisfies(strong: Requirement, weak: Requirement): boolean {
  for (const [scheme, scopes] of weak) {
    const have = strong.get(scheme);
    if (!have) return false;
    for (const s of scopes) if (!have.has(s)) return false;
  }
  return true;
}

function sameSchemes(a: Requirement, b: Requirement): boolean {
  return a.size === b.size && [...a.keys()].every((k) => b.has(k));
}

function scopesOnlyIn(a: Requirement, b: Requirement): string[] {
  return [...a].flatMap(([scheme, scopes]) => [...scopes].filter((s) => !b.get(scheme)?.has(s)));
}

/**
 * Security requirements are alternatives (any one admits a caller), each a set of schemes with
 * scopes. A caller who met a base alternative is refused when no head alternative asks for the
 * same or less: that breaks them. A head alternative asking for less than a base one is a
 * loosening (a security change for the reviewer, never a breaking one).
 */
export function diffSecurity(s: Sides, baseDoc: unknown, headDoc: unknown, matched: Iterable<[Operation, Operation]>): void {
  for (const [b, h] of matched) {
    const label = operationLabel(h);
    const bs = securityOf(baseDoc, b) ?? [];
    const hs = securityOf(headDoc, h) ?? [];
    const open = (alts: Requirement[]) => alts.length === 0 || alts.some((a) => a.size === 0);
    const show = (alts: Requirement[]) => alts.map(showRequirement).join(" or ");
    const at = { b: sub(b.location, "security"), h: sub(h.location, "security") };
    if (open(bs) && !open(hs)) {
      s.sink.add("security-requirement-added", label, `now requires ${show(hs)}; it needed no credentials before`, at.b, at.h);
      continue;
    }
    if (!open(bs) && open(hs)) {
      s.sink.add("security-requirement-removed", label, `no longer declares a security requirement (was ${show(bs)})`, at.b, at.h);
      continue;
    }
    // Open to anyone before and after: what alternatives are written no longer matters.
    if (open(bs)) continue;
    const equal = (x: Requirement, y: Requirement) => satisfies(x, y) && satisfies(y, x);
    for (const alt of bs) {
      if (hs.some((x) => equal(x, alt))) continue;
      const weaker = hs.find((x) => satisfies(alt, x));
      const sibling = hs.find((x) => sameSchemes(x, alt));
      if (weaker) {
        // Still admitted, with less asked: say what is no longer asked for.
        if (sameSchemes(weaker, alt)) s.sink.add("security-scope-removed", label, `security requirement ${showRequirement(alt)} became ${showRequirement(weaker)}: scope ${scopesOnlyIn(alt, weaker).join(", ")} no longer needed`, at.b, at.h);
        else s.sink.add("security-requirement-loosened", label, `security requirement ${showRequirement(alt)} became ${showRequirement(weaker)}: callers now need less`, at.b, at.h);
      } else if (sibling) {
        s.sink.add("security-scope-added", label, `security requirement ${showRequirement(alt)} became ${showRequirement(sibling)}: scope ${scopesOnlyIn(sibling, alt).join(", ")} now needed`, at.b, at.h);
      } else {
        const stronger = hs.find((x) => satisfies(x, alt));
        s.sink.add("security-alternative-removed", label, stronger ? `security requirement ${showRequirement(alt)} became ${showRequirement(stronger)}: callers now need more` : `security requirement ${showRequirement(alt)} was removed`, at.b, at.h);
      }
    }
    for (const alt of hs) {
      if (bs.some((x) => equal(x, alt) || sameSchemes(x, alt) || satisfies(x, alt) || satisfies(alt, x))) continue;
      s.sink.add("security-alternative-added", label, `security requirement ${showRequirement(alt)} was added as an alternative`, at.b, at.h);
    }
  }
}

export function diffDocumentLevel(s: Sides, baseFile: string, headFile: string): void {
  const bd = s.base.get(baseFile)?.value;
  const hd = s.head.get(headFile)?.value;
  if (!isObject(bd) || !isObject(hd)) return;
  const urls = (d: JsonObject) => (Array.isArray(d.servers) ? d.servers.filter(isObject).map((x) => String(x.url)) : []);
  const bu = urls(bd);
  const hu = urls(hd);
  const removed = bu.filter((u) => !hu.includes(u));
  if (removed.length > 0) s.sink.add("servers-changed", undefined, `server${removed.length > 1 ? "s" : ""} ${removed.join(", ")} removed${hu.length ? `; servers are now ${hu.join(", ")}` : ""}`, { file: baseFile, pointer: "/servers" }, { file: headFile, pointer: hu.length ? "/servers" : "" });
  const bw = isObject(bd.webhooks) ? bd.webhooks : {};
  const hw = isObject(hd.webhooks) ? hd.webhooks : {};
  for (const name of Object.keys(bw)) if (!Object.hasOwn(hw, name)) s.sink.add("webhook-removed", undefined, `webhook "${name}" was removed`, { file: baseFile, pointer: joinPointer("/webhooks", name) });
}

function typeList(v: unknown): string[] {
  return typeof v === "string" ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

/** When a scalar parameter schema became an array of items accepting the old scalar types, the items schema. */
function scalarToArray(s: Sides, b: { value: unknown; location: Location }, h: { value: unknown; location: Location }): { value: unknown; location: Location } | undefined {
  const bv = s.base.deref(b.value, b.location)?.value;
  const hv = s.head.deref(h.value, h.location);
  if (!isObject(bv) || !hv || !isObject(hv.value)) return undefined;
  const bTypes = typeList(bv.type);
  if (bTypes.length === 0 || bTypes.includes("array") || bTypes.includes("object") || !typeList(hv.value.type).includes("array")) return undefined;
  const items = s.head.deref(hv.value.items, sub(hv.location, "items"));
  if (!items || !isObject(items.value)) return undefined;
  const itemTypes = typeList(items.value.type);
  // Parameter values travel as text: a string item accepts what an integer, number or boolean did.
  const accepts = (t: string) => itemTypes.length === 0 || itemTypes.includes(t) || itemTypes.includes("string") || (t === "integer" && itemTypes.includes("number"));
  return bTypes.every(accepts) ? items : undefined;
}
