import { describe, expect, it } from "vitest";
import { diffConfigs, type Change } from "../../src/diff/index.js";
import { body, config, doc, obj, response } from "./fixtures/contract-cases.js";

function changes(base: string, head: string): Change[] {
  return diffConfigs(config(base), config(head), { now: Date.parse("2026-11-23") }).changes;
}

const found = (base: string, head: string) => changes(base, head).map((c) => `${c.level} ${c.rule}`).sort();

const schemas = (s: Record<string, unknown>) => ({ components: { schemas: s } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const reason = ["false positive", "won't fix", "used in tests"];
const ssl = { type: "string", description: "0 verifies the certificate" };
const cat = obj({ name: { type: "string" }, meows: { type: "boolean" } }, ["name"]);
const dog = obj({ name: { type: "string" }, barks: { type: "boolean" } }, ["name"]);

/** Each row: small specs that reproduce one case of issue 20, and the whole set of changes it raises. */
const CASES: { name: string; base: string; head: string; expected: string[] }[] = [
  {
    name: "oneOf [enum of 3, null] rewritten as an enum of the same 3 plus null allows the same values",
    base: doc(response(obj({ dismissed_reason: { type: "string", nullable: true, oneOf: [{ enum: reason }, { enum: [null] }] } }))),
    head: doc(response(obj({ dismissed_reason: { type: "string", nullable: true, enum: [null, ...reason] } }))),
    expected: [],
  },
  {
    name: "oneOf [string, null] rewritten as a type list allows the same values",
    base: doc(body(obj({ note: { oneOf: [{ type: "string" }, { type: "null" }] } }))),
    head: doc(body(obj({ note: { type: ["string", "null"] } }))),
    expected: [],
  },
  {
    name: "an enum in a response that replaced a length limit its values all meet is judged as the enum (narrower)",
    base: doc(response(obj({ status: { type: "string", maxLength: 5000 } }))),
    head: doc(response(obj({ status: { type: "string", enum: ["failed", "pending", "succeeded"] } }))),
    expected: ["info response-body-became-enum"],
  },
  {
    name: "an enum in a request that replaced a length limit is judged as the enum (it refuses values)",
    base: doc(body(obj({ status: { type: "string", maxLength: 5000 } }))),
    head: doc(body(obj({ status: { type: "string", enum: ["failed", "pending"] } }))),
    expected: ["breaking request-body-became-enum"],
  },
  {
    name: "an enum with a value longer than the old limit still reports the limit removed",
    base: doc(response(obj({ status: { type: "string", maxLength: 3 } }))),
    head: doc(response(obj({ status: { type: "string", enum: ["succeeded"] } }))),
    expected: ["info response-body-became-enum", "warning response-body-max-length-removed"],
  },
  {
    name: "a request schema that became a oneOf with the old schema as one alternative is a widening",
    base: doc(body(obj({ insecure_ssl: ssl }))),
    head: doc(body(obj({ insecure_ssl: { oneOf: [ssl, { type: "number", minimum: 0 }] } }))),
    expected: ["info request-body-one-of-added"],
  },
  {
    name: "a request schema that became an anyOf with the old schema as one alternative is the same widening",
    base: doc(body(obj({ insecure_ssl: ssl }))),
    head: doc(body(obj({ insecure_ssl: { anyOf: [ssl, { type: "number", minimum: 0 }] } }))),
    expected: ["info request-body-any-of-added"],
  },
  {
    name: "a response schema that became a oneOf with the old schema as one alternative returns values clients do not expect",
    base: doc(response(obj({ insecure_ssl: ssl }))),
    head: doc(response(obj({ insecure_ssl: { oneOf: [ssl, { type: "number", minimum: 0 }] } }))),
    expected: ["breaking response-body-one-of-added"],
  },
  {
    name: "reordered anyOf alternatives pair by shape, not by position",
    base: doc(response(obj({ pet: { anyOf: [cat, dog] } }))),
    head: doc(response(obj({ pet: { anyOf: [dog, cat] } }))),
    expected: [],
  },
  {
    name: "reordered oneOf components pair by component, and a change inside one is still found",
    base: doc(response(obj({ pet: { oneOf: [ref("Cat"), ref("Dog")] } })), schemas({ Cat: cat, Dog: dog })),
    head: doc(response(obj({ pet: { oneOf: [ref("Dog"), ref("Cat")] } })), schemas({ Cat: obj({ name: { type: "string" }, meows: { type: "boolean" } }), Dog: dog })),
    expected: ["breaking response-body-property-became-optional"],
  },
  {
    name: "an inline alternative that keeps its title is the same alternative: an open object that gained a property is compared inside",
    base: doc(body(obj({ alipay: { anyOf: [{ type: "object", title: "options_param", properties: {} }, { type: "string", enum: [""] }] } }))),
    head: doc(body(obj({ alipay: { anyOf: [{ type: "object", title: "options_param", properties: { usage: { type: "string", enum: ["none", "off_session"] } } }, { type: "string", enum: [""] }] } }))),
    expected: ["info request-body-property-added"],
  },
  {
    name: "inline alternatives with different titles and no property in common are one removed and one added",
    base: doc(body(obj({ alipay: { anyOf: [{ type: "object", title: "options_param", properties: {} }, { type: "string", enum: [""] }] } }))),
    head: doc(body(obj({ alipay: { anyOf: [{ type: "object", title: "usage_param", properties: { usage: { type: "string", enum: ["none", "off_session"] } } }, { type: "string", enum: [""] }] } }))),
    expected: ["breaking request-body-any-of-removed", "info request-body-any-of-added"],
  },
  {
    name: "an alternative replaced by an unrelated one is one removed and one added",
    base: doc(response(obj({ pet: { anyOf: [cat, dog] } }))),
    head: doc(response(obj({ pet: { anyOf: [cat, obj({ wings: { type: "integer" } })] } }))),
    expected: ["breaking response-body-any-of-added", "info response-body-any-of-removed"],
  },
];

describe("alternatives and value sets are judged by what they allow", () => {
  it.each(CASES)("$name", ({ base, head, expected }) => {
    expect(found(base, head)).toEqual([...expected].sort());
  });

  it("names the alternatives in the message, the previous one and the new ones", () => {
    const [c] = changes(doc(body(obj({ v: ref("Plain") })), schemas({ Plain: obj({ a: { type: "string" } }), Rich: obj({ b: { type: "string" } }) })), doc(body(obj({ v: { anyOf: [ref("Plain"), ref("Rich")] } })), schemas({ Plain: obj({ a: { type: "string" } }), Rich: obj({ b: { type: "string" } }) })));
    expect(c!.message).toBe("request body (application/json) property v: the schema became an anyOf of 2 alternatives: the previous one (Plain) or Rich");
  });

  it("names a changed alternative by its component in the property path, not by its position", () => {
    const [c] = changes(doc(response(obj({ pet: { oneOf: [ref("Cat"), ref("Dog")] } })), schemas({ Cat: cat, Dog: dog })), doc(response(obj({ pet: { oneOf: [ref("Dog"), ref("Cat")] } })), schemas({ Cat: obj({ name: { type: "string" }, meows: { type: "boolean" } }), Dog: dog })));
    expect(c!.affected?.[0]?.where ?? c!.message).toContain("pet.oneOf[Cat].name");
  });
});

describe("a request schema wrapped in oneOf with alternatives that may overlap", () => {
  it("stays breaking: a value that matches two alternatives is refused by oneOf", () => {
    const both = obj({ foo: { type: "string" }, bar: { type: "string" } }, ["foo", "bar"]);
    const wrapped = { oneOf: [obj({ foo: { type: "string" }, bar: { type: "string" } }, ["foo"]), obj({ foo: { type: "string" }, bar: { type: "string" } }, ["bar"])] };
    expect(found(doc(body(both)), doc(body(wrapped)))).toEqual(["breaking request-body-one-of-introduced", "info request-body-property-became-optional"]);
  });
});

describe("a property that became optional and nullable at once", () => {
  it("is one change: it may now be null or absent", () => {
    const list = changes(doc(response(obj({ url: { type: "string" } }, ["url"]))), doc(response(obj({ url: { type: ["string", "null"] } }))));
    expect(list.map((c) => `${c.level} ${c.rule}: ${c.message}`)).toEqual(["breaking response-body-property-became-optional: response 200 (application/json) property url: may now be null or absent (became optional and nullable)"]);
  });

  it("stays two changes when only one of them happened to the property and the other elsewhere", () => {
    const list = changes(doc(response(obj({ url: { type: "string" }, id: { type: "string" } }, ["url"]))), doc(response(obj({ url: { type: "string" }, id: { type: ["string", "null"] } }))));
    expect(list.map((c) => c.rule).sort()).toEqual(["response-body-became-nullable", "response-body-property-became-optional"]);
  });
});
