import { isObject, joinPointer, type DocumentSet, type JsonObject, type Location } from "../config/index.js";
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
  if (s.type === undefined && s.nullable === undefined) nullable = false;
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

/**
 * Compares two JSON Schemas (OpenAPI 3.0 or 3.1) by what they allow. Each pair of schema
 * locations is compared once per direction and remembered: large APIs reuse components across
 * hundreds of operations. A pair already being compared higher up is a cycle and counts as equal.
 */
export class SchemaDiffer {
  private readonly memo = new Map<string, SchemaChange[]>();
  private readonly active = new Set<string>();

  constructor(
    private readonly baseDocs: DocumentSet,
    private readonly headDocs: DocumentSet,
  ) {}

  /**
   * `textual`: the schema is a value sent as text (a parameter's own value); "properties": its
   * properties are (the fields of a form-encoded request body).
   */
  diff(base: SchemaSide | undefined, head: SchemaSide | undefined, direction: Direction, depth = 0, textual: Textual = false): SchemaChange[] {
    const b = base ? this.baseDocs.deref(base.value, base.location) : undefined;
    const h = head ? this.headDocs.deref(head.value, head.location) : undefined;
    if (!b || !h || depth > MAX_DEPTH) return [];
    const key = `${direction}${textual === true ? "|t" : textual ? "|p" : ""}|${b.location.file}#${b.location.pointer}|${h.location.file}#${h.location.pointer}`;
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
    const b: SchemaSide = { value: fb.value, location: rawB.location };
    const h: SchemaSide = { value: fh.value, location: rawH.location };
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
    for (const { keyword, stem } of BOUNDS) {
      if (!applies(keyword, typeUnion)) continue;
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
      if (!applies(keyword, typeUnion)) continue;
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
        if (breq.has(name) && !hreq.has(name)) out.push({ suffix: "property-became-optional", path: [name], detail: "became optional", base: bl, head: hl });
        for (const c of this.diff({ value: bp[name], location: bl }, { value: hp[name], location: hl }, direction, depth + 1, textualSetting === "properties")) out.push({ ...c, path: [name, ...c.path] });
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
      for (const [i, j] of pairMembers(bl, hl, x.b.location, x.h.location, this.baseDocs, this.headDocs)) {
        const sb = { value: bl[i], location: { file: x.b.location.file, pointer: joinPointer(x.b.location.pointer, i) } };
        const sh = { value: hl[j], location: { file: x.h.location.file, pointer: joinPointer(x.h.location.pointer, j) } };
        for (const c of this.diff(sb, sh, direction, depth + 1)) out.push({ ...c, path: [`${keyword}[${j}]`, ...c.path] });
      }
      if (keyword === "oneOf" && bl.length === 0 && hl.length > 0) add("one-of-introduced", `the schema became a oneOf of ${hl.length} alternatives`, keyword);
      else if (hl.length > bl.length) add(`${stem}-added`, `${hl.length - bl.length} ${keyword} member(s) added (now ${hl.length})`, keyword);
      if (bl.length > hl.length) add(`${stem}-removed`, `${bl.length - hl.length} ${keyword} member(s) removed (now ${hl.length})`, keyword);
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
      const out = inner.map((c) => ({ ...c, path: [`${keyword}[${index}]`, ...c.path] }));
      if (wrappedNow) {
        const suffix = keyword === "oneOf" ? "one-of-introduced" : `${stem}-added`;
        out.push(this.change(suffix, [], `the schema became ${article(keyword)} ${keyword} of ${members.length} alternatives`, b, h, keyword));
      } else {
        out.push(this.change(`${stem}-removed`, [], `the ${keyword} of ${members.length} alternatives became one of them`, b, h, keyword));
      }
      return out;
    }
    return undefined;
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
  const restB = bl.map((_, i) => i).filter((i) => !usedB.has(i));
  const restH = hl.map((_, j) => j).filter((j) => !usedH.has(j));
  for (let n = 0; n < Math.min(restB.length, restH.length); n++) pairs.push([restB[n]!, restH[n]!]);
  return pairs;
}
