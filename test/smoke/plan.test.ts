import { describe, expect, it } from "vitest";
import { readConfig, type GatewayConfig } from "../../src/config/index.js";
import { planSmoke } from "../../src/smoke/index.js";
import { snapshot } from "../helpers.js";

/** A plain OpenAPI document with one path; every operation forwards to a loopback upstream. */
function configOf(paths: Record<string, unknown>, extra: Record<string, unknown> = {}): GatewayConfig {
  const doc = { openapi: "3.1.0", info: { title: "t", version: "1" }, servers: [{ url: "http://127.0.0.1:9" }], paths, ...extra };
  const { config, diagnostics } = readConfig(snapshot({ "openapi.json": JSON.stringify(doc) }));
  if (!config) throw new Error(JSON.stringify(diagnostics));
  return config;
}

const ok = { "200": { description: "ok" } };
const limits = { maxRequests: 50, unsafe: false };

describe("the smoke test's plan", () => {
  const cases: { name: string; paths: Record<string, unknown>; settings?: Partial<typeof limits>; sent: string[]; skipped?: [string, RegExp][] }[] = [
    { name: "an operation without parameters is sent as it is", paths: { "/things": { get: { responses: ok } } }, sent: ["GET /things"] },
    {
      name: "a required path parameter takes its example, URL-encoded",
      paths: { "/things/{id}": { get: { parameters: [{ name: "id", in: "path", required: true, example: "a b/c", schema: { type: "string" } }], responses: ok } } },
      sent: ["GET /things/a%20b%2Fc"],
    },
    {
      name: "a parameter without its own example takes its schema's (3.1 examples list)",
      paths: { "/things/{id}": { get: { parameters: [{ name: "id", in: "path", required: true, schema: { type: "integer", examples: [42] } }], responses: ok } } },
      sent: ["GET /things/42"],
    },
    {
      name: "the first of a parameter's named examples is used",
      paths: { "/search": { get: { parameters: [{ name: "q", in: "query", required: true, examples: { first: { value: "cups" }, second: { value: "kettles" } } }], responses: ok } } },
      sent: ["GET /search?q=cups"],
    },
    {
      name: "an array example of a query parameter is sent as repeated values",
      paths: { "/search": { get: { parameters: [{ name: "tag", in: "query", required: true, example: ["a", "b"], schema: { type: "array", items: { type: "string" } } }], responses: ok } } },
      sent: ["GET /search?tag=a&tag=b"],
    },
    {
      name: "optional parameters are left out",
      paths: { "/search": { get: { parameters: [{ name: "q", in: "query", required: false, example: "cups" }], responses: ok } } },
      sent: ["GET /search"],
    },
    {
      name: "a required parameter without any example is not sent, saying which",
      paths: { "/things/{id}": { get: { parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }], responses: ok } } },
      sent: [],
      skipped: [["GET /things/{id}", /no example for the required path parameter "id"/]],
    },
    {
      name: "a POST is not sent unless unsafe methods are allowed",
      paths: { "/things": { post: { responses: ok } } },
      sent: [],
      skipped: [["POST /things", /POST is not a safe method \(previews\.smoke\.unsafe: true replays it\)/]],
    },
    {
      name: "with unsafe allowed, a POST with a required body sends the body's example",
      paths: { "/things": { post: { requestBody: { required: true, content: { "application/json": { example: { name: "cup" } } } }, responses: ok } } },
      settings: { unsafe: true },
      sent: ['POST /things {"name":"cup"}'],
    },
    {
      name: "a required body without an example is not sent",
      paths: { "/things": { put: { requestBody: { required: true, content: { "application/json": { schema: { type: "object" } } } }, responses: ok } } },
      settings: { unsafe: true },
      sent: [],
      skipped: [["PUT /things", /no example for the required request body/]],
    },
    {
      name: "HEAD and OPTIONS are safe",
      paths: { "/things": { head: { responses: ok }, options: { responses: ok } } },
      sent: ["OPTIONS /things", "HEAD /things"],
    },
    {
      name: "past maxRequests, operations are not sent and the limit is named",
      paths: { "/a": { get: { responses: ok } }, "/b": { get: { responses: ok } }, "/c": { get: { responses: ok } } },
      settings: { maxRequests: 2 },
      sent: ["GET /a", "GET /b"],
      skipped: [["GET /c", /over the limit of 2 requests \(previews\.smoke\.maxRequests\)/]],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const plan = planSmoke(configOf(c.paths), { ...limits, ...c.settings });
      expect(plan.requests.map((r) => `${r.method} ${r.path}${r.body ? ` ${r.body}` : ""}`)).toEqual(c.sent);
      expect(plan.skipped.map((s) => s.operation)).toEqual((c.skipped ?? []).map(([op]) => op));
      plan.skipped.forEach((s, i) => expect(s.reason).toMatch(c.skipped![i]![1]));
    });
  }

  it("names an operation by its operationId with the method and path beside it", () => {
    const plan = planSmoke(configOf({ "/things": { get: { operationId: "listThings", responses: ok } } }), limits);
    expect(plan.requests[0]!.operation).toBe("listThings (GET /things)");
  });

  it("puts a required header parameter's example in the request's headers", () => {
    const plan = planSmoke(configOf({ "/things": { get: { parameters: [{ name: "X-Tenant", in: "header", required: true, example: "acme" }], responses: ok } } }), limits);
    expect(plan.requests[0]!.headers).toEqual({ "x-tenant": "acme" });
  });
});

