import { compileLinearPattern, isObject, joinPointer, type DocumentSet, type JsonObject, type Location } from "../config/index.js";
import { article, BOUNDS, COMPOSITIONS, CONSTRAINTS } from "./rules.js";

export type Direction = "request" | "response";

/** How values travel: as JSON (false), as text (true: a parameter), or as text fields (a form body's properties). */
export type Textual = boolean | "properties";

export interface SchemaSide {
  value: unknown;
  location: Location;
}

/** A schema difference relative to the schema compared; callers add where that schema sits. */
export interface SchemaChange {
  suffix: string;
  /** Property path inside the compared schema: ["items", "[]", "name"]. */
  path: string[];
  detail: string;
  base: Location | undefined;
  head: Location | undefined;
  /** The change's identity at its source, kept once computed (see emit.ts sourceKey). */
  key?: string;
  /** For a switch from one component to another: what differs between the two, relative to the place. */
  details?: SchemaChange[];
  /** One change for every place where it is written (see emit.ts SourceAt.spread). */
  spread?: boolean;
}

/** The component a `$ref` names, when it names one under /components/schemas. */
function componentOf(v: unknown): string | undefined {
  if (!isObject(v) || typeof v.$ref !== "string") return undefined;
  const m = /#\/components\/schemas\/([^/]+)$/.exec(v.$ref);
  return m ? m[1]!.replace(/~1/g, "/").replace(/~0/g, "~") : undefined;
}

/** Suffixes that take a guarantee away from a response reader. */
const LOST_GUARANTEE = new Set(["required-property-removed", "property-became-optional", "became-nullable"]);

/** "29 properties no longer guaranteed, 2 other differences": what a switch changes, in a few words. */
function switchSummary(details: readonly SchemaChange[], direction: Direction): string {
  if (details.length === 0) return "it allows the same values";
  const lost = direction === "response" ? details.filter((d) => LOST_GUARANTEE.has(d.suffix)).length : 0;
  const required = direction === "request" ? details.filter((d) => d.suffix === "new-required-property" || d.suffix === "property-became-required").length : 0;
  const parts: string[] = [];
  if (lost) parts.push(`${lost} propert${lost === 1 ? "y" : "ies"} no longer guaranteed`);
  if (required) parts.push(`${required} propert${required === 1 ? "y" : "ies"} now required`);
  const rest = details.length - lost - required;
  if (rest) parts.push(`${rest} ${parts.length ? "other " : ""}difference${rest === 1 ? "" : "s"}`);
  return parts.join(", ");
}

const MAX_DEPTH = 48;

/** Keywords that only apply to values of one type: a maxItems on a string schema constrains nothing. */
const APPLIES_TO: Record<string, string> = {
  minimum: "number", exclusiveMinimum: "number", maximum: "number", exclusiveMaximum: "number", multipleOf: "number",
  minLength: "string", maxLength: "string", pattern: "string", format: "string", contentMediaType: "string", contentEncoding: "string", contentSchema: "string",
  minItems: "array", maxItems: "array", uniqueItems: "array", contains: "array", minContains: "array", maxContains: "array", prefixItems: "array", unevaluatedItems: "array",
  minProperties: "object", maxProperties: "object", propertyNames: "object", dependentRequired: "object", dependentSchemas: "object", patternProperties: "object", unevaluatedProperties: "object",
};

function applies(keyword: string, types: Set<string> | undefined): boolean {
  const t = APPLIES_TO[keyword];
  if (!t || !types) return true;
  return types.has(t) || (t === "number" && types.has("integer"));
}

/** Keywords that describe without constraining. */
const ANNOTATIONS = new Set(["title", "description", "example", "examples", "default", "deprecated", "readOnly", "writeOnly", "externalDocs", "xml", "$comment", "discriminator"]);

/** A pattern that matches every string is no pattern. */
function normalPattern(v: unknown): unknown {
  return v === "" || v === ".*" || v === "^.*$" || v === ".*$" || v === "^.*" ? undefined : v;
}

const SUNSET = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/** x-sunset as a time: undefined when absent, NaN when present but not an RFC 3339 date. */
export function sunsetOf(node: unknown): number | undefined {
  if (!isObject(node) || node["x-sunset"] === undefined) return undefined;
  const v = node["x-sunset"];
  return typeof v === "string" && SUNSET.test(v) ? Date.parse(v) : Number.NaN;
}

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? s.slice(0, 59) + "…" : s;
}

function typesOf(s: JsonObject): { types: Set<string> | undefined; nullable: boolean } {
  let types: Set<string> | undefined;
  if (typeof s.type === "string") types = new Set([s.type]);
  else if (Array.isArray(s.type)) types = new Set(s.type.filter((t): t is string => typeof t === "string"));
  let nullable = s.nullable === true || (types?.has("null") ?? false) || (Array.isArray(s.enum) && s.enum.includes(null));
  if (types) {
    types.delete("null");
    if (types.size === 0 && nullable) types = new Set(["null"]);
  }
  // Without a type, null is allowed only when an enum lists it (an untyped schema otherwise says nothing about null).
  if (s.type === undefined && s.nullable === undefined) nullable = Array.isArray(s.enum) && s.enum.includes(null);
  return { types, nullable };
}

/**
 * Is every value of type set `a` allowed by `b`? Integers are numbers; and for a parameter's own
 * value, which travels as text, a string also takes what a number or boolean was.
 */
