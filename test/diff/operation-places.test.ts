import { describe, expect, it } from "vitest";
import { readConfig, type GatewayConfig } from "../../src/config/index.js";
import { diffConfigs, type Change } from "../../src/diff/index.js";
import { snapshot } from "../helpers.js";
import { CONTRACT_CASES } from "./fixtures/contract-cases.js";

/** A plain OpenAPI document with GET at `path` (by default /orders/{id}), whose operation fields and top level a case replaces. */
function api(op: Record<string, unknown> = {}, extra: Record<string, unknown> = {}, path = "/orders/{id}"): string {
  const operation = { operationId: "getOrder", parameters: [idParam], responses: { "200": { description: "ok" } }, ...op };
  return JSON.stringify({ openapi: "3.1.0", info: { title: "Orders", version: "1.0.0" }, servers: [{ url: "https://api.example.com" }], paths: { [path]: { get: operation } }, ...extra }, null, 2);
}

/** The config of one OpenAPI document; validation errors do not stop it (the diff runs on such configs too). */
function config(text: string): GatewayConfig {
  const { config } = readConfig(snapshot({ "openapi.json": text }));
  if (!config) throw new Error("fixture does not read");
  return config;
}

function diff(base: string, head: string): Change[] {
  return diffConfigs(config(base), config(head), { now: Date.parse("2026-11-23") }).changes;
}

/** Level, rule and message of every change, in the order reported. */
function found(base: string, head: string): string[] {
  return diff(base, head).map((c) => `${c.level} ${c.rule}: ${c.message}`);
}

/** Rule, base pointer and head pointer of every change, in the order reported. */
function placed(base: string, head: string): [string, string | undefined, string | undefined][] {
  return diff(base, head).map((c) => [c.rule, c.base?.pointer, c.head?.pointer]);
}

const idParam = { name: "id", in: "path", required: true, schema: { type: "string" } };
const withParam = (p: Record<string, unknown>) => ({ parameters: [idParam, p] });
const query = (schema: unknown) => withParam({ name: "q", in: "query", schema });
const textQuery = { name: "q", in: "query", content: { "text/plain": { schema: { type: "string" } } } };
const gone = (op: Record<string, unknown>) => [api(op), api({}, { paths: {} })] as const;
const twoPathParams = (id: unknown, second: unknown, name = "n") => api({ parameters: [{ name: "id", in: "path", required: true, schema: id }, { name, in: "path", required: true, schema: second }] }, {}, `/orders/{id}/items/{${name}}`);
const body = (type: string, properties: Record<string, unknown>) => ({ requestBody: { content: { [type]: { schema: { type: "object", properties } } } } });
const json = (mediaType: unknown) => ({ responses: { "200": { description: "ok", content: { "application/json": mediaType } } } });
const jsonString = json({ schema: { type: "string" } });
const rate = (header: unknown) => ({ responses: { "200": { description: "ok", headers: { "X-Rate": header } } } });
const schemes = { components: { securitySchemes: { key: { type: "apiKey", in: "header", name: "X-Key" }, basic: { type: "http", scheme: "basic" }, oauth: { type: "oauth2", flows: { clientCredentials: { tokenUrl: "https://auth.example.com/token", scopes: { read: "r", write: "w" } } } } } } };
const secured = (security: unknown) => api({ security }, schemes);

const op = "/paths/~1orders~1{id}/post";
const param = `${op}/parameters/1`;
const requestJson = `${op}/requestBody/content/application~1json`;
const responseJson = `${op}/responses/200/content/application~1json`;

/**
 * For each contract rule, where its change sends the reviewer in the base and in the head: the
 * keyword or value that changed, or (for something added or removed) the place that holds it.
 */