describe("the smoke test's plan for a route behind an API key", () => {
  const routes = (inbound: string[]) =>
    JSON.stringify({
      openapi: "3.1.0",
      info: { title: "t", version: "1" },
      paths: { "/orders": { get: { responses: ok, "x-zuplo-route": { corsPolicy: "none", handler: { export: "urlForwardHandler", module: "$import(@zuplo/runtime)", options: { baseUrl: "http://127.0.0.1:9" } }, policies: { inbound } } } } },
    });
  const policies = JSON.stringify({
    policies: [
      { name: "key", policyType: "api-key-inbound", handler: { export: "ApiKeyInboundPolicy", module: "$import(@zuplo/runtime)", options: { authHeader: "X-Api-Key", authScheme: "" } } },
      { name: "basic", policyType: "basic-auth-inbound", handler: { export: "BasicAuthInboundPolicy", module: "$import(@zuplo/runtime)", options: { accounts: [{ username: "a", password: "b" }] } } },
    ],
  });
  const config = (inbound: string[]) => readConfig(snapshot({ "config/routes.oas.json": routes(inbound), "config/policies.json": policies })).config!;

  it("asks for a key, in the header and scheme the policy names", () => {
    const plan = planSmoke(config(["key"]), limits);
    expect(plan.needsKey).toBe(true);
    expect(plan.requests[0]!.key).toEqual({ header: "x-api-key", scheme: "" });
  });

  it("needs no key when no route asks for one", () => {
    expect(planSmoke(config([]), limits).needsKey).toBe(false);
  });

  it("does not send a route that asks for basic-auth credentials", () => {
    const plan = planSmoke(config(["basic"]), limits);
    expect(plan.requests).toEqual([]);
    expect(plan.skipped[0]!.reason).toMatch(/basic-auth credentials/);
  });
});

describe("the smoke test's plan for the seed example (examples/seed-orders)", () => {
  it("sends its one operation with a key, in the default Authorization: Bearer form", async () => {
    const { readDirectorySnapshot } = await import("../../src/git/index.js");
    const { SEED_DIR } = await import("../helpers.js");
    const config = readConfig(await readDirectorySnapshot(SEED_DIR, 32 * 1024 * 1024)).config!;
    const plan = planSmoke(config, limits);
    expect(plan.requests.map((r) => [r.operation, `${r.method} ${r.path}`, r.key])).toEqual([["listOrders (GET /api/v1/orders)", "GET /api/v1/orders", { header: "authorization", scheme: "Bearer" }]]);
    expect(plan.skipped).toEqual([]);
  });
});