function within(a: Set<string>, b: Set<string>, textual = false): boolean {
  for (const t of a) {
    if (b.has(t) || (t === "integer" && b.has("number"))) continue;
    if (textual && b.has("string") && (t === "integer" || t === "number" || t === "boolean")) continue;
    return false;
  }
  return true;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  for (const k of ka) if (!Object.hasOwn(b as object, k) || !deepEqual((a as JsonObject)[k], (b as JsonObject)[k])) return false;
  return true;
}

/** A comparison remembered by the pair of schema objects: where they were, and the result (undefined while it runs). */
interface NodeMemo {
  base: Location;
  head: Location;
  out: SchemaChange[] | undefined;
}

function samePlace(a: Location, b: Location): boolean {
  return a.pointer === b.pointer && a.file === b.file;
}

/**
 * Compares two JSON Schemas (OpenAPI 3.0 or 3.1) by what they allow. Each pair of schema
 * locations is compared once per direction and remembered: large APIs reuse components across
 * hundreds of operations. A pair already being compared higher up is a cycle and counts as equal.
 */
export class SchemaDiffer {
  private readonly memo = new Map<string, SchemaChange[]>();
  private readonly active = new Set<string>();
  private readonly nodeMemo = new Map<string, WeakMap<object, WeakMap<object, NodeMemo>>>();
  private readonly refFreeNodes = new WeakMap<object, boolean>();
  private readonly switches = new Map<string, SchemaChange[]>();

  constructor(
    private readonly baseDocs: DocumentSet,
    private readonly headDocs: DocumentSet,
  ) {}

  /**
   * `textual`: the schema is a value sent as text (a parameter's own value); "properties": its
   * properties are (the fields of a form-encoded request body).
   */
  diff(base: SchemaSide | undefined, head: SchemaSide | undefined, direction: Direction, depth = 0, textual: Textual = false): SchemaChange[] {
    const from = componentOf(base?.value);
    const to = componentOf(head?.value);
    const inner = this.diffResolved(base, head, direction, depth, textual);
    if (from === undefined || to === undefined || from === to) return inner;
    // Kept per place, like the comparison itself: the same $ref site is met once per operation reaching it.
    const at = `${direction}|${String(textual)}|${base!.location.file}#${base!.location.pointer}|${head!.location.file}#${head!.location.pointer}`;
    const known = this.switches.get(at);
    if (known) return known;
    const result = this.switched(base!, head!, from, to, inner, direction);
    this.switches.set(at, result);
    return result;
  }

  private switched(base: SchemaSide, head: SchemaSide, from: string, to: string, inner: SchemaChange[], direction: Direction): SchemaChange[] {
    // A component renamed (the old name gone from the head, the new one not in the base) is the same schema under another name.
    const fromStays = this.headDocs.deref(base.value, head.location) !== undefined;
    const toExisted = this.baseDocs.deref(head.value, base.location) !== undefined;
    if (!fromStays && !toExisted) return inner;
    // A place that now uses another component is one change, what differs between the two folded under it.
    return [{ suffix: "schema-switched", path: [], detail: `now uses \`${to}\` instead of \`${from}\`: ${switchSummary(inner, direction)}`, base: base.location, head: head.location, details: inner, spread: true }];
  }

  private diffResolved(base: SchemaSide | undefined, head: SchemaSide | undefined, direction: Direction, depth: number, textual: Textual): SchemaChange[] {
    const b = base ? this.baseDocs.deref(base.value, base.location) : undefined;
    const h = head ? this.headDocs.deref(head.value, head.location) : undefined;
    if (!b || !h || depth > MAX_DEPTH) return [];
    const mode = `${direction}${textual === true ? "|t" : textual ? "|p" : ""}`;
    // Parsed JSON has one object per place, so the pair of objects names the pair of places without
    // building (and hashing) a key of two long pointers on every visit; a place check keeps a YAML
    // alias (one object at two places) on the keyed path below.
    const bn = b.value;
    const hn = h.value;
    if (bn !== null && typeof bn === "object" && hn !== null && typeof hn === "object") {
      let byBase = this.nodeMemo.get(mode);
      if (!byBase) this.nodeMemo.set(mode, (byBase = new WeakMap()));
      let byHead = byBase.get(bn);
      if (!byHead) byBase.set(bn, (byHead = new WeakMap()));
      const known = byHead.get(hn);
      if (known === undefined) {
        // Written alike and reaching no other schema: nothing to find, whatever the rules.
        if (this.refFree(bn) && this.refFree(hn) && deepEqual(bn, hn)) {
          byHead.set(hn, { base: b.location, head: h.location, out: [] });
          return [];
        }
        const entry: NodeMemo = { base: b.location, head: h.location, out: undefined };
        byHead.set(hn, entry);
        const out = uniqueByPlace(this.compare(b, h, direction, depth, textual));
        entry.out = out;
        return out;
      }
      if (samePlace(known.base, b.location) && samePlace(known.head, h.location)) return known.out ?? []; // undefined: being compared higher up, a cycle
    }
    const key = `${mode}|${b.location.file}#${b.location.pointer}|${h.location.file}#${h.location.pointer}`;
    const cached = this.memo.get(key);
    if (cached) return cached;
    if (this.active.has(key)) return [];
    this.active.add(key);
    const out = uniqueByPlace(this.compare(b, h, direction, depth, textual));
    this.active.delete(key);
    this.memo.set(key, out);
    return out;
  }