const PLACES: Record<string, [string | undefined, string | undefined]> = {
  "operation-removed-without-deprecation": [op, undefined],
  "operation-removed-after-deprecation": [op, undefined],
  "operation-removed-before-sunset": [op, undefined],
  "operation-added": [undefined, op],
  "operation-path-changed": [op, "/paths/~1purchases~1{id}/post"],
  "operation-path-template-changed": ["/paths/~1orders~1{from}...{to}/post", "/paths/~1orders~1{range}/post"],
  "request-parameter-added-required": [op, param],
  "request-parameter-added": [op, param],
  "request-parameter-removed": [param, op],
  "request-parameter-removed-before-sunset": [param, op],
  "request-parameter-location-changed": [param, param],
  "request-parameter-type-changed": [`${param}/schema/type`, `${param}/schema/type`],
  "request-parameter-format-added": [`${param}/schema`, `${param}/schema/format`],
  "request-parameter-enum-value-removed": [`${param}/schema/enum`, `${param}/schema/enum`],
  "request-parameter-sunset-removed": [`${param}/x-sunset`, param],
  "request-parameter-sunset-invalid": [param, `${param}/x-sunset`],
  "response-body-enum-value-added": [`${responseJson}/schema/properties/s/enum`, `${responseJson}/schema/properties/s/enum`],
  "request-body-added-required": [op, `${op}/requestBody`],
  "request-body-added": [op, `${op}/requestBody`],
  "request-body-removed": [`${op}/requestBody`, op],
  "request-body-media-type-removed": [requestJson, `${op}/requestBody`],
  "request-body-media-type-added": [`${op}/requestBody`, `${op}/requestBody/content/application~1xml`],
  "request-body-new-required-property": [`${requestJson}/schema`, `${requestJson}/schema/properties/b`],
  "request-body-max-length-decreased": [`${requestJson}/schema/properties/a/maxLength`, `${requestJson}/schema/properties/a/maxLength`],
  "request-body-max-decreased": [`${requestJson}/schema/properties/n/maximum`, `${requestJson}/schema/properties/n/maximum`],
  "request-body-pattern-added": [`${requestJson}/schema/properties/a`, `${requestJson}/schema/properties/a/pattern`],
  "request-body-additional-properties-closed": [`${requestJson}/schema`, `${requestJson}/schema/additionalProperties`],
  "request-body-type-narrowed": [`${requestJson}/schema/properties/n/type`, `${requestJson}/schema/properties/n/type`],
  "request-body-type-widened": [`${requestJson}/schema/properties/n/type`, `${requestJson}/schema/properties/n/type`],
  "response-success-status-removed": [`${op}/responses/200`, `${op}/responses`],
  "response-non-success-status-removed": [`${op}/responses/404`, `${op}/responses`],
  "response-status-added": [`${op}/responses`, `${op}/responses/404`],
  "response-media-type-removed": [responseJson, `${op}/responses/200`],
  "response-media-type-added": [`${op}/responses/200`, `${op}/responses/200/content/text~1csv`],
  "response-body-required-property-removed": [`${responseJson}/schema/properties/id`, `${responseJson}/schema`],
  "response-body-property-became-optional": [`${responseJson}/schema/properties/id`, `${responseJson}/schema/properties/id`],
  "response-body-property-added": [`${responseJson}/schema`, `${responseJson}/schema/properties/at`],
  "response-required-header-removed": [`${op}/responses/200/headers/X-Rate`, `${op}/responses/200`],
  "response-header-removed": [`${op}/responses/200/headers/X-Trace`, `${op}/responses/200`],
  "response-header-type-widened": [`${op}/responses/200/headers/X-Rate/schema/type`, `${op}/responses/200/headers/X-Rate/schema/type`],
  "operation-stability-decreased": [`${op}/x-stability-level`, `${op}/x-stability-level`],
  "operation-stability-invalid": [op, `${op}/x-stability-level`],
  "operation-sunset-removed": [`${op}/x-sunset`, op],
  "operation-sunset-invalid": [op, `${op}/x-sunset`],
  "operation-id-changed": [`${op}/operationId`, `${op}/operationId`],
  "security-alternative-removed": [`${op}/security`, `${op}/security`],
  "security-alternative-added": [`${op}/security`, `${op}/security`],
  "security-scope-removed": [`${op}/security`, `${op}/security`],
  "security-scope-added": [`${op}/security`, `${op}/security`],
  "security-requirement-loosened": [`${op}/security`, `${op}/security`],
  "servers-changed": ["/servers", "/servers"],
  "webhook-removed": ["/webhooks/orderPaid", undefined],
};

