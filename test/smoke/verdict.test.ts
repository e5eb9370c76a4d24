import { describe, expect, it } from "vitest";
import { readConfig } from "../../src/config/index.js";
import { SmokeJudge, type SmokeAnswer, type SmokeVerdict } from "../../src/smoke/index.js";
import { snapshot } from "../helpers.js";

/** One operation, `GET /orders/{id}`, described in OpenAPI `version` with `responses`. */
function judgeFor(version: "3.0.3" | "3.1.0", responses: Record<string, unknown>, components: Record<string, unknown> = {}) {
  const doc = { openapi: version, info: { title: "t", version: "1" }, servers: [{ url: "http://127.0.0.1:9" }], paths: { "/orders": { get: { responses }, head: { responses } } }, components };
  const { config, diagnostics } = readConfig(snapshot({ "openapi.json": JSON.stringify(doc) }));
  if (!config) throw new Error(JSON.stringify(diagnostics));
  const judge = new SmokeJudge(config);
  return (answer: SmokeAnswer, method: "get" | "head" = "get") => judge.judge(config.operations.find((o) => o.method === method)!, answer);
}

const json = (status: number, body: unknown, contentType = "application/json"): SmokeAnswer => ({ status, contentType, body: typeof body === "string" ? body : JSON.stringify(body) });
const order = { type: "object", required: ["id", "status"], properties: { id: { type: "string" }, status: { type: "string", enum: ["open", "shipped"] } } };
const described = { "200": { description: "ok", content: { "application/json": { schema: order } } }, "404": { description: "none" } };