  private compare(rawB: SchemaSide, rawH: SchemaSide, direction: Direction, depth: number, textualSetting: Textual): SchemaChange[] {
    const textual = textualSetting === true;
    const out: SchemaChange[] = [];
    // allOf members are merged into one view first: [A, B] refactored into one object allows the same values.
    const fb = flattenAllOf(this.baseDocs, rawB);
    const fh = flattenAllOf(this.headDocs, rawH);
    const b: SchemaSide = { value: scalarAlternativesMerged(this.baseDocs, fb.value, rawB.location), location: rawB.location };
    const h: SchemaSide = { value: scalarAlternativesMerged(this.headDocs, fh.value, rawH.location), location: rawH.location };
    const bs = b.value;
    const hs = h.value;
    const unwrapped = this.wrapping(b, h, direction, depth, textualSetting);
    if (unwrapped) return unwrapped;
    // Boolean schemas: true allows everything, false nothing.
    if (!isObject(bs) || !isObject(hs)) {
      if (bs === hs || (isObject(bs) && hs === true && Object.keys(bs).length === 0) || (isObject(hs) && bs === true && Object.keys(hs).length === 0)) return out;
      if (typeof bs === "boolean" || typeof hs === "boolean") {
        const tighter = hs === false || bs === true;
        out.push(this.change(tighter ? "type-narrowed" : "type-widened", [], `schema changed from ${show(bs)} to ${show(hs)}`, b, h, ""));
      }
      return out;
    }
    const at = (kw: string) => ({ b: { value: bs[kw], location: { file: b.location.file, pointer: joinPointer(b.location.pointer, kw) } }, h: { value: hs[kw], location: { file: h.location.file, pointer: joinPointer(h.location.pointer, kw) } } });
    const add = (suffix: string, detail: string, kw = "") => out.push(this.change(suffix, [], detail, b, h, kw));

    // type and nullability
    const bt = typesOf(bs);
    const ht = typesOf(hs);
    if (bt.types && ht.types) {
      if (!(within(bt.types, ht.types, textual) && within(ht.types, bt.types, textual))) {
        const suffix = within(ht.types, bt.types, textual) ? "type-narrowed" : within(bt.types, ht.types, textual) ? "type-widened" : "type-changed";
        add(suffix, `type changed from ${[...bt.types].join("|")} to ${[...ht.types].join("|")}`, "type");
      }
    } else if (!bt.types && ht.types && !COMPOSITIONS.some((c) => Array.isArray(bs[c.keyword]))) {
      add("type-narrowed", `type ${[...ht.types].join("|")} added where any type was allowed`, "type");
    } else if (bt.types && !ht.types && !COMPOSITIONS.some((c) => Array.isArray(hs[c.keyword]))) {
      add("type-widened", `type ${[...bt.types].join("|")} removed: any type is now allowed`, "type");
    }
    if (bt.nullable !== ht.nullable) add(ht.nullable ? "became-nullable" : "became-not-nullable", ht.nullable ? "null is now allowed" : "null is no longer allowed", "nullable");

    const typeUnion = bt.types && ht.types ? new Set([...bt.types, ...ht.types]) : undefined;

    // bounds
    // An enum that replaces a length limit or a pattern is judged as the enum, when every value it lists met the old limit.
    const enumReplaces = (keyword: string) => !Array.isArray(bs.enum) && Array.isArray(hs.enum) && hs[keyword] === undefined && bs[keyword] !== undefined && hs.enum.every((v) => v === null || meetsStringLimit(keyword, bs[keyword], v));
    for (const { keyword, stem } of BOUNDS) {
      if (!applies(keyword, typeUnion) || enumReplaces(keyword)) continue;
      const bv = bs[keyword];
      const hv = hs[keyword];
      if (typeof bv === "boolean" || typeof hv === "boolean") {
        // OpenAPI 3.0: exclusiveMinimum/Maximum are flags on minimum/maximum.
        if (Boolean(bv) !== Boolean(hv)) add(hv === true ? `${stem}-added` : `${stem}-removed`, `${keyword} ${hv === true ? "set" : "unset"}`, keyword);
        continue;
      }
      if (typeof bv !== "number" && typeof hv !== "number") continue;
      if (typeof bv !== "number") add(`${stem}-added`, `${keyword} ${show(hv)} added`, keyword);
      else if (typeof hv !== "number") add(`${stem}-removed`, `${keyword} ${show(bv)} removed`, keyword);
      else if (bv !== hv) {
        const up = hv > bv;
        const word = up ? "increased" : "decreased";
        add(`${stem}-${word}`, `${keyword} ${word} from ${bv} to ${hv}`, keyword);
      }
    }

    // enums
    const be = Array.isArray(bs.enum) ? bs.enum.filter((v) => v !== null) : undefined;
    const he = Array.isArray(hs.enum) ? hs.enum.filter((v) => v !== null) : undefined;
    if (!be && he) add("became-enum", `values restricted to ${show(he)}`, "enum");
    else if (be && !he) add("enum-removed", `enum ${show(be)} removed: any value of the type is allowed`, "enum");
    else if (be && he) {
      const removed = be.filter((v) => !he.some((w) => deepEqual(v, w)));
      const added = he.filter((v) => !be.some((w) => deepEqual(v, w)));
      for (const v of removed) add("enum-value-removed", `enum value ${show(v)} removed`, "enum");
      for (const v of added) add("enum-value-added", `enum value ${show(v)} added`, "enum");
    }

    // constraint keywords
    for (const { keyword, stem } of CONSTRAINTS) {
      if (!applies(keyword, typeUnion) || enumReplaces(keyword)) continue;
      const bv = keyword === "pattern" ? normalPattern(bs[keyword]) : bs[keyword];
      const hv = keyword === "pattern" ? normalPattern(hs[keyword]) : hs[keyword];
      if (bv === undefined && hv === undefined) continue;
      if (keyword === "uniqueItems") {
        if (Boolean(bv) !== Boolean(hv)) add(hv === true ? `${stem}-added` : `${stem}-removed`, `uniqueItems ${hv === true ? "required" : "no longer required"}`, keyword);
        continue;
      }
      if (bv === undefined) add(`${stem}-added`, `${keyword} ${show(hv)} added`, keyword);
      else if (hv === undefined) add(`${stem}-removed`, `${keyword} ${show(bv)} removed`, keyword);
      else if (keyword === "x-extensible-enum") {
        // Values may be added freely (clients must accept unknown ones); a removed one is refused in requests.
        if (Array.isArray(bv) && Array.isArray(hv)) for (const v of bv.filter((x) => !hv.some((w) => deepEqual(x, w)))) add("enum-value-removed", `x-extensible-enum value ${show(v)} removed`, keyword);
      } else if (!deepEqual(bv, hv)) add(`${stem}-changed`, `${keyword} changed from ${show(bv)} to ${show(hv)}`, keyword);
    }

    // default
    if (bs.default !== undefined && hs.default !== undefined && !deepEqual(bs.default, hs.default)) add("default-changed", `default changed from ${show(bs.default)} to ${show(hs.default)}`, "default");
    if (bs.deprecated !== true && hs.deprecated === true) add("deprecated", "marked deprecated", "deprecated");
    if (hs.deprecated === true) {
      const bSun = sunsetOf(bs);
      const hSun = sunsetOf(hs);
      if (bs.deprecated === true && bSun !== undefined && hSun === undefined) add("sunset-removed", `x-sunset ${show(bs["x-sunset"])} was removed`, "x-sunset");
      if (hSun !== undefined && Number.isNaN(hSun) && (bSun === undefined || !Number.isNaN(bSun))) add("sunset-invalid", `x-sunset ${show(hs["x-sunset"])} is not a date`, "x-sunset");
    }

    // object properties
    const bp = isObject(bs.properties) ? bs.properties : {};
    const hp = isObject(hs.properties) ? hs.properties : {};
    const breq = new Set(Array.isArray(bs.required) ? bs.required.filter((x): x is string => typeof x === "string") : []);
    const hreq = new Set(Array.isArray(hs.required) ? hs.required.filter((x): x is string => typeof x === "string") : []);
    const skip = (schema: unknown, docs: DocumentSet, loc: Location) => {
      const s = docs.deref(schema, loc)?.value;
      return isObject(s) && (direction === "request" ? s.readOnly === true : s.writeOnly === true);
    };
    for (const name of new Set([...Object.keys(bp), ...Object.keys(hp)])) {
      const bl = fb.props.get(name) ?? { file: b.location.file, pointer: joinPointer(b.location.pointer, "properties", name) };
      const hl = fh.props.get(name) ?? { file: h.location.file, pointer: joinPointer(h.location.pointer, "properties", name) };
      const inB = Object.hasOwn(bp, name);
      const inH = Object.hasOwn(hp, name);
      if ((inB && skip(bp[name], this.baseDocs, bl)) || (inH && skip(hp[name], this.headDocs, hl))) continue;
      if (inB && !inH) {
        const required = breq.has(name);
        out.push({ suffix: direction === "response" && required ? "required-property-removed" : "property-removed", path: [name], detail: `${required ? "required " : ""}property removed`, base: bl, head: h.location });
      } else if (!inB && inH) {
        const required = hreq.has(name);
        out.push({ suffix: direction === "request" && required ? "new-required-property" : "property-added", path: [name], detail: `${required ? "required " : "optional "}property added`, base: b.location, head: hl });
      } else {
        if (!breq.has(name) && hreq.has(name)) out.push({ suffix: "property-became-required", path: [name], detail: "became required", base: bl, head: hl });
        const inner = this.diff({ value: bp[name], location: bl }, { value: hp[name], location: hl }, direction, depth + 1, textualSetting === "properties");
        // Optional and nullable at once is one thing for a reader of the property: it may now be missing either way.
        const nullable = breq.has(name) && !hreq.has(name) ? inner.find((c) => c.path.length === 0 && c.suffix === "became-nullable") : undefined;
        if (breq.has(name) && !hreq.has(name)) out.push({ suffix: "property-became-optional", path: [name], detail: nullable ? "may now be null or absent (became optional and nullable)" : "became optional", base: bl, head: hl });
        for (const c of inner) if (c !== nullable) out.push({ ...c, path: [name, ...c.path] });
      }
    }
    // Required names without a property schema (allowed by JSON Schema) still bind callers.
    for (const name of hreq) if (!breq.has(name) && !Object.hasOwn(hp, name) && !Object.hasOwn(bp, name)) add("required-name-added", `${show(name)} was added to required, but no property of that name is defined`, "required");
    for (const name of breq) if (!hreq.has(name) && !Object.hasOwn(hp, name) && !Object.hasOwn(bp, name)) add("property-became-optional", `property ${show(name)} no longer required`, "required");

    // additionalProperties
    const bap = bs.additionalProperties;
    const hap = hs.additionalProperties;
    if (bap !== false && hap === false) add("additional-properties-closed", "additional properties are no longer allowed", "additionalProperties");
    else if (bap === false && hap !== undefined && hap !== false) add("additional-properties-opened", "additional properties are now allowed", "additionalProperties");
    else if (bap === false && hap === undefined) add("additional-properties-opened", "additional properties are now allowed", "additionalProperties");
    else if (isObject(bap) && isObject(hap)) {
      const x = at("additionalProperties");
      for (const c of this.diff(x.b, x.h, direction, depth + 1)) out.push({ ...c, path: ["*", ...c.path] });
    }

    // items
    if (bs.items !== undefined && hs.items !== undefined && !Array.isArray(bs.items) && !Array.isArray(hs.items)) {
      const x = at("items");
      for (const c of this.diff(x.b, x.h, direction, depth + 1)) out.push({ ...c, path: ["[]", ...c.path] });
    }

    // A new constraining allOf member is a new set of rules every value must meet; the merged view
    // above judges what it adds, this keeps the structural fact (removed members are left to the view).
    const allOfCount = (side: SchemaSide, docs: DocumentSet) =>
      (isObject(side.value) && Array.isArray(side.value.allOf) ? side.value.allOf : []).filter((m, i) => {
        const v = docs.deref(m, { file: side.location.file, pointer: joinPointer(side.location.pointer, "allOf", i) })?.value;
        return !isObject(v) || Object.keys(v).some((k) => !ANNOTATIONS.has(k) && !k.startsWith("x-"));
      }).length;
    const bAll = allOfCount(rawB, this.baseDocs);
    const hAll = allOfCount(rawH, this.headDocs);
    if (hAll > bAll) out.push(this.change("all-of-added", [], `${hAll - bAll} allOf member(s) added (now ${hAll})`, rawB, rawH, "allOf"));

    // composition (allOf was merged above)
    for (const { keyword, stem } of COMPOSITIONS) {
      if (keyword === "allOf") continue;
      const constraining = (list: unknown, docs: DocumentSet, loc: Location) =>
        (Array.isArray(list) ? list : []).filter((m, i) => {
          const v = docs.deref(m, { file: loc.file, pointer: joinPointer(loc.pointer, keyword, i) })?.value;
          return !isObject(v) || Object.keys(v).some((k) => !ANNOTATIONS.has(k) && !k.startsWith("x-"));
        });
      const bl = keyword === "allOf" ? constraining(bs[keyword], this.baseDocs, b.location) : Array.isArray(bs[keyword]) ? (bs[keyword] as unknown[]) : [];
      const hl = keyword === "allOf" ? constraining(hs[keyword], this.headDocs, h.location) : Array.isArray(hs[keyword]) ? (hs[keyword] as unknown[]) : [];
      if (bl.length === 0 && hl.length === 0) continue;
      const x = at(keyword);
      const pairs = pairMembers(bl, hl, x.b.location, x.h.location, this.baseDocs, this.headDocs);
      for (const [i, j] of pairs) {
        const sb = { value: bl[i], location: { file: x.b.location.file, pointer: joinPointer(x.b.location.pointer, i) } };
        const sh = { value: hl[j], location: { file: x.h.location.file, pointer: joinPointer(x.h.location.pointer, j) } };
        const name = memberName(this.headDocs, hl[j], sh.location, j);
        for (const c of this.diff(sb, sh, direction, depth + 1)) out.push({ ...c, path: [`${keyword}[${name}]`, ...c.path] });
      }
      // Alternatives that found no partner (by component or by shape) were added or removed.
      const addedNames = hl.map((m, j) => j).filter((j) => !pairs.some(([, pj]) => pj === j)).map((j) => memberName(this.headDocs, hl[j], { file: x.h.location.file, pointer: joinPointer(x.h.location.pointer, j) }, j));
      const removedNames = bl.map((m, i) => i).filter((i) => !pairs.some(([pi]) => pi === i)).map((i) => memberName(this.baseDocs, bl[i], { file: x.b.location.file, pointer: joinPointer(x.b.location.pointer, i) }, i));
      if (keyword === "oneOf" && bl.length === 0 && hl.length > 0) add("one-of-introduced", `the schema became a oneOf of ${hl.length} alternatives: ${hl.map((m, j) => memberName(this.headDocs, m, { file: x.h.location.file, pointer: joinPointer(x.h.location.pointer, j) }, j)).join(", ")}`, keyword);
      else if (addedNames.length > 0) add(`${stem}-added`, `${keyword} alternative${addedNames.length > 1 ? "s" : ""} ${addedNames.join(", ")} added (${bl.length} -> ${hl.length} alternatives)`, keyword);
      if (removedNames.length > 0) add(`${stem}-removed`, `${keyword} alternative${removedNames.length > 1 ? "s" : ""} ${removedNames.join(", ")} removed (${bl.length} -> ${hl.length} alternatives)`, keyword);
    }
    return out;
  }

