import { describe, expect, it } from "vitest";
import { readConfig, type GatewayConfig } from "../../src/config/index.js";
import { diffConfigs } from "../../src/diff/index.js";
import { snapshot } from "../helpers.js";

/** A plain OpenAPI document with GET /orders/{id}, whose operation fields and top level a case replaces. */
function doc(op: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): string {
  const operation = { operationId: "getOrder", parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }], responses: { "200": { description: "ok" } }, ...op };
  return JSON.stringify({ openapi: "3.1.0", info: { title: "Orders", version: "1.0.0" }, servers: [{ url: "https://api.example.com" }], paths: { "/orders/{id}": { get: operation } }, ...extra }, null, 2);
}

function config(text: string): GatewayConfig {
  const { config } = readConfig(snapshot({ "openapi.json": text }));
  if (!config) throw new Error("fixture does not read");
  return config;
}

/** Level, rule and message of every change, in the order reported. */
function found(base: string, head: string): string[] {
  return diffConfigs(config(base), config(head), { now: Date.parse("2026-11-23") }).changes.map((c) => `${c.level} ${c.rule}: ${c.message}`);
}

const gone = (op: Record<string, unknown>) => [doc(op), doc({}, { paths: {} })] as const;
const param = (p: Record<string, unknown>) => ({ parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }, p] });
const keyScheme = { components: { securitySchemes: { key: { type: "apiKey", in: "header", name: "X-Key" }, oauth: { type: "oauth2", flows: { clientCredentials: { tokenUrl: "https://auth.example.com/token", scopes: { read: "r", write: "w" } } } } } } };
const responses = (r: Record<string, unknown>) => ({ responses: r });

