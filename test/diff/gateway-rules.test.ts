import { describe, expect, it } from "vitest";
import { readConfig } from "../../src/config/index.js";
import { diffConfigs } from "../../src/diff/index.js";
import { apiKeyPolicy, forward, policiesFile, rateLimitPolicy, route, routesFile } from "../config/fixtures/seed.js";
import { snapshot } from "../helpers.js";

const limit = (requestsAllowed: number, timeWindowMinutes = 1, rateLimitBy = "ip") => rateLimitPolicy({ rateLimitBy, requestsAllowed, timeWindowMinutes });

function repo(inbound: string[], policies: unknown[], more: Record<string, unknown> = {}, handler: unknown = forward(), extra: Record<string, unknown> = {}) {
  const { config } = readConfig(snapshot({ "config/routes.oas.json": routesFile([{ route: route(inbound, handler, more) }]), "config/policies.json": policiesFile(policies, extra) }));
  return config!;
}

function found(base: ReturnType<typeof repo>, head: ReturnType<typeof repo>) {
  return diffConfigs(base, head).changes.map((c) => ({ rule: c.rule, level: c.level, category: c.category, message: c.message }));
}

const seed = () => repo(["api-key-inbound", "rate-limit-inbound"], [apiKeyPolicy(), limit(100)]);

describe("gateway changes no OpenAPI differ sees", () => {
  it("flags authentication removed from a route as breaking security", () => {
    expect(found(seed(), repo(["rate-limit-inbound"], [apiKeyPolicy(), limit(100)]))).toContainEqual({
      rule: "route-authentication-removed",
      level: "breaking",
      category: "security",
      message: "api-key-inbound was removed: GET /api/v1/orders now answers without credentials",
    });
  });

  it("flags authentication made optional", () => {
    const open = { ...apiKeyPolicy(), handler: { ...apiKeyPolicy().handler, options: { allowUnauthenticatedRequests: true } } };
    expect(found(seed(), repo(["api-key-inbound", "rate-limit-inbound"], [open, limit(100)])).map((c) => c.rule)).toContain("route-authentication-made-optional");
  });

  it("reports a loosened rate limit with the old and new limits", () => {
    expect(found(seed(), repo(["api-key-inbound", "rate-limit-inbound"], [apiKeyPolicy(), limit(1000)]))).toContainEqual({
      rule: "route-rate-limit-loosened",
      level: "warning",
      category: "traffic",
      message: "rate limit loosened from 100 requests per 1 min by ip to 1000 requests per 1 min by ip",
    });
  });

  it("compares limits per unit of time: 100 a minute to 1000 in 20 minutes is tighter", () => {
    expect(found(seed(), repo(["api-key-inbound", "rate-limit-inbound"], [apiKeyPolicy(), limit(1000, 20)])).map((c) => c.rule)).toContain("route-rate-limit-tightened");
  });

  it("reports a rate limit removed", () => {
    expect(found(seed(), repo(["api-key-inbound"], [apiKeyPolicy(), limit(100)])).map((c) => `${c.level} ${c.rule}`)).toContain("warning route-rate-limit-removed");
  });

  it("reports CORS opened to every origin as a security change, and closed as breaking", () => {
    const opened = repo(["api-key-inbound", "rate-limit-inbound"], [apiKeyPolicy(), limit(100)], { corsPolicy: "anything-goes" });
    expect(found(seed(), opened).find((c) => c.rule === "route-cors-opened")).toMatchObject({ level: "warning", category: "security", message: "CORS policy changed from none to anything-goes (every origin, with credentials)" });
    expect(found(opened, seed()).map((c) => `${c.level} ${c.rule}`)).toContain("breaking route-cors-closed");
  });

  it("reports an upstream change and a handler change", () => {
    const moved = repo(["api-key-inbound", "rate-limit-inbound"], [apiKeyPolicy(), limit(100)], {}, forward("https://v2.example.com"));
    expect(found(seed(), moved).find((c) => c.rule === "route-upstream-changed")?.message).toBe("upstream changed from https://api.example.com to https://v2.example.com");
    const redirect = repo(["api-key-inbound", "rate-limit-inbound"], [apiKeyPolicy(), limit(100)], {}, { export: "redirectHandler", module: "$import(@zuplo/runtime)", options: { location: "https://x.example" } });
    expect(found(seed(), redirect).map((c) => c.rule)).toContain("route-handler-changed");
  });

  it("reports request validation added as stricter for clients", () => {
    const validation = { name: "validate", policyType: "request-validation-inbound", handler: { export: "RequestValidationInboundPolicy", module: "$import(@zuplo/runtime)", options: { validateBody: "reject-and-log" } } };
    expect(found(seed(), repo(["api-key-inbound", "rate-limit-inbound", "validate"], [apiKeyPolicy(), limit(100), validation])).map((c) => `${c.level} ${c.rule}`)).toContain("warning route-request-validation-added");
  });

  it("reports a newly required $env variable", () => {
    const env = repo(["api-key-inbound", "rate-limit-inbound"], [apiKeyPolicy(), limit(100)], {}, forward("$env(ORDERS_URL)"));
    expect(found(seed(), env).map((c) => c.message)).toContain("$env(ORDERS_URL) is now required: set it in every environment before this deploys");
  });

  it("reports nothing when only formatting changed", () => {
    expect(found(seed(), seed())).toEqual([]);
  });
});
