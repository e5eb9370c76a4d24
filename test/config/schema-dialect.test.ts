import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { readConfig } from "../../src/config/index.js";
import { compileRelease, GatewayServer, MemoryRateLimitStore, Upstreams } from "../../src/gateway/index.js";
import { placed, positionOf, snapshot } from "../helpers.js";
import { forward, policiesFile, route, routesFile } from "./fixtures/seed.js";

const ROUTES = "config/routes.oas.json";
const POLICIES = "config/policies.json";
const validation = { name: "validate", policyType: "request-validation-inbound", handler: { export: "RequestValidationInboundPolicy", module: "$import(@zuplo/runtime)", options: { validateBody: "reject-and-log", validateQueryParameters: "reject-and-log" } } };

function withSchema(schema: unknown, openapi = "3.1.0", inbound = ["validate"]) {
  const body = { requestBody: { content: { "application/json": { schema } } } };
  const text = routesFile([{ method: "post", ...body, route: route(inbound, forward()) }]).replace('"openapi": "3.1.0"', `"openapi": "${openapi}"`);
  return { [ROUTES]: text, [POLICIES]: policiesFile([validation]) };
}

const errors = (files: Record<string, string>) => readConfig(snapshot(files)).diagnostics.filter((d) => d.severity === "error");

describe("schemas in an OpenAPI 3.1 document", () => {
  it("refuses a type typo inline, at the typo, saying what the dialect allows", () => {
    const files = withSchema({ type: "object", properties: { quantity: { type: "numbr" } } });
    const found = errors(files);
    expect(placed(found)).toEqual([{ rule: "schema-invalid", file: ROUTES, ...positionOf(files[ROUTES]!, '"numbr"'), severity: "error" }]);
    expect(found[0]!.message).toBe('This schema is not valid JSON Schema 2020-12 (the dialect of OpenAPI 3.1): "type" must be one of "array", "boolean", "integer", "null", "number", "object", "string" (or a list of them)');
  });

  it("refuses a type typo in a $ref'd file, where it is written, whether or not a route validates requests", () => {
    const files = { ...withSchema({ $ref: "schemas/order.json" }, "3.1.0", []), "config/schemas/order.json": JSON.stringify({ type: "object", properties: { quantity: { type: "numbr" } } }, null, 2) };
    files[POLICIES] = policiesFile([]);
    const found = errors(files);
    expect(placed(found)).toEqual([{ rule: "schema-invalid", file: "config/schemas/order.json", ...positionOf(files["config/schemas/order.json"]!, '"numbr"'), severity: "error" }]);
  });

  it("refuses a schema request validation cannot compile (a pattern that is not a regular expression)", () => {
    const files = withSchema({ type: "object", properties: { code: { type: "string", pattern: "([a-z]" } } });
    const found = errors(files);
    expect(found.map((d) => [d.rule, d.pointer])).toEqual([["schema-invalid", "/paths/~1api~1v1~1orders/post/requestBody/content/application~1json/schema/properties/code/pattern"]]);
    expect(found[0]!.message).toMatch(/^POST \/api\/v1\/orders: request-validation-inbound cannot compile the schema of the request body: pattern "\(\[a-z\]" is not a regular expression \(Invalid regular expression/);
  });

  it("accepts valid 2020-12 schemas, booleans and $defs included", () => {
    expect(errors(withSchema({ type: ["object", "null"], $defs: { n: { type: "integer" } }, properties: { a: { type: "integer", exclusiveMinimum: 0 }, b: true }, prefixItems: [true], unevaluatedProperties: false }))).toEqual([]);
  });
});

describe("a 500 the gateway answers", () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    while (closers.length) await closers.pop()!();
  });

  it("carries the request id the access log has", async () => {
    // A release built past validation (as no deploy does) so that its validator throws at run time.
    const { config } = readConfig(snapshot(withSchema({ type: "object", properties: { code: { type: "string", pattern: "([a-z]" } } })));
    const upstreams = new Upstreams();
    const release = compileRelease(config!, { name: "local", vars: {}, consumers: [] }, { upstreams, rateLimitStore: new MemoryRateLimitStore(), log: () => {}, maxBodyBytes: 1024, bodyTimeoutMs: 1000 });
    const logged: string[] = [];
    const gateway = new GatewayServer({ baseDomain: "gitway.test", fallbackEnvironment: "local", log: () => {}, accessLog: (e) => void logged.push(e.requestId) });
    gateway.deploy("local", release);
    const port = await gateway.listen(0);
    closers.push(async () => {
      await gateway.close();
      await upstreams.close();
    });
    const r = await request(`http://127.0.0.1:${port}/api/v1/orders`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    const body = (await r.body.json()) as { status: number; trace: { requestId: string } };
    expect(body.status).toBe(500);
    expect(body.trace.requestId).not.toBe("");
    expect(r.headers["x-request-id"]).toBe(body.trace.requestId);
    expect(logged).toEqual([body.trace.requestId]);
  });
});
