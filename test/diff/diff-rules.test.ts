import { describe, expect, it } from "vitest";
import type { GatewayConfig } from "../../src/config/index.js";
import { CHANGE_RULES, diffConfigs, type Change } from "../../src/diff/index.js";
import { body, config, CONTRACT_CASES, doc, obj, query, response } from "./fixtures/contract-cases.js";

function changes(base: string, head: string): Change[] {
  return diffConfigs(config(base), config(head), { now: Date.parse("2026-11-23") }).changes;
}

function rules(base: string, head: string): string[] {
  return changes(base, head).map((c) => `${c.level} ${c.rule}`);
}

describe("contract changes a consumer can feel", () => {
  it.each(CONTRACT_CASES)("reports $name as $expected", ({ base, head, expected, also = [] }) => {
    // The whole set: a case that also raised a false alarm must fail. `also` lists what the head changes besides.
    expect(rules(base, head).sort()).toEqual([expected, ...also].sort());
    // And their words: each message names the old and new values (pinned in __snapshots__/, read it there).
    expect(changes(base, head).map((c) => `${c.level} ${c.rule}: ${c.message}`)).toMatchSnapshot();
  });

  it("reads a parameter's serialization with OpenAPI's defaults, so writing a default out changes nothing", () => {
    const ids = (more: Record<string, unknown> = {}) => doc(query("ids", { type: "array", items: { type: "string" } }, more));
    expect(changes(ids(), ids({ style: "form", explode: true }))).toEqual([]);
    expect(changes(ids(), ids({ explode: false })).map((c) => c.message)).toEqual(['query parameter "ids" serialization changed from form, explode true to form, explode false']);
  });

  it("reports nothing for identical documents", () => {
    expect(changes(doc(), doc())).toEqual([]);
  });

  it("matches operations by path template, so renaming a path parameter breaks nobody", () => {
    const renamed = doc().replaceAll("{id}", "{orderId}").replace('"name": "id"', '"name": "orderId"');
    expect(changes(doc(), renamed)).toEqual([]);
  });

  it("compares $refs by what they point to", () => {
    const inline = doc(body(obj({ a: { type: "string" } })));
    const viaRef = doc(body({ $ref: "#/components/schemas/Order" }), { components: { schemas: { Order: obj({ a: { type: "string" } }) } } });
    expect(changes(inline, viaRef)).toEqual([]);
  });

  it("terminates on circular schemas and still finds a change inside them", () => {
    const tree = (leafType: string) => doc(body({ $ref: "#/components/schemas/Node" }), { components: { schemas: { Node: obj({ label: { type: leafType }, children: { type: "array", items: { $ref: "#/components/schemas/Node" } } }) } } });
    expect(rules(tree("string"), tree("integer"))).toEqual(["breaking request-body-type-changed"]);
  });

  it("reads a query value that became an array of such values as a widening", () => {
    expect(rules(doc(query("tag", { type: "string" })), doc(query("tag", { type: "array", items: { type: "string" } })))).toEqual(["info request-parameter-type-widened"]);
  });

  it("reads a form field whose integer became a string as a widening (form fields travel as text), unlike a JSON property", () => {
    const form = (type: string) => doc({ requestBody: { content: { "application/x-www-form-urlencoded": { schema: obj({ n: { type } }) } } } });
    expect(rules(form("integer"), form("string"))).toEqual(["info request-body-type-widened"]);
    expect(rules(doc(body(obj({ n: { type: "integer" } }))), doc(body(obj({ n: { type: "string" } }))))).toEqual(["breaking request-body-type-changed"]);
  });

  it("ignores a maxItems written on a string schema: it constrains nothing", () => {
    expect(changes(doc(query("q", { type: "string", maxItems: 5 })), doc(query("q", { type: "string", maxItems: 1 })))).toEqual([]);
  });

  it("judges allOf by the merged schema, so a refactoring into one object changes nothing", () => {
    const composed = doc(response({ allOf: [obj({ id: { type: "string" } }, ["id"]), obj({ n: { type: "integer" } })] }));
    const merged = doc(response(obj({ id: { type: "string" }, n: { type: "integer" } }, ["id"])));
    expect(changes(composed, merged)).toEqual([]);
  });

  it("compares a schema newly wrapped in anyOf with the member that stands for it, not with the wrapper", () => {
    const components = (boleto: unknown) => ({ components: { schemas: { Boleto: obj({ days: { type: "integer" } }, ["days"]), Client: obj({ secret: { type: "string" } }), Options: obj({ boleto }) } } });
    const base = doc(response({ $ref: "#/components/schemas/Options" }), components({ $ref: "#/components/schemas/Boleto" }));
    const head = doc(response({ $ref: "#/components/schemas/Options" }), components({ anyOf: [{ $ref: "#/components/schemas/Client" }, { $ref: "#/components/schemas/Boleto" }] }));
    expect(rules(base, head)).toEqual(["breaking response-body-any-of-added"]);
    expect(rules(head, base)).toEqual(["info response-body-any-of-removed"]);
  });

  it("compares an array of a component newly wrapped in anyOf with the member that is an array of the same component", () => {
    const components = { components: { schemas: { Repo: obj({ name: { type: "string" } }, ["name"]), Starred: obj({ at: { type: "string" } }, ["at"]) } } };
    const repos = { type: "array", items: { $ref: "#/components/schemas/Repo" } };
    const starred = { type: "array", items: { $ref: "#/components/schemas/Starred" } };
    expect(rules(doc(response(repos), components), doc(response({ anyOf: [starred, repos] }), components))).toEqual(["breaking response-body-any-of-added"]);
  });

  it("places both sides of a change at file, line and column", () => {
    const base = doc(body(obj({ a: { type: "string", maxLength: 100 } })));
    const head = doc(body(obj({ a: { type: "string", maxLength: 50 } })));
    const [c] = changes(base, head);
    expect(c).toMatchObject({ operation: "POST /orders/{id}", message: "request body (application/json) property a: maxLength decreased from 100 to 50" });
    expect(c!.head).toMatchObject({ file: "openapi.json", pointer: "/paths/~1orders~1{id}/post/requestBody/content/application~1json/schema/properties/a/maxLength" });
    const line = head.split("\n").findIndex((l) => l.includes('"maxLength": 50')) + 1;
    expect(c!.head!.line).toBe(line);
  });

  it("keeps a change's fingerprint across commits that move it to another line", () => {
    const base = doc(body(obj({ a: { type: "string", maxLength: 100 } })));
    const head = doc(body(obj({ a: { type: "string", maxLength: 50 } })));
    const shifted = doc(body(obj({ a: { type: "string", maxLength: 50 } })), { tags: [{ name: "orders" }, { name: "more" }] });
    expect(changes(base, shifted).map((c) => c.fingerprint)).toEqual(changes(base, head).map((c) => c.fingerprint));
    expect(changes(base, head)[0]!.fingerprint).toMatch(/^[0-9a-f]{12}$/);
  });

  it("registers every rule it reports, with the level and category the registry gives it", () => {
    const all = [changes(doc(), doc({}, { paths: {} })), changes(doc(), doc(body(obj({})))), changes(doc(), doc({ operationId: "patchOrder" }))].flat();
    expect(all.map((c) => c.rule)).toEqual(["operation-removed-without-deprecation", "request-body-added-required", "operation-id-changed"]);
    for (const c of all) expect([c.level, c.category]).toEqual([CHANGE_RULES[c.rule]!.level, CHANGE_RULES[c.rule]!.category]);
  });
});