describe("operation changes at their edges", () => {
  it.each([
    { name: "a deprecated operation removed after its x-sunset date", sides: gone({ deprecated: true, "x-sunset": "2020-01-01" }), expected: ["warning operation-removed-after-deprecation: GET /orders/{id} was removed after being deprecated"] },
    { name: "a deprecated operation removed with an x-sunset that is not a date", sides: gone({ deprecated: true, "x-sunset": "soon" }), expected: ["breaking operation-removed-before-sunset: GET /orders/{id} was removed before its sunset date soon"] },
    { name: "an operation with an x-sunset but not deprecated, removed", sides: gone({ "x-sunset": "2099-01-01" }), expected: ["breaking operation-removed-without-deprecation: GET /orders/{id} was removed without being deprecated first"] },
    { name: "an x-sunset dropped as the operation becomes deprecated", sides: [doc({ "x-sunset": "2099-01-01" }), doc({ deprecated: true })], expected: ["info operation-deprecated: GET /orders/{id} is now deprecated"] },
    { name: "an x-sunset that stays not a date", sides: [doc({ deprecated: true, "x-sunset": "soon" }), doc({ deprecated: true, "x-sunset": "later" })], expected: [] },
    { name: "an x-sunset that becomes a date", sides: [doc({ deprecated: true, "x-sunset": "soon" }), doc({ deprecated: true, "x-sunset": "2099-01-01" })], expected: [] },
    { name: "an x-stability-level that stays invalid", sides: [doc({ "x-stability-level": "experimental" }), doc({ "x-stability-level": "experiment" })], expected: [] },
    { name: "an x-stability-level raised", sides: [doc({ "x-stability-level": "beta" }), doc({ "x-stability-level": "stable" })], expected: [] },
    { name: "an x-stability-level dropped", sides: [doc({ "x-stability-level": "stable" }), doc()], expected: [] },
    { name: "an x-stability-level lowered from an invalid one", sides: [doc({ "x-stability-level": "experimental" }), doc({ "x-stability-level": "draft" })], expected: [] },
    { name: "an operationId added where there was none", sides: [doc({ operationId: undefined }), doc()], expected: [] },
    { name: "a header parameter whose name changes case", sides: [doc(param({ name: "X-Trace", in: "header", schema: { type: "string" } })), doc(param({ name: "x-trace", in: "header", schema: { type: "string" } }))], expected: [] },
    { name: "a query parameter whose name changes case", sides: [doc(param({ name: "Status", in: "query", schema: { type: "string" } })), doc(param({ name: "status", in: "query", schema: { type: "string" } }))], expected: ['warning request-parameter-removed: query parameter "Status" was removed', 'info request-parameter-added: optional query parameter "status" was added'] },
    { name: "a path parameter that became an array", sides: [doc(), doc({ parameters: [{ name: "id", in: "path", required: true, schema: { type: "array", items: { type: "string" } } }] })], expected: ['breaking request-parameter-type-changed: path parameter "id": type changed from string to array'] },
    { name: "an error status 423 removed", sides: [doc(responses({ "200": { description: "ok" }, "423": { description: "locked" } })), doc()], expected: ["warning response-non-success-status-removed: response 423 was removed"] },
    { name: "a redirect status removed", sides: [doc(responses({ "200": { description: "ok" }, "302": { description: "moved" } })), doc()], expected: ["breaking response-success-status-removed: response 302 was removed"] },
    { name: "a response given by $ref whose schema changed", sides: [doc(responses({ "200": { $ref: "#/components/responses/Ok" } }), { components: { responses: { Ok: { description: "ok", content: { "application/json": { schema: { type: "string" } } } } } } }), doc(responses({ "200": { $ref: "#/components/responses/Ok" } }), { components: { responses: { Ok: { description: "ok", content: { "application/json": { schema: { type: "integer" } } } } } } })], expected: ["breaking response-body-type-changed: response 200 (application/json): type changed from string to integer"] },
    { name: "an optional response header whose type changed", sides: [doc(responses({ "200": { description: "ok", headers: { "X-Rate": { schema: { type: "string" } } } } })), doc(responses({ "200": { description: "ok", headers: { "X-Rate": { schema: { type: "integer" } } } } }))], expected: ['breaking response-header-type-changed: response 200 header "X-Rate": type changed from string to integer'] },
    { name: "security made optional by an empty alternative", sides: [doc({ security: [{ key: [] }] }, keyScheme), doc({ security: [{ key: [] }, {}] }, keyScheme)], expected: ["warning security-requirement-removed: no longer declares a security requirement (was key)"] },
    { name: "a query parameter given by content whose schema's type changed", sides: [doc(param({ name: "filter", in: "query", content: { "application/json": { schema: { type: "string" } } } })), doc(param({ name: "filter", in: "query", content: { "application/json": { schema: { type: "integer" } } } }))], expected: ['breaking request-parameter-type-narrowed: query parameter "filter": type changed from string to integer'] },
    { name: "a query parameter moved from schema into content, its type changed", sides: [doc(param({ name: "filter", in: "query", schema: { type: "integer" } })), doc(param({ name: "filter", in: "query", content: { "application/json": { schema: { type: "boolean" } } } }))], expected: ['breaking request-parameter-type-changed: query parameter "filter": type changed from integer to boolean'] },
    { name: "a query parameter with both schema and content (invalid), judged by its schema", sides: [doc(param({ name: "filter", in: "query", schema: { type: "string" }, content: { "application/json": { schema: { type: "string" } } } })), doc(param({ name: "filter", in: "query", schema: { type: "string" }, content: { "application/json": { schema: { type: "integer" } } } }))], expected: [] },
    { name: "a query parameter with an empty content map on both sides", sides: [doc(param({ name: "filter", in: "query", content: {} })), doc(param({ name: "filter", in: "query", content: {} }))], expected: [] },
    { name: "a query parameter whose content media type is null on both sides", sides: [doc(param({ name: "filter", in: "query", content: { "application/json": null } })), doc(param({ name: "filter", in: "query", content: { "application/json": null } }))], expected: [] },
    { name: "an explicitly open operation whose security is dropped", sides: [doc({ security: [{}] }, keyScheme), doc({ security: [] }, keyScheme)], expected: [] },
    { name: "an operation open to anyone that gains an empty alternative", sides: [doc({ security: [] }, keyScheme), doc({ security: [{}] }, keyScheme)], expected: [] },
    { name: "an optional key dropped, leaving the operation open as it was", sides: [doc({ security: [{ key: [] }, {}] }, keyScheme), doc({ security: [] }, keyScheme)], expected: [] },
    { name: "two alternatives replaced by one requiring both", sides: [doc({ security: [{ key: [] }, { oauth: ["read"] }] }, keyScheme), doc({ security: [{ key: [], oauth: ["read"] }] }, keyScheme)], expected: ["breaking security-alternative-removed: security requirement key became key + oauth[read]: callers now need more", "breaking security-alternative-removed: security requirement oauth[read] became key + oauth[read]: callers now need more"] },
    { name: "two servers removed", sides: [doc({}, { servers: [{ url: "https://a.example" }, { url: "https://b.example" }] }), doc({}, { servers: [{ url: "https://c.example" }] })], expected: ["warning servers-changed: servers https://a.example, https://b.example removed; servers are now https://c.example; upstream changed from https://a.example to https://c.example for 1 route"] },
    { name: "every server removed", sides: [doc(), doc({}, { servers: [] })], expected: ["breaking route-no-longer-served: GET /orders/{id} is still in the OpenAPI document but no longer served by the gateway", "warning servers-changed: server https://api.example.com removed"] },
    { name: "a webhook kept", sides: [doc({}, { webhooks: { paid: { post: { responses: { "200": { description: "ok" } } } } } }), doc({}, { webhooks: { paid: { post: { responses: { "200": { description: "ok" } } } } } })], expected: [] },
  ])("reports $name exactly", ({ sides: [base, head], expected }) => {
    expect(found(base, head)).toEqual(expected);
  });
});

describe("a parameter described by content", () => {
  it("has its schema change placed under its media type", () => {
    const filter = (type: string) => param({ name: "filter", in: "query", content: { "application/json": { schema: { type } } } });
    const changes = diffConfigs(config(doc(filter("string"))), config(doc(filter("integer"))), { now: Date.parse("2026-11-23") }).changes;
    const at = "/paths/~1orders~1{id}/get/parameters/1/content/application~1json/schema/type";
    expect(changes.map((c) => [c.rule, c.base?.pointer, c.head?.pointer])).toEqual([["request-parameter-type-narrowed", at, at]]);
  });
});