  /**
   * A schema wrapped in oneOf/anyOf (or unwrapped from one) is compared with the member that
   * stands for it, and the composition change is reported once, instead of comparing the old
   * schema's properties with the wrapper's (which has none).
   */
  private wrapping(b: SchemaSide, h: SchemaSide, direction: Direction, depth: number, textual: Textual): SchemaChange[] | undefined {
    const bs = b.value;
    const hs = h.value;
    if (!isObject(bs) || !isObject(hs)) return undefined;
    const composed = (s: JsonObject) => ["oneOf", "anyOf"].some((k) => Array.isArray(s[k]) && (s[k] as unknown[]).length > 0);
    for (const { keyword, stem } of COMPOSITIONS) {
      if (keyword === "allOf") continue;
      const wrappedNow = !composed(bs) && Array.isArray(hs[keyword]) && (hs[keyword] as unknown[]).length > 0;
      const unwrappedNow = !composed(hs) && Array.isArray(bs[keyword]) && (bs[keyword] as unknown[]).length > 0;
      if (!wrappedNow && !unwrappedNow) continue;
      const [plain, composite, docs] = wrappedNow ? [b, h, this.headDocs] : [h, b, this.baseDocs];
      const members = (composite.value as JsonObject)[keyword] as unknown[];
      const listAt = { file: composite.location.file, pointer: joinPointer(composite.location.pointer, keyword) };
      const index = bestMember(plain, members, listAt, docs);
      if (index === -1) return undefined;
      const member = { value: members[index], location: { file: listAt.file, pointer: joinPointer(listAt.pointer, index) } };
      const inner = wrappedNow ? this.diff(b, member, direction, depth + 1, textual) : this.diff(member, h, direction, depth + 1, textual);
      const name = memberName(docs, members[index], member.location, index);
      const out = inner.map((c) => ({ ...c, path: [`${keyword}[${name}]`, ...c.path] }));
      const others = members.map((m, i) => i).filter((i) => i !== index).map((i) => memberName(docs, members[i], { file: listAt.file, pointer: joinPointer(listAt.pointer, i) }, i));
      // The old schema kept as one alternative: what it accepted (or returned) is still accepted, with more besides.
      // oneOf refuses a value that matches two alternatives: the old values still pass only when no other alternative can take them.
      const overlaps = keyword === "oneOf" && members.some((m, i) => i !== index && mayOverlap(docs.deref(m, { file: listAt.file, pointer: joinPointer(listAt.pointer, i) })?.value, docs.deref(member.value, member.location)?.value));
      if (wrappedNow && overlaps) out.push(this.change("one-of-introduced", [], `the schema became a oneOf of ${members.length} alternatives: the previous one (${name}) or ${others.join(", ")}; a value matching more than one of them is now refused`, b, h, keyword));
      else if (wrappedNow) out.push(this.change(`${stem}-added`, [], `the schema became ${article(keyword)} ${keyword} of ${members.length} alternatives: the previous one (${name}) or ${others.join(", ")}`, b, h, keyword));
      else out.push(this.change(`${stem}-removed`, [], `the ${keyword} of ${members.length} alternatives became one of them (${name}); ${others.join(", ")} no longer`, b, h, keyword));
      return out;
    }
    return undefined;
  }

