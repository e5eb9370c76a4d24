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

const basicAuth = () => ({ name: "basic", policyType: "basic-auth-inbound", handler: { export: "BasicAuthInboundPolicy", module: "$import(@zuplo/runtime)", options: { accounts: [{ username: "u", password: "$env(P)" }] } } });
const ip = (allowedIpAddresses: string[]) => ({ name: "ip", policyType: "ip-restriction-inbound", handler: { export: "IPRestrictionInboundPolicy", module: "$import(@zuplo/runtime)", options: { allowedIpAddresses } } });
const validation = () => ({ name: "validate", policyType: "request-validation-inbound", handler: { export: "RequestValidationInboundPolicy", module: "$import(@zuplo/runtime)", options: { validateBody: "reject-and-log" } } });
const headerPolicy = () => ({ name: "add-header", policyType: "set-headers-inbound", handler: { export: "SetHeadersInboundPolicy", module: "$import(@zuplo/runtime)", options: { headers: [{ name: "x-a", value: "1" }] } } });
const seed = () => repo(["api-key-inbound", "rate-limit-inbound"], [apiKeyPolicy(), limit(100)]);

describe("gateway changes no OpenAPI differ sees", () => {
  it("flags authentication removed from a route as breaking security", () => {
    expect(found(seed(), repo(["rate-limit-inbound"], [apiKeyPolicy(), limit(100)]))).toEqual([{
      rule: "route-authentication-removed",
      level: "breaking",
      category: "security",
      message: "api-key-inbound was removed: GET /api/v1/orders now answers without credentials",
    }]);
  });

  it("flags authentication made optional", () => {
    const open = { ...apiKeyPolicy(), handler: { ...apiKeyPolicy().handler, options: { allowUnauthenticatedRequests: true } } };
    expect(found(seed(), repo(["api-key-inbound", "rate-limit-inbound"], [open, limit(100)])).map((c) => c.rule)).toEqual(["route-authentication-made-optional"]);
  });

  it("reports a loosened rate limit with the old and new limits", () => {
    expect(found(seed(), repo(["api-key-inbound", "rate-limit-inbound"], [apiKeyPolicy(), limit(1000)]))).toEqual([{
      rule: "route-rate-limit-loosened",
      level: "warning",
      category: "traffic",
      message: "rate limit loosened from 100 requests per 1 min by ip to 1000 requests per 1 min by ip",
    }]);
  });

  it("compares limits per unit of time: 100 a minute to 1000 in 20 minutes is tighter", () => {
    expect(found(seed(), repo(["api-key-inbound", "rate-limit-inbound"], [apiKeyPolicy(), limit(1000, 20)])).map((c) => c.rule)).toEqual(["route-rate-limit-tightened"]);
  });

  it("reports a rate limit removed", () => {
    expect(found(seed(), repo(["api-key-inbound"], [apiKeyPolicy(), limit(100)])).map((c) => `${c.level} ${c.rule}`)).toEqual(["warning route-rate-limit-removed"]);
  });

  it("reports CORS opened to every origin as a security change, and closed as breaking", () => {
    const opened = repo(["api-key-inbound", "rate-limit-inbound"], [apiKeyPolicy(), limit(100)], { corsPolicy: "anything-goes" });
    expect(found(seed(), opened).find((c) => c.rule === "route-cors-opened")).toMatchObject({ level: "warning", category: "security", message: "CORS policy changed from none to anything-goes (every origin, with credentials)" });
    expect(found(opened, seed()).map((c) => `${c.level} ${c.rule}`)).toEqual(["breaking route-cors-closed"]);
  });

  it("reports an upstream change and a handler change", () => {
    const moved = repo(["api-key-inbound", "rate-limit-inbound"], [apiKeyPolicy(), limit(100)], {}, forward("https://v2.example.com"));
    expect(found(seed(), moved).find((c) => c.rule === "route-upstream-changed")?.message).toBe("upstream changed from https://api.example.com to https://v2.example.com");
    const redirect = repo(["api-key-inbound", "rate-limit-inbound"], [apiKeyPolicy(), limit(100)], {}, { export: "redirectHandler", module: "$import(@zuplo/runtime)", options: { location: "https://x.example" } });
    expect(found(seed(), redirect).map((c) => c.rule)).toEqual(["route-handler-changed"]);
  });

  it("reports request validation added as stricter for clients", () => {
    const validation = { name: "validate", policyType: "request-validation-inbound", handler: { export: "RequestValidationInboundPolicy", module: "$import(@zuplo/runtime)", options: { validateBody: "reject-and-log" } } };
    expect(found(seed(), repo(["api-key-inbound", "rate-limit-inbound", "validate"], [apiKeyPolicy(), limit(100), validation])).map((c) => `${c.level} ${c.rule}`)).toEqual(["warning route-request-validation-added"]);
  });

  it("reports a newly required $env variable", () => {
    const env = repo(["api-key-inbound", "rate-limit-inbound"], [apiKeyPolicy(), limit(100)], {}, forward("$env(ORDERS_URL)"));
    expect(found(seed(), env).map((c) => c.message)).toEqual(["$env(ORDERS_URL) is now required: set it in every environment before this deploys", "upstream changed from https://api.example.com to $env(ORDERS_URL)"]);
  });

  it.each([
    { name: "authentication added", base: () => repo(["rate-limit-inbound"], [apiKeyPolicy(), limit(100)]), head: () => seed(), expected: "breaking route-authentication-added" },
    {
      name: "authentication changed to basic auth",
      base: () => seed(),
      head: () => repo(["basic", "rate-limit-inbound"], [basicAuth(), limit(100)]),
      expected: "breaking route-authentication-changed",
      also: ["warning env-variable-added"],
    },
    { name: "an IP restriction removed", base: () => repo(["ip", "api-key-inbound"], [ip(["10.0.0.0/8"]), apiKeyPolicy()]), head: () => repo(["api-key-inbound"], [ip(["10.0.0.0/8"]), apiKeyPolicy()]), expected: "breaking route-ip-restriction-removed" },
    { name: "an IP restriction changed", base: () => repo(["ip"], [ip(["10.0.0.0/8"])]), head: () => repo(["ip"], [ip(["0.0.0.0/0"])]), expected: "warning route-ip-restriction-changed" },
    { name: "a rate limit added", base: () => repo(["api-key-inbound"], [apiKeyPolicy(), limit(100)]), head: () => seed(), expected: "warning route-rate-limit-added" },
    { name: "a rate limit counted by another key", base: () => seed(), head: () => repo(["api-key-inbound", "rate-limit-inbound"], [apiKeyPolicy(), limit(100, 1, "user")]), expected: "warning route-rate-limit-key-changed" },
    { name: "request validation removed", base: () => repo(["validate"], [validation()]), head: () => repo([], [validation()]), expected: "info route-request-validation-removed" },
    { name: "a transform policy added", base: () => repo([], [headerPolicy()]), head: () => repo(["add-header"], [headerPolicy()]), expected: "info route-policy-added" },
    { name: "a transform policy removed", base: () => repo(["add-header"], [headerPolicy()]), head: () => repo([], [headerPolicy()]), expected: "info route-policy-removed" },
    { name: "a policy's options changed", base: () => seed(), head: () => repo(["api-key-inbound", "rate-limit-inbound"], [apiKeyPolicy(), { ...limit(100), handler: { ...limit(100).handler, options: { ...limit(100).handler.options, headerMode: "none" } } }]), expected: "info policy-options-changed" },
    {
      name: "a custom CORS policy admitting more origins",
      base: () => repo([], [], { corsPolicy: "partners" }, forward(), { corsPolicies: [{ name: "partners", allowedOrigins: ["https://a.example"] }] }),
      head: () => repo([], [], { corsPolicy: "partners" }, forward(), { corsPolicies: [{ name: "partners", allowedOrigins: ["https://a.example", "https://*.example"] }] }),
      expected: "warning cors-policy-origins-widened",
    },
  ] as { name: string; base: () => ReturnType<typeof repo>; head: () => ReturnType<typeof repo>; expected: string; also?: string[] }[])("reports $name as $expected", ({ base, head, expected, also = [] }) => {
    // The whole set, so a false alarm beside the expected change fails; `also` is what the head changes besides.
    expect(found(base(), head()).map((c) => `${c.level} ${c.rule}`).sort()).toEqual([expected, ...also].sort());
    // And their words (pinned in __snapshots__/, read it there).
    expect(found(base(), head()).map((c) => `${c.level} ${c.rule}: ${c.message}`)).toMatchSnapshot();
  });

  it("reports an operation still described but no longer served", () => {
    const { config: base } = readConfig(snapshot({ "config/routes.oas.json": routesFile([{ route: route([]) }]), "config/policies.json": policiesFile([]) }));
    const { config: head } = readConfig(snapshot({ "config/routes.oas.json": routesFile([{}]), "config/policies.json": policiesFile([]) }));
    expect(found(base!, head!).map((c) => `${c.level} ${c.rule}`)).toEqual(["breaking route-no-longer-served"]);
  });

  it("reports nothing when only formatting changed", () => {
    expect(found(seed(), seed())).toEqual([]);
  });
});