/** Contract rules whose places are left unpinned: the place given is not yet the one a reviewer should be sent to. */
const NOT_PINNED: Record<string, string> = {
  "operation-deprecated": "the head is the operation, not its `deprecated` keyword",
  "request-parameter-deprecated": "the head is the parameter, not its `deprecated` keyword",
  "request-parameter-became-required": "the head is the parameter, not its `required` keyword",
  "request-parameter-became-optional": "the base is the parameter, not its `required` keyword",
  "request-parameter-style-changed": "the head is the parameter, not its `style` keyword",
  "request-body-became-required": "the head is the request body, not its `required` keyword",
  "request-body-became-optional": "the base is the request body, not its `required` keyword",
  "request-body-became-not-nullable": "both sides are the property, not its `type` (nullability written in `type`)",
  "response-body-became-nullable": "both sides are the property, not its `type` (nullability written in `type`)",
  "security-requirement-added": "the base is an operation `security` that the base does not have",
  "security-requirement-removed": "the head is an operation `security` that the head does not have",
};

const ruleOf = (expected: string) => expected.split(" ")[1]!;

describe("where operation changes are placed", () => {
  it("decides a place for every contract rule", () => {
    const decided = [...Object.keys(PLACES), ...Object.keys(NOT_PINNED)].sort();
    expect(decided).toEqual(CONTRACT_CASES.map((c) => ruleOf(c.expected)).sort());
  });

  it("places every change at what changed", () => {
    const cases = CONTRACT_CASES.filter((c) => Object.hasOwn(PLACES, ruleOf(c.expected)));
    const actual = Object.fromEntries(
      cases.map((c) => {
        const rule = ruleOf(c.expected);
        return [rule, diff(c.base, c.head).filter((x) => x.rule === rule).map((x) => [x.base?.pointer, x.head?.pointer])];
      }),
    );
    expect(actual).toEqual(Object.fromEntries(Object.entries(PLACES).map(([rule, places]) => [rule, [places]])));
  });

  it("places a change inside a parameter that became an array at the array's items", () => {
    const base = api(query({ type: "string", maxLength: 10 }));
    const head = api(query({ type: "array", items: { type: "string", maxLength: 5 } }));
    const at = "/paths/~1orders~1{id}/get/parameters/1/schema";
    expect(placed(base, head)).toEqual([
      ["request-parameter-max-length-decreased", `${at}/maxLength`, `${at}/items/maxLength`],
      ["request-parameter-type-widened", at, at],
    ]);
  });

  it("places servers-changed at the head document when the head declares no servers at all", () => {
    const changes = placed(api(), api({}, { servers: undefined })).filter(([rule]) => rule === "servers-changed");
    expect(changes).toEqual([["servers-changed", "/servers", ""]]);
  });
});