  /** Does no $ref appear anywhere under this node? Known once per node. */
  private refFree(node: object): boolean {
    const known = this.refFreeNodes.get(node);
    if (known !== undefined) return known;
    let free = !Object.hasOwn(node, "$ref");
    if (free) {
      for (const k in node) {
        const v = (node as Record<string, unknown>)[k];
        if (v !== null && typeof v === "object" && !this.refFree(v)) {
          free = false;
          break;
        }
      }
    }
    this.refFreeNodes.set(node, free);
    return free;
  }

  private change(suffix: string, path: string[], detail: string, b: SchemaSide, h: SchemaSide, kw: string): SchemaChange {
    const base = kw && isObject(b.value) && b.value[kw] !== undefined ? { file: b.location.file, pointer: joinPointer(b.location.pointer, kw) } : b.location;
    const head = kw && isObject(h.value) && h.value[kw] !== undefined ? { file: h.location.file, pointer: joinPointer(h.location.pointer, kw) } : h.location;
    return { suffix, path, detail, base, head };
  }
}

/** "items[].name" from ["items", "[]", "name"]. */
export function propertyPath(path: readonly string[]): string {
  return path.reduce((acc, seg) => (seg === "[]" ? acc + "[]" : acc === "" ? seg : `${acc}.${seg}`), "");
}

