import { describe, expect, it } from "vitest";
import { readConfig, type GatewayConfig } from "../../src/config/index.js";
import { CHANGE_RULES, diffConfigs, type Change } from "../../src/diff/index.js";
import { snapshot } from "../helpers.js";

/** A plain OpenAPI document with one operation, POST /orders/{id}, whose parts a case replaces. */
function doc(op: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): string {
  const operation = {
    operationId: "updateOrder",
    parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
    responses: { "200": { description: "ok", content: { "application/json": { schema: { type: "object", properties: { id: { type: "string" } }, required: ["id"] } } } } },
    ...op,
  };
  return JSON.stringify({ openapi: "3.1.0", info: { title: "Orders", version: "1.0.0" }, servers: [{ url: "https://api.example.com" }], paths: { "/orders/{id}": { post: operation } }, ...extra }, null, 2);
}

function config(text: string): GatewayConfig {
  const { config } = readConfig(snapshot({ "openapi.json": text }));
  if (!config) throw new Error("fixture does not read");
  return config;
}

function changes(base: string, head: string): Change[] {
  return diffConfigs(config(base), config(head), { now: Date.parse("2026-11-23") }).changes;
}

function rules(base: string, head: string): string[] {
  return changes(base, head).map((c) => `${c.level} ${c.rule}`);
}

const body = (schema: unknown, required = true) => ({ requestBody: { required, content: { "application/json": { schema } } } });
const response = (schema: unknown, status = "200") => ({ responses: { [status]: { description: "ok", content: { "application/json": { schema } } } } });
const query = (name: string, schema: unknown, more: Record<string, unknown> = {}) => ({ parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }, { name, in: "query", schema, ...more }] });
const keyScheme = () => ({ components: { securitySchemes: { key: { type: "apiKey", in: "header", name: "X-Key" }, oauth: { type: "oauth2", flows: { clientCredentials: { tokenUrl: "https://auth.example.com/token", scopes: { read: "r", write: "w" } } } } } } });
const obj = (properties: Record<string, unknown>, required: string[] = [], more: Record<string, unknown> = {}) => ({ type: "object", properties, required, ...more });