describe("operation changes at the edges of their conditions", () => {
  it.each([
    // deprecation and sunset
    { name: "a deprecated operation removed on its x-sunset date", sides: gone({ deprecated: true, "x-sunset": "2026-11-23" }), expected: ["warning operation-removed-after-deprecation: GET /orders/{id} was removed after being deprecated"] },
    { name: "an operation no longer deprecated dropping its x-sunset", sides: [api({ deprecated: true, "x-sunset": "2099-01-01" }), api()], expected: [] },
    { name: "a parameter no longer deprecated dropping its x-sunset", sides: [api(withParam({ name: "old", in: "query", deprecated: true, "x-sunset": "2099-01-01", schema: { type: "string" } })), api(withParam({ name: "old", in: "query", schema: { type: "string" } }))], expected: [] },
    { name: "an operation deprecated without x-sunset staying so", sides: [api({ deprecated: true }), api({ deprecated: true })], expected: [] },
    { name: "a valid x-sunset added to a deprecated operation", sides: [api({ deprecated: true }), api({ deprecated: true, "x-sunset": "2099-01-01" })], expected: [] },
    { name: "an x-sunset that is not a date added to a deprecated operation", sides: [api({ deprecated: true }), api({ deprecated: true, "x-sunset": "soon" })], expected: ['breaking operation-sunset-invalid: x-sunset "soon" is not a date (use YYYY-MM-DD)'] },
    { name: "a valid x-sunset that becomes not a date", sides: [api({ deprecated: true, "x-sunset": "2099-01-01" }), api({ deprecated: true, "x-sunset": "soon" })], expected: ['breaking operation-sunset-invalid: x-sunset "soon" is not a date (use YYYY-MM-DD)'] },
    { name: "an x-stability-level unchanged", sides: [api({ "x-stability-level": "beta" }), api({ "x-stability-level": "beta" })], expected: [] },
    { name: "an operationId dropped", sides: [api(), api({ operationId: undefined })], expected: [] },
    // parameters
    { name: "a change to the first of two path parameters", sides: [twoPathParams({ type: "string" }, { type: "integer" }), twoPathParams({ type: "integer" }, { type: "integer" })], expected: ['breaking request-parameter-type-narrowed: path parameter "id": type changed from string to integer'] },
    { name: "the second of two path parameters renamed", sides: [twoPathParams({ type: "string" }, { type: "integer" }), twoPathParams({ type: "string" }, { type: "integer" }, "item")], expected: [] },
    { name: "a path parameter missing from the template replaced by another", sides: [api(withParam({ name: "a", in: "path", required: true, schema: { type: "string" } })), api(withParam({ name: "b", in: "path", required: true, schema: { type: "string" } }))], expected: ['breaking request-parameter-added-required: required path parameter "b" was added', 'warning request-parameter-removed: path parameter "a" was removed'] },
    { name: "a query parameter removed as a header parameter of another name is added", sides: [api(withParam({ name: "status", in: "query", schema: { type: "string" } })), api(withParam({ name: "X-Trace", in: "header", schema: { type: "string" } }))], expected: ['warning request-parameter-removed: query parameter "status" was removed', 'info request-parameter-added: optional header parameter "X-Trace" was added'] },
    { name: "a cookie parameter's default style form written out", sides: [api(withParam({ name: "s", in: "cookie", schema: { type: "string" } })), api(withParam({ name: "s", in: "cookie", style: "form", schema: { type: "string" } }))], expected: [] },
    { name: "a header parameter's default style simple written out", sides: [api(withParam({ name: "X-S", in: "header", schema: { type: "string" } })), api(withParam({ name: "X-S", in: "header", style: "simple", schema: { type: "string" } }))], expected: [] },
    { name: "a query parameter moved, unchanged, from schema into text/plain content", sides: [api(query({ type: "string" })), api(withParam(textQuery))], expected: [] },
    { name: "a query parameter moved, unchanged, from text/plain content into schema", sides: [api(withParam(textQuery)), api(query({ type: "string" }))], expected: [] },
    { name: "a query parameter given by text/plain content on both sides", sides: [api(withParam(textQuery)), api(withParam(textQuery))], expected: [] },
    { name: "a query parameter whose base schema is a $ref that does not resolve", sides: [api(query({ $ref: "#/components/schemas/Missing" })), api(query({ type: "array", items: { type: "string" } }))], expected: [] },
    // types as text and as JSON
    { name: "a query parameter from string to array of strings", sides: [api(query({ type: "string" })), api(query({ type: "array", items: { type: "string" } }))], expected: ['info request-parameter-type-widened: query parameter "q": type changed from a single value to an array of such values'] },
    { name: "a query parameter from integer to string", sides: [api(query({ type: "integer" })), api(query({ type: "string" }))], expected: ['info request-parameter-type-widened: query parameter "q": type changed from integer to string'] },
    { name: "a JSON body property from integer to string", sides: [api(body("application/json", { n: { type: "integer" } })), api(body("application/json", { n: { type: "string" } }))], expected: ["breaking request-body-type-changed: request body (application/json) property n: type changed from integer to string"] },
    { name: "a JSON request body from integer to string", sides: [api({ requestBody: { content: { "application/json": { schema: { type: "integer" } } } } }), api({ requestBody: { content: { "application/json": { schema: { type: "string" } } } } })], expected: ["breaking request-body-type-changed: request body (application/json): type changed from integer to string"] },
    { name: "a multipart/form-data field from integer to string", sides: [api(body("multipart/form-data", { n: { type: "integer" } })), api(body("multipart/form-data", { n: { type: "string" } }))], expected: ["info request-body-type-widened: request body (multipart/form-data) property n: type changed from integer to string"] },
    // scalar to array
    { name: "an integer-or-null query parameter becoming an array of integers", sides: [api(query({ type: ["integer", "null"] })), api(query({ type: "array", items: { type: "integer" } }))], expected: ['breaking request-parameter-type-changed: query parameter "q": type changed from integer to array', 'breaking request-parameter-became-not-nullable: query parameter "q": null is no longer allowed'] },
    { name: "an integer-or-null query parameter becoming an array of integers-or-null", sides: [api(query({ type: ["integer", "null"] })), api(query({ type: "array", items: { type: ["integer", "null"] } }))], expected: ['info request-parameter-type-widened: query parameter "q": type changed from a single value to an array of such values'] },
    { name: "a string query parameter becoming an array-or-null of strings", sides: [api(query({ type: "string" })), api(query({ type: ["array", "null"], items: { type: "string" } }))], expected: ['info request-parameter-type-widened: query parameter "q": type changed from a single value to an array of such values'] },
    { name: "an integer query parameter becoming an array of integers", sides: [api(query({ type: "integer" })), api(query({ type: "array", items: { type: "integer" } }))], expected: ['info request-parameter-type-widened: query parameter "q": type changed from a single value to an array of such values'] },
    { name: "an integer query parameter becoming an array of numbers", sides: [api(query({ type: "integer" })), api(query({ type: "array", items: { type: "number" } }))], expected: ['info request-parameter-type-widened: query parameter "q": type changed from a single value to an array of such values', 'info request-parameter-type-widened: query parameter "q": type changed from integer to number'] },
    { name: "an integer query parameter becoming an array of strings", sides: [api(query({ type: "integer" })), api(query({ type: "array", items: { type: "string" } }))], expected: ['info request-parameter-type-widened: query parameter "q": type changed from a single value to an array of such values', 'info request-parameter-type-widened: query parameter "q": type changed from integer to string'] },
    { name: "an integer query parameter becoming an array of booleans", sides: [api(query({ type: "integer" })), api(query({ type: "array", items: { type: "boolean" } }))], expected: ['breaking request-parameter-type-changed: query parameter "q": type changed from integer to array'] },
    { name: "a string query parameter becoming an array of numbers", sides: [api(query({ type: "string" })), api(query({ type: "array", items: { type: "number" } }))], expected: ['breaking request-parameter-type-changed: query parameter "q": type changed from string to array'] },
    { name: "an integer query parameter whose type list holds a non-string, becoming an array of integers", sides: [api(query({ type: ["integer", 5] })), api(query({ type: "array", items: { type: "integer" } }))], expected: ['info request-parameter-type-widened: query parameter "q": type changed from a single value to an array of such values'] },
    { name: "a string query parameter becoming an array of items without a type", sides: [api(query({ type: "string" })), api(query({ type: "array", items: {} }))], expected: ['info request-parameter-type-widened: query parameter "q": type changed from a single value to an array of such values', 'info request-parameter-type-widened: query parameter "q": type string removed: any type is now allowed'] },
    { name: "a string query parameter becoming an array without items", sides: [api(query({ type: "string" })), api(query({ type: "array" }))], expected: ['breaking request-parameter-type-changed: query parameter "q": type changed from string to array'] },
    { name: "an object query parameter becoming an array of strings", sides: [api(query({ type: "object" })), api(query({ type: "array", items: { type: "string" } }))], expected: ['breaking request-parameter-type-changed: query parameter "q": type changed from object to array'] },
    { name: "a query parameter of any type becoming an array of strings", sides: [api(query({})), api(query({ type: "array", items: { type: "string" } }))], expected: ['breaking request-parameter-type-narrowed: query parameter "q": type array added where any type was allowed'] },
    // responses and their headers
    { name: "a response whose base is a $ref that does not resolve", sides: [api({ responses: { "200": { $ref: "#/components/responses/Missing" } } }), api(jsonString)], expected: [] },
    { name: "a response whose head is a $ref that does not resolve", sides: [api(jsonString), api({ responses: { "200": { $ref: "#/components/responses/Missing" } } })], expected: [] },
    { name: "a response header whose base is a $ref that does not resolve", sides: [api(rate({ $ref: "#/components/headers/Missing" })), api(rate({ schema: { type: "string" } }))], expected: [] },
    { name: "a response header removed whose base is a $ref that does not resolve", sides: [api(rate({ $ref: "#/components/headers/Missing" })), api()], expected: ['warning response-header-removed: response 200 header "X-Rate" was removed'] },
    { name: "a required response header removed", sides: [api(rate({ required: true, schema: { type: "integer" } })), api()], expected: ['breaking response-required-header-removed: response 200 header "X-Rate" was removed'] },
    { name: "a response media type that becomes null", sides: [api(jsonString), api(json(null))], expected: ["breaking response-media-type-removed: response 200 media type application/json was removed"] },
    { name: "a response schema true dropped", sides: [api(json({ schema: true })), api(json({}))], expected: [] },
    { name: "a response schema true added", sides: [api(json({})), api(json({ schema: true }))], expected: [] },
    // security
    { name: "a security requirement written out of alphabetical order, removed", sides: [secured([{ oauth: ["write", "read"], key: [] }]), secured([])], expected: ["warning security-requirement-removed: no longer declares a security requirement (was key + oauth[read,write])"] },
    { name: "an alternative {key, oauth[read]} becoming {key, basic}", sides: [secured([{ key: [], oauth: ["read"] }]), secured([{ key: [], basic: [] }])], expected: ["breaking security-alternative-removed: security requirement key + oauth[read] was removed", "info security-alternative-added: security requirement basic + key was added as an alternative"] },
    { name: "two scopes no longer required at once", sides: [secured([{ oauth: ["read", "write"] }]), secured([{ oauth: [] }])], expected: ["warning security-scope-removed: security requirement oauth[read,write] became oauth: scope read, write no longer needed"] },
    { name: "two scopes required at once", sides: [secured([{ oauth: [] }]), secured([{ oauth: ["read", "write"] }])], expected: ["breaking security-scope-added: security requirement oauth became oauth[read,write]: scope read, write now needed"] },
    { name: "security with two alternatives added to an open operation", sides: [secured([]), secured([{ key: [] }, { oauth: ["read"] }])], expected: ["breaking security-requirement-added: now requires key or oauth[read]; it needed no credentials before"] },
    { name: "a security list that gains an entry which is not an object", sides: [secured([{ key: [] }]), secured([null, { key: [] }])], expected: [] },
    { name: "security scopes written as a string instead of a list", sides: [secured([{ key: [] }]), secured([{ key: "read" }])], expected: [] },
    // document level
    { name: "a server replaced by two", sides: [api(), api({}, { servers: [{ url: "https://c.example" }, { url: "https://d.example" }] })], expected: ["warning servers-changed: server https://api.example.com removed; servers are now https://c.example, https://d.example; upstream changed from https://api.example.com to https://c.example for 1 route"] },
    { name: "every server dropped with the servers list", sides: [api(), api({}, { servers: undefined })], expected: ["breaking route-no-longer-served: GET /orders/{id} is still in the OpenAPI document but no longer served by the gateway", "warning servers-changed: server https://api.example.com removed"] },
    { name: "a servers list losing an entry that is not an object", sides: [api({}, { servers: [null, { url: "https://api.example.com" }] }), api()], expected: [] },
  ])("reports $name exactly", ({ sides: [base, head], expected }) => {
    expect(found(base!, head!)).toEqual(expected);
  });
});