/**
 * A change sits at one place in the base and head schemas, however many property paths lead to
 * it (shared components, expanded objects): it is kept once, with the shortest path found (the
 * one a reader recognises). What changed there counts too: three enum values removed share the
 * enum's place and are three changes.
 */
function uniqueByPlace(changes: SchemaChange[]): SchemaChange[] {
  const at = new Map<string, number>();
  const out: SchemaChange[] = [];
  for (const c of changes) {
    const key = `${c.suffix}|${c.base?.file}#${c.base?.pointer}|${c.head?.file}#${c.head?.pointer}|${c.detail}`;
    const i = at.get(key);
    if (i === undefined) {
      at.set(key, out.length);
      out.push(c);
    } else if (c.path.length < out[i]!.path.length) {
      out[i] = c;
    }
  }
  return out;
}

/**
 * A schema with its allOf members merged in: properties (first definition wins, with where it was
 * written), required names united, other keywords taken where the schema itself has none.
 */
function flattenAllOf(docs: DocumentSet, side: SchemaSide, depth = 0): { value: unknown; props: Map<string, Location> } {
  const s = side.value;
  const props = new Map<string, Location>();
  if (!isObject(s)) return { value: s, props };
  if (isObject(s.properties)) for (const name of Object.keys(s.properties)) props.set(name, { file: side.location.file, pointer: joinPointer(side.location.pointer, "properties", name) });
  if (!Array.isArray(s.allOf) || depth > 8) return { value: s, props };
  const merged: JsonObject = { ...s };
  delete merged.allOf;
  const properties: JsonObject = isObject(s.properties) ? { ...s.properties } : {};
  const required = new Set(Array.isArray(s.required) ? s.required : []);
  s.allOf.forEach((member: unknown, i: number) => {
    const m = docs.deref(member, { file: side.location.file, pointer: joinPointer(side.location.pointer, "allOf", i) });
    if (!m || !isObject(m.value)) return;
    const flat = flattenAllOf(docs, { value: m.value, location: m.location }, depth + 1);
    if (!isObject(flat.value)) return;
    for (const [name, v] of Object.entries(isObject(flat.value.properties) ? flat.value.properties : {})) {
      if (Object.hasOwn(properties, name)) continue;
      properties[name] = v;
      props.set(name, flat.props.get(name)!);
    }
    for (const r of Array.isArray(flat.value.required) ? flat.value.required : []) required.add(r);
    for (const [k, v] of Object.entries(flat.value)) if (k !== "properties" && k !== "required" && merged[k] === undefined) merged[k] = v;
  });
  if (Object.keys(properties).length > 0) merged.properties = properties;
  if (required.size > 0) merged.required = [...required];
  return { value: merged, props };
}