describe("the smoke test's verdict on an answer", () => {
  const cases: { name: string; version?: "3.0.3" | "3.1.0"; responses?: Record<string, unknown>; answer: SmokeAnswer; method?: "get" | "head"; verdict: SmokeVerdict | { outcome: string; reason: RegExp } }[] = [
    { name: "a body that fits the schema passes", answer: json(200, { id: "o-1", status: "open" }), verdict: { outcome: "passed" } },
    { name: "a value outside the enum fails, naming where and what is allowed", answer: json(200, { id: "o-1", status: "lost" }), verdict: { outcome: "failed", reason: /^body\.status must be one of "open", "shipped"$/ } },
    { name: "a missing required property fails, naming it", answer: json(200, { id: "o-1" }), verdict: { outcome: "failed", reason: /^body lacks the required property "status"$/ } },
    { name: "a wrong type deep in an array says the item's index", responses: { "200": { description: "ok", content: { "application/json": { schema: { type: "array", items: order } } } } }, answer: json(200, [{ id: "o-1", status: "open" }, { id: 2, status: "open" }]), verdict: { outcome: "failed", reason: /^body\[1\]\.id must be string$/ } },
    { name: "an undocumented status fails, listing the documented ones", answer: json(500, { error: "boom" }), verdict: { outcome: "failed", reason: /status 500 is not documented \(the description has 200, 404\)/ } },
    { name: "a documented status without content passes whatever the body", answer: json(404, "not here", "text/plain"), verdict: { outcome: "passed" } },
    { name: "a range like 2XX documents the status", responses: { "2XX": { description: "ok", content: { "application/json": { schema: order } } } }, answer: json(201, { id: "o-1", status: "open" }), verdict: { outcome: "passed" } },
    { name: "default documents any status", responses: { default: { description: "any" } }, answer: json(418, "teapot", "text/plain"), verdict: { outcome: "passed" } },
    { name: "an undocumented content type fails", answer: json(200, "<html>", "text/html; charset=utf-8"), verdict: { outcome: "failed", reason: /content type text\/html is not documented for 200 \(the description has application\/json\)/ } },
    { name: "a wildcard media type accepts any subtype", responses: { "200": { description: "ok", content: { "text/*": {} } } }, answer: json(200, "hi", "text/plain"), verdict: { outcome: "passed" } },
    { name: "a body that is not JSON though it says so fails", answer: json(200, "{not json"), verdict: { outcome: "failed", reason: /the body is not valid JSON/ } },
    { name: "a 502 from the gateway is the upstream's failure, not the contract's", answer: json(502, { type: "x", detail: "The upstream could not be reached or failed (ECONNREFUSED)" }, "application/problem+json"), verdict: { outcome: "unavailable", reason: /^upstream unavailable \(502: The upstream could not be reached or failed \(ECONNREFUSED\)\)$/ } },
    { name: "a 504 is the upstream's failure too", answer: json(504, ""), verdict: { outcome: "unavailable", reason: /^upstream unavailable \(504\)$/ } },
    { name: "an undocumented 429 is a rate limit, not a broken contract", answer: json(429, { detail: "Too many requests; retry in 60 s" }, "application/problem+json"), verdict: { outcome: "unavailable", reason: /^rate limited \(429: Too many requests; retry in 60 s\)$/ } },
    { name: "a documented 429 is judged like any status", responses: { "429": { description: "slow down", content: { "application/json": { schema: { type: "object", required: ["retryAfter"] } } } } }, answer: json(429, {}), verdict: { outcome: "failed", reason: /^body lacks the required property "retryAfter"$/ } },
    { name: "no answer at all is not judged", answer: { error: "no answer within 1 s" }, verdict: { outcome: "unavailable", reason: /no answer within 1 s/ } },
    { name: "a HEAD answer has no body to judge", method: "head", answer: { status: 200, contentType: "application/json", body: "" }, verdict: { outcome: "passed" } },
    { name: "OpenAPI 3.0's nullable allows null", version: "3.0.3", responses: { "200": { description: "ok", content: { "application/json": { schema: { type: "object", properties: { note: { type: "string", nullable: true } } } } } } }, answer: json(200, { note: null }), verdict: { outcome: "passed" } },
    { name: "OpenAPI 3.0 without nullable refuses null", version: "3.0.3", responses: { "200": { description: "ok", content: { "application/json": { schema: { type: "object", properties: { note: { type: "string" } } } } } } }, answer: json(200, { note: null }), verdict: { outcome: "failed", reason: /^body\.note must be string$/ } },
    { name: "a pattern is judged in linear time, so an answer cannot stall the app", responses: { "200": { description: "ok", content: { "application/json": { schema: { type: "object", properties: { sku: { type: "string", pattern: "^(a+)+$" } } } } } } }, answer: json(200, { sku: `${"a".repeat(40)}!` }), verdict: { outcome: "failed", reason: /^body\.sku must match pattern "\^\(a\+\)\+\$"$/ } },
    { name: "a response schema with a lookahead is not judged, and the row says why", responses: { "200": { description: "ok", content: { "application/json": { schema: { type: "object", properties: { sku: { type: "string", pattern: "^(?!x)" } } } } } } }, answer: json(200, { sku: "y" }), verdict: { outcome: "unavailable", reason: /^the body was not checked: the response schema of 200 has a pattern "\^\(\?!x\)" cannot be run in linear time/ } },
    { name: "OpenAPI 3.1's type list with null allows null", responses: { "200": { description: "ok", content: { "application/json": { schema: { type: "object", properties: { note: { type: ["string", "null"] } } } } } } }, answer: json(200, { note: null }), verdict: { outcome: "passed" } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const verdict = judgeFor(c.version ?? "3.1.0", c.responses ?? described)(c.answer, c.method);
      if ("reason" in c.verdict && c.verdict.reason instanceof RegExp) {
        expect(verdict.outcome).toBe(c.verdict.outcome);
        expect("reason" in verdict ? verdict.reason : "").toMatch(c.verdict.reason);
      } else expect(verdict).toEqual(c.verdict);
    });
  }

  it("follows $refs to a response and its schema in components", () => {
    const judge = judgeFor("3.1.0", { "200": { $ref: "#/components/responses/Order" } }, { responses: { Order: { description: "ok", content: { "application/json": { schema: { $ref: "#/components/schemas/Order" } } } } }, schemas: { Order: order } });
    expect(judge(json(200, { id: "o-1", status: "open" }))).toEqual({ outcome: "passed" });
    expect(judge(json(200, { id: "o-1", status: 3 }))).toMatchObject({ outcome: "failed", reason: "body.status must be string" });
  });
});