describe("repository settings", () => {
  const base = doc(query("status", { type: "string" }));
  const head = doc();
  const withSettings = (settings: Partial<GatewayConfig["settings"]["diff"]>, apiVersion = "1.0.0") => {
    const h = config(head.replace('"version": "1.0.0"', `"version": "${apiVersion}"`));
    return diffConfigs(config(base), h, { settings: { ...h.settings, diff: { ...h.settings.diff, ...settings } } });
  };

  it("lets a repository raise or silence a rule by id", () => {
    expect(withSettings({ severity: { "request-parameter-removed": "breaking" } }).summary.breaking).toBe(1);
    expect(withSettings({ severity: { "request-parameter-removed": "off" } }).changes).toEqual([]);
  });

  it("accepts a known change by fingerprint, with its reason, and a new change still counts", () => {
    const fingerprint = withSettings({}).changes[0]!.fingerprint;
    const report = withSettings({ severity: { "request-parameter-removed": "breaking" }, ignore: [{ fingerprint, reason: "clients migrated (API-12)" }] });
    expect(report.changes[0]!.accepted).toEqual({ reason: "clients migrated (API-12)" });
    expect(report.summary).toMatchObject({ breaking: 0, accepted: 1 });
  });

  it("accepts breaking contract changes when info.version's major number went up, if the repository allows it", () => {
    const report = withSettings({ severity: { "request-parameter-removed": "breaking" }, allowBreakingOnMajorVersion: true }, "2.0.0");
    expect(report.summary).toMatchObject({ breaking: 0, accepted: 1 });
    expect(report.changes[0]!.accepted?.reason).toMatch(/1\.0\.0 to 2\.0\.0/);
  });
});