describe("contract changes a consumer can feel", () => {
  it.each([
    { name: "an operation removed without deprecation", base: doc(), head: doc({}, { paths: {} }), expected: "breaking operation-removed-without-deprecation" },
    { name: "a deprecated operation removed", base: doc({ deprecated: true }), head: doc({}, { paths: {} }), expected: "warning operation-removed-after-deprecation" },
    { name: "a deprecated operation removed before its x-sunset", base: doc({ deprecated: true, "x-sunset": "2099-01-01" }), head: doc({}, { paths: {} }), expected: "breaking operation-removed-before-sunset" },
    { name: "an operation added", base: doc({}, { paths: {} }), head: doc(), expected: "info operation-added" },
    { name: "a required query parameter added", base: doc(), head: doc(query("status", { type: "string" }, { required: true })), expected: "breaking request-parameter-added-required" },
    { name: "an optional query parameter added", base: doc(), head: doc(query("status", { type: "string" })), expected: "info request-parameter-added" },
    { name: "a query parameter that became required", base: doc(query("status", { type: "string" })), head: doc(query("status", { type: "string" }, { required: true })), expected: "breaking request-parameter-became-required" },
    { name: "a query parameter removed", base: doc(query("status", { type: "string" })), head: doc(), expected: "warning request-parameter-removed" },
    { name: "a parameter moved from query to header", base: doc(query("trace", { type: "string" })), head: doc({ parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }, { name: "trace", in: "header", schema: { type: "string" } }] }), expected: "breaking request-parameter-location-changed" },
    { name: "a parameter's type changed", base: doc(query("limit", { type: "integer" })), head: doc(query("limit", { type: "boolean" })), expected: "breaking request-parameter-type-changed" },
    { name: "a parameter's format added", base: doc(query("since", { type: "string" })), head: doc(query("since", { type: "string", format: "date-time" })), expected: "breaking request-parameter-format-added" },
    { name: "a request enum value removed", base: doc(query("s", { type: "string", enum: ["a", "b"] })), head: doc(query("s", { type: "string", enum: ["a"] })), expected: "breaking request-parameter-enum-value-removed" },
    { name: "a response enum value added", base: doc(response(obj({ s: { type: "string", enum: ["a"] } }))), head: doc(response(obj({ s: { type: "string", enum: ["a", "b"] } }))), expected: "warning response-body-enum-value-added" },
    { name: "a request body that became required", base: doc(body(obj({}), false)), head: doc(body(obj({}), true)), expected: "breaking request-body-became-required" },
    { name: "a required request body added", base: doc(), head: doc(body(obj({}))), expected: "breaking request-body-added-required" },
    { name: "a request media type removed", base: doc(body(obj({}))), head: doc({ requestBody: { content: { "text/plain": { schema: { type: "string" } } } } }), expected: "breaking request-body-media-type-removed", also: ["info request-body-became-optional", "info request-body-media-type-added"] },
    { name: "a new required request property", base: doc(body(obj({ a: { type: "string" } }))), head: doc(body(obj({ a: { type: "string" }, b: { type: "string" } }, ["b"]))), expected: "breaking request-body-new-required-property" },
    { name: "a request maxLength lowered", base: doc(body(obj({ a: { type: "string", maxLength: 100 } }))), head: doc(body(obj({ a: { type: "string", maxLength: 50 } }))), expected: "breaking request-body-max-length-decreased" },
    { name: "a request maximum lowered", base: doc(body(obj({ n: { type: "integer", maximum: 10 } }))), head: doc(body(obj({ n: { type: "integer", maximum: 5 } }))), expected: "breaking request-body-max-decreased" },
    { name: "a request pattern added", base: doc(body(obj({ a: { type: "string" } }))), head: doc(body(obj({ a: { type: "string", pattern: "^[a-z]+$" } }))), expected: "breaking request-body-pattern-added" },
    { name: "request additionalProperties closed", base: doc(body(obj({ a: { type: "string" } }))), head: doc(body(obj({ a: { type: "string" } }, [], { additionalProperties: false }))), expected: "breaking request-body-additional-properties-closed" },
    { name: "a request number narrowed to integer", base: doc(body(obj({ n: { type: "number" } }))), head: doc(body(obj({ n: { type: "integer" } }))), expected: "breaking request-body-type-narrowed" },
    { name: "a request integer widened to number", base: doc(body(obj({ n: { type: "integer" } }))), head: doc(body(obj({ n: { type: "number" } }))), expected: "info request-body-type-widened" },
    { name: "a request property that became not nullable", base: doc(body(obj({ a: { type: ["string", "null"] } }))), head: doc(body(obj({ a: { type: "string" } }))), expected: "breaking request-body-became-not-nullable" },
    { name: "a response success status removed", base: doc(), head: doc({ responses: { "201": { description: "created" } } }), expected: "breaking response-success-status-removed", also: ["info response-status-added"] },
    { name: "a response media type removed", base: doc(), head: doc({ responses: { "200": { description: "ok", content: { "text/plain": { schema: { type: "string" } } } } } }), expected: "breaking response-media-type-removed", also: ["info response-media-type-added"] },
    { name: "a required response property removed", base: doc(), head: doc(response(obj({}))), expected: "breaking response-body-required-property-removed" },
    { name: "a response property that became optional", base: doc(), head: doc(response(obj({ id: { type: "string" } }))), expected: "breaking response-body-property-became-optional" },
    { name: "a response property that became nullable", base: doc(), head: doc(response(obj({ id: { type: ["string", "null"] } }, ["id"]))), expected: "breaking response-body-became-nullable" },
    { name: "a response property added", base: doc(), head: doc(response(obj({ id: { type: "string" }, at: { type: "string" } }, ["id"]))), expected: "info response-body-property-added" },
    { name: "a security requirement added to an open operation", base: doc(), head: doc({ security: [{ key: [] }] }, { components: { securitySchemes: { key: { type: "apiKey", in: "header", name: "X-Key" } } } }), expected: "breaking security-requirement-added" },
    { name: "servers changed", base: doc(), head: doc({}, { servers: [{ url: "https://v2.api.example.com" }] }), expected: "warning servers-changed", also: ["warning route-upstream-changed"] },
    { name: "a deprecated parameter removed before its sunset", base: doc(query("old", { type: "string" }, { deprecated: true, "x-sunset": "2099-01-01" })), head: doc(), expected: "breaking request-parameter-removed-before-sunset" },
    { name: "x-stability-level lowered", base: doc({ "x-stability-level": "stable" }), head: doc({ "x-stability-level": "beta" }), expected: "breaking operation-stability-decreased" },
    { name: "an operation marked deprecated", base: doc(), head: doc({ deprecated: true }), expected: "info operation-deprecated" },
    { name: "an operationId changed", base: doc(), head: doc({ operationId: "patchOrder" }), expected: "warning operation-id-changed" },
    { name: "a webhook removed", base: doc({}, { webhooks: { orderPaid: { post: { responses: { "200": { description: "ok" } } } } } }), head: doc(), expected: "breaking webhook-removed" },
    { name: "a parameter that became optional", base: doc(query("s", { type: "string" }, { required: true })), head: doc(query("s", { type: "string" })), expected: "info request-parameter-became-optional" },
    { name: "a parameter's style changed", base: doc(query("ids", { type: "array", items: { type: "string" } })), head: doc(query("ids", { type: "array", items: { type: "string" } }, { style: "pipeDelimited" })), expected: "breaking request-parameter-style-changed" },
    { name: "a deprecated parameter's sunset removed", base: doc(query("old", { type: "string" }, { deprecated: true, "x-sunset": "2099-01-01" })), head: doc(query("old", { type: "string" }, { deprecated: true })), expected: "breaking request-parameter-sunset-removed" },
    { name: "a deprecated parameter's sunset that is not a date", base: doc(query("old", { type: "string" }, { deprecated: true })), head: doc(query("old", { type: "string" }, { deprecated: true, "x-sunset": "soon" })), expected: "breaking request-parameter-sunset-invalid" },
    { name: "a parameter marked deprecated", base: doc(query("old", { type: "string" })), head: doc(query("old", { type: "string" }, { deprecated: true })), expected: "info request-parameter-deprecated" },
    { name: "a deprecated operation's sunset removed", base: doc({ deprecated: true, "x-sunset": "2099-01-01" }), head: doc({ deprecated: true }), expected: "breaking operation-sunset-removed" },
    { name: "a deprecated operation's sunset that is not a date", base: doc({ deprecated: true }), head: doc({ deprecated: true, "x-sunset": "next year" }), expected: "breaking operation-sunset-invalid" },
    { name: "an x-stability-level that is not a level", base: doc(), head: doc({ "x-stability-level": "experimental" }), expected: "breaking operation-stability-invalid" },
    { name: "an optional request body added", base: doc(), head: doc(body(obj({}), false)), expected: "info request-body-added" },
    { name: "the request body removed", base: doc(body(obj({}))), head: doc(), expected: "breaking request-body-removed" },
    { name: "a request body that became optional", base: doc(body(obj({}), true)), head: doc(body(obj({}), false)), expected: "info request-body-became-optional" },
    { name: "a request media type added", base: doc(body(obj({}))), head: doc({ requestBody: { content: { "application/json": { schema: obj({}) }, "application/xml": { schema: obj({}) } } } }), expected: "info request-body-media-type-added", also: ["info request-body-became-optional"] },
    { name: "an error status removed", base: doc({ responses: { "200": { description: "ok" }, "404": { description: "missing" } } }), head: doc({ responses: { "200": { description: "ok" } } }), expected: "warning response-non-success-status-removed" },
    { name: "a response status added", base: doc({ responses: { "200": { description: "ok" } } }), head: doc({ responses: { "200": { description: "ok" }, "404": { description: "missing" } } }), expected: "info response-status-added" },
    { name: "a response media type added", base: doc({ responses: { "200": { description: "ok", content: { "application/json": { schema: obj({}) } } } } }), head: doc({ responses: { "200": { description: "ok", content: { "application/json": { schema: obj({}) }, "text/csv": { schema: { type: "string" } } } } } }), expected: "info response-media-type-added" },
    { name: "a required response header removed", base: doc({ responses: { "200": { description: "ok", headers: { "X-Rate": { required: true, schema: { type: "integer" } } } } } }), head: doc({ responses: { "200": { description: "ok" } } }), expected: "breaking response-required-header-removed" },
    { name: "an optional response header removed", base: doc({ responses: { "200": { description: "ok", headers: { "X-Trace": { schema: { type: "string" } } } } } }), head: doc({ responses: { "200": { description: "ok" } } }), expected: "warning response-header-removed" },
    { name: "a response header's type widened", base: doc({ responses: { "200": { description: "ok", headers: { "X-Rate": { schema: { type: "integer" } } } } } }), head: doc({ responses: { "200": { description: "ok", headers: { "X-Rate": { schema: { type: "number" } } } } } }), expected: "breaking response-header-type-widened" },
    { name: "security requirements removed", base: doc({ security: [{ key: [] }] }, keyScheme()), head: doc({}, keyScheme()), expected: "warning security-requirement-removed" },
    { name: "one way to authenticate removed", base: doc({ security: [{ key: [] }, { oauth: [] }] }, keyScheme()), head: doc({ security: [{ key: [] }] }, keyScheme()), expected: "breaking security-alternative-removed" },
    { name: "another way to authenticate added", base: doc({ security: [{ key: [] }] }, keyScheme()), head: doc({ security: [{ key: [] }, { oauth: [] }] }, keyScheme()), expected: "info security-alternative-added" },
    { name: "a scope required", base: doc({ security: [{ oauth: ["read"] }] }, keyScheme()), head: doc({ security: [{ oauth: ["read", "write"] }] }, keyScheme()), expected: "breaking security-scope-added" },
  ] as { name: string; base: string; head: string; expected: string; also?: string[] }[])("reports $name as $expected", ({ base, head, expected, also = [] }) => {
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
    expect(rules(base, head)).toEqual(["warning response-body-any-of-added"]);
    expect(rules(head, base)).toEqual(["info response-body-any-of-removed"]);
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