describe("a change in a component schema that two operations share", () => {
  /** GET /orders and GET /archive both answer with the component schema `name`. */
  const shared = (name: string, properties: Record<string, unknown>) =>
    JSON.stringify(
      {
        openapi: "3.1.0",
        info: { title: "Orders", version: "1.0.0" },
        servers: [{ url: "https://api.example.com" }],
        paths: Object.fromEntries(["/orders", "/archive"].map((p) => [p, { get: { responses: { "200": { description: "ok", content: { "application/json": { schema: { $ref: `#/components/schemas/${name}` } } } } } } }])),
        components: { schemas: { [name]: { type: "object", properties } } },
      },
      null,
      2,
    );
  const both = (where: string) => [
    { operation: "GET /orders", where },
    { operation: "GET /archive", where },
  ];

  it.each([
    { name: "a property removed, by the base's property", sides: [shared("Order", { id: { type: "string" }, note: { type: "string" } }), shared("Order", { id: { type: "string" } })], expected: [{ rule: "response-body-property-removed", message: "schema Order property note: property removed", affected: both("response 200 (application/json) property note") }] },
    { name: "a property added, by the head's property", sides: [shared("Order", { id: { type: "string" } }), shared("Order", { id: { type: "string" }, note: { type: "string" } })], expected: [{ rule: "response-body-property-added", message: "schema Order property note: optional property added", affected: both("response 200 (application/json) property note") }] },
    { name: "a property changed in a renamed component, by the head's name", sides: [shared("OrderA", { id: { type: "string" } }), shared("OrderB", { id: { type: "integer" } })], expected: [{ rule: "response-body-type-changed", message: "schema OrderB property id: type changed from string to integer", affected: both("response 200 (application/json) property id") }] },
  ])("names $name", ({ sides: [base, head], expected }) => {
    expect(diff(base!, head!).map((c) => ({ rule: c.rule, message: c.message, affected: c.affected }))).toEqual(expected);
  });
});