function locationKey(docs: DocumentSet, value: unknown, at: Location): string | undefined {
  const d = docs.deref(value, at);
  // Files may be named differently in base and head (two versions side by side): the pointer identifies the component.
  return d && typeof (value as { $ref?: unknown })?.$ref === "string" ? d.location.pointer : undefined;
}

function typeKey(v: unknown): string {
  return isObject(v) ? JSON.stringify(Array.isArray(v.type) ? [...v.type].sort() : (v.type ?? null)) : "";
}

/** The $ref an array schema's items are written as: an array of the same component stands for the array. */
function itemsRef(v: unknown): string | undefined {
  return isObject(v) && isObject(v.items) && typeof v.items.$ref === "string" ? v.items.$ref : undefined;
}

/** The member of a composition that stands for a plain schema: the same component, else an array of the same component, else the same type with the most property names in common. */
function bestMember(plain: SchemaSide, members: unknown[], listAt: Location, docs: DocumentSet): number {
  const plainRef = plain.location.pointer;
  let best = -1;
  let bestScore = 0;
  members.forEach((m, i) => {
    const at = { file: listAt.file, pointer: joinPointer(listAt.pointer, i) };
    const d = docs.deref(m, at);
    if (!d) return;
    let score = 0;
    if (d.location.pointer === plainRef && plainRef.startsWith("/components/")) score = 1000;
    else if (itemsRef(plain.value) !== undefined && itemsRef(plain.value) === itemsRef(d.value)) score = 500;
    else if (typeKey(d.value) === typeKey(plain.value) && typeKey(plain.value) !== "null") {
      const a = isObject(plain.value) && isObject(plain.value.properties) ? Object.keys(plain.value.properties) : [];
      const b = isObject(d.value) && isObject(d.value.properties) ? Object.keys(d.value.properties) : [];
      score = 1 + a.filter((k) => b.includes(k)).length;
    }
    if (score > bestScore) {
      best = i;
      bestScore = score;
    }
  });
  return best;
}

/** Members of two compositions paired by the component they refer to, the rest by position. */
function pairMembers(bl: unknown[], hl: unknown[], bAt: Location, hAt: Location, baseDocs: DocumentSet, headDocs: DocumentSet): [number, number][] {
  const pairs: [number, number][] = [];
  const usedH = new Set<number>();
  const usedB = new Set<number>();
  const hKeys = hl.map((m, j) => locationKey(headDocs, m, { file: hAt.file, pointer: joinPointer(hAt.pointer, j) }));
  bl.forEach((m, i) => {
    const k = locationKey(baseDocs, m, { file: bAt.file, pointer: joinPointer(bAt.pointer, i) });
    const j = k === undefined ? -1 : hKeys.findIndex((x, jj) => x === k && !usedH.has(jj));
    if (j !== -1) {
      pairs.push([i, j]);
      usedB.add(i);
      usedH.add(j);
    }
  });
  // The rest by shape (type, then property names and enum values in common), never by position:
  // a reordered list keeps its pairs.
  const hValues = hl.map((m, j) => headDocs.deref(m, { file: hAt.file, pointer: joinPointer(hAt.pointer, j) })?.value);
  for (const i of bl.map((_, i) => i).filter((i) => !usedB.has(i))) {
    const bv = baseDocs.deref(bl[i], { file: bAt.file, pointer: joinPointer(bAt.pointer, i) })?.value;
    let best = -1;
    let bestScore = 0;
    hValues.forEach((hv, j) => {
      if (usedH.has(j)) return;
      const score = shapeScore(bv, hv);
      if (score > bestScore) {
        best = j;
        bestScore = score;
      }
    });
    if (best === -1) continue;
    pairs.push([i, best]);
    usedH.add(best);
  }
  return pairs;
}

