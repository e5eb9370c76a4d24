import { describe, expect, it } from "vitest";
import { readConfig, tryPath } from "../../src/config/index.js";
import { apiKeyPolicy, forward, policiesFile, route, routesFile } from "./fixtures/seed.js";

const files = (f: Record<string, string>) => readConfig(new Map(Object.entries(f)));

describe("what an operator reads of a config", () => {
  it("lists errors first, then warnings, then notes, whatever file each is in", () => {
    const policies = policiesFile([apiKeyPolicy(), { name: "spare", policyType: "api-key-inbound", handler: { export: "ApiKeyInboundPolicy", module: "$import(@zuplo/runtime)" } }]);
    const routes = routesFile([{ path: "/a", route: route(["api-key-inbound"], forward()) }, { path: "/b", route: route(["no-such-policy"], forward()) }, { path: "/c" }]);
    const severities = files({ "config/routes.oas.json": routes, "config/policies.json": policies }).diagnostics.map((d) => d.severity);
    expect(severities).toContain("error");
    expect(severities).toContain("info");
    expect([...severities].sort((a, b) => ["error", "warning", "info"].indexOf(a) - ["error", "warning", "info"].indexOf(b))).toEqual(severities);
  });

  it("does not call a policy unused when the route file that uses it could not be parsed", () => {
    const { diagnostics } = files({ "config/routes.oas.json": '{\n  "openapi": "3.1.0",\n  oops\n', "config/policies.json": policiesFile([apiKeyPolicy()]) });
    expect(diagnostics.map((d) => `${d.severity} ${d.rule}`)).toEqual(["error json-syntax"]);
  });

  it("still calls a policy unused when every route file was read", () => {
    const { diagnostics } = files({ "config/routes.oas.json": routesFile([{ path: "/a", route: route([], forward()) }]), "config/policies.json": policiesFile([apiKeyPolicy()]) });
    expect(diagnostics.map((d) => d.rule)).toEqual(["policy-unused"]);
  });

  it("opens an environment at its first GET route without a parameter, else at /", () => {
    const config = (routes: Parameters<typeof routesFile>[0]) => files({ "config/routes.oas.json": routesFile(routes), "config/policies.json": policiesFile([]) }).config!;
    expect(tryPath(config([{ path: "/v1/orders/{id}", route: route([], forward()) }, { path: "/v1/orders", method: "post", route: route([], forward()) }, { path: "/v1/products", route: route([], forward()) }]))).toBe("/v1/products");
    expect(tryPath(config([{ path: "/v1/orders/{id}", route: route([], forward()) }]))).toBe("/");
  });
});