/** Can one value match both schemas? Judged by type alone: without a type on either side, it can. */
function mayOverlap(a: unknown, b: unknown): boolean {
  if (!isObject(a) || !isObject(b)) return true;
  const ta = typesOf(a).types;
  const tb = typesOf(b).types;
  if (!ta || !tb) return true;
  return within(ta, tb) || within(tb, ta) || [...ta].some((t) => tb.has(t) || (t === "integer" && tb.has("number")) || (t === "number" && tb.has("integer")));
}

/** How alike two alternatives look: 0 for different types, much more for the same title, else more for each property name or enum value in common. */
function shapeScore(a: unknown, b: unknown): number {
  if (!isObject(a) || !isObject(b) || typeKey(a) !== typeKey(b)) return 0;
  if (deepEqual(a, b)) return 10_000;
  // An inline alternative's title names it as a component's name would: the same title on both
  // sides is the same alternative, changed (an open object that gained its first properties, say).
  if (typeof a.title === "string" && a.title !== "" && a.title === b.title) return 5_000;
  const names = (v: JsonObject) => (isObject(v.properties) ? Object.keys(v.properties) : []);
  const values = (v: JsonObject) => (Array.isArray(v.enum) ? v.enum : []);
  const an = names(a);
  const bn = names(b);
  const commonNames = an.filter((k) => bn.includes(k)).length;
  // Two objects with nothing in common are different alternatives, not one that changed.
  if ((an.length > 0 || bn.length > 0) && commonNames === 0) return 0;
  return 1 + commonNames + values(a).filter((v) => values(b).some((w) => deepEqual(v, w))).length;
}

/** How an alternative is named in a message: its component, else its type, else its position. */
function memberName(docs: DocumentSet, member: unknown, at: Location, index: number): string {
  if (isObject(member) && typeof member.$ref === "string") return member.$ref.slice(member.$ref.lastIndexOf("/") + 1);
  const v = docs.deref(member, at)?.value;
  if (isObject(v)) {
    if (typeof v.title === "string" && v.title.length <= 40) return v.title;
    if (typeof v.type === "string") return `#${index + 1} (${v.type === "array" && isObject(v.items) && typeof v.items.$ref === "string" ? `array of ${v.items.$ref.slice(v.items.$ref.lastIndexOf("/") + 1)}` : v.type})`;
  }
  return `#${index + 1}`;
}

/** Does a string value meet the old schema's length limit or pattern? */
function meetsStringLimit(keyword: string, limit: unknown, value: unknown): boolean {
  if (typeof value !== "string") return false;
  if (keyword === "maxLength") return typeof limit === "number" && value.length <= limit;
  if (keyword === "minLength") return typeof limit === "number" && value.length >= limit;
  if (keyword === "pattern") {
    try {
      // Both sides come from a pull request: a backtracking engine would let one stall the diff.
      return typeof limit === "string" && compileLinearPattern(limit).test(value);
    } catch {
      return false;
    }
  }
  return false;
}

/** Keywords an alternative may carry and still be a plain list of values or types. */
const SCALAR_KEYS = new Set(["enum", "type", "nullable", ...ANNOTATIONS]);

/**
 * A oneOf/anyOf whose alternatives are only value lists and types (`[enum of 3, null]`) allows
 * exactly what one schema with their union allows: it is compared as that schema, so rewriting
 * one as the other changes nothing.
 */
function scalarAlternativesMerged(docs: DocumentSet, value: unknown, at: Location): unknown {
  if (!isObject(value)) return value;
  for (const keyword of ["oneOf", "anyOf"]) {
    const list = value[keyword];
    if (!Array.isArray(list) || list.length === 0 || (keyword === "oneOf" ? value.anyOf : value.oneOf) !== undefined) continue;
    const members = list.map((m, i) => docs.deref(m, { file: at.file, pointer: joinPointer(at.pointer, keyword, i) })?.value);
    if (!members.every((m) => isObject(m) && Object.keys(m).every((k) => SCALAR_KEYS.has(k) || k.startsWith("x-")))) return value;
    const objects = members as JsonObject[];
    const nullOnly = (m: JsonObject) => m.type === "null" || (Array.isArray(m.enum) && m.enum.length > 0 && m.enum.every((v) => v === null));
    const merged: JsonObject = { ...value };
    delete merged[keyword];
    const rest = objects.filter((m) => !nullOnly(m));
    const hasNull = rest.length < objects.length || objects.some((m) => m.nullable === true || (Array.isArray(m.type) && m.type.includes("null")));
    if (rest.every((m) => Array.isArray(m.enum))) merged.enum = [...rest.flatMap((m) => m.enum as unknown[]), ...(hasNull ? [null] : [])];
    else if (Array.isArray(value.enum)) return value;
    if (value.type === undefined) {
      const types = new Set(rest.flatMap((m) => (typeof m.type === "string" ? [m.type] : Array.isArray(m.type) ? m.type : [])));
      if (rest.every((m) => m.type !== undefined) && types.size > 0) merged.type = [...types, ...(hasNull ? ["null"] : [])];
    }
    if (hasNull) merged.nullable = true;
    return merged;
  }
  return value;
}
