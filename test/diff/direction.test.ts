import { describe, expect, it } from "vitest";
import { readConfig, type GatewayConfig } from "../../src/config/index.js";
import { diffConfigs } from "../../src/diff/index.js";
import { apiKeyPolicy, forward, policiesFile, rateLimitPolicy, route, routesFile } from "../config/fixtures/seed.js";
import { snapshot } from "../helpers.js";

/** Rules with levels found from base to head. */
function found(base: GatewayConfig, head: GatewayConfig): string[] {
  return diffConfigs(base, head).changes.map((c) => `${c.level} ${c.rule}`);
}

/** A plain document whose one operation carries `security` (undefined: none declared). */
function secured(security: unknown): GatewayConfig {
  const schemes = { key: { type: "apiKey", in: "header", name: "X-Key" }, oauth: { type: "oauth2", flows: { clientCredentials: { tokenUrl: "https://auth.example.com/token", scopes: { read: "r", write: "w" } } } } };
  const doc = { openapi: "3.1.0", info: { title: "t", version: "1" }, servers: [{ url: "https://api.example.com" }], paths: { "/orders": { get: { ...(security === undefined ? {} : { security }), responses: { "200": { description: "ok" } } } } }, components: { securitySchemes: schemes } };
  return readConfig(snapshot({ "openapi.json": JSON.stringify(doc) })).config!;
}

describe("security requirements, judged in both directions", () => {
  it.each([
    { name: "a scope added", base: [{ oauth: ["read"] }], head: [{ oauth: ["read", "write"] }], forward: "breaking security-scope-added", backward: "warning security-scope-removed" },
    { name: "a requirement added where none was", base: undefined, head: [{ key: [] }], forward: "breaking security-requirement-added", backward: "warning security-requirement-removed" },
    { name: "an alternative added", base: [{ key: [] }], head: [{ key: [] }, { oauth: [] }], forward: "info security-alternative-added", backward: "breaking security-alternative-removed" },
    { name: "a second scheme required together with the first", base: [{ key: [] }], head: [{ key: [], oauth: [] }], forward: "breaking security-alternative-removed", backward: "warning security-requirement-loosened" },
  ])("$name: $forward one way, $backward the other", ({ base, head, forward, backward }) => {
    expect(found(secured(base), secured(head))).toEqual([forward]);
    expect(found(secured(head), secured(base))).toEqual([backward]);
  });

  it("never calls a scope lost a breaking change, and says which scope is no longer needed", () => {
    const [c, ...rest] = diffConfigs(secured([{ oauth: ["read", "write"] }]), secured([{ oauth: ["write"] }])).changes;
    expect(rest).toEqual([]);
    expect(c).toMatchObject({ rule: "security-scope-removed", level: "warning", category: "security", message: "security requirement oauth[read,write] became oauth[write]: scope read no longer needed" });
  });

  it("reports a scope swapped for another as the new scope needed (callers holding only the old one are refused)", () => {
    const changes = diffConfigs(secured([{ oauth: ["read"] }]), secured([{ oauth: ["write"] }])).changes;
    expect(changes.map((c) => `${c.level} ${c.rule} ${c.message}`)).toEqual(["breaking security-scope-added security requirement oauth[read] became oauth[write]: scope write now needed"]);
  });
});

const limit = (requestsAllowed: number, timeWindowMinutes = 1, rateLimitBy = "ip") => rateLimitPolicy({ rateLimitBy, requestsAllowed, timeWindowMinutes });
const ip = (allowedIpAddresses: string[]) => ({ name: "ip", policyType: "ip-restriction-inbound", handler: { export: "IPRestrictionInboundPolicy", module: "$import(@zuplo/runtime)", options: { allowedIpAddresses } } });
const optionalKey = () => ({ ...apiKeyPolicy(), handler: { ...apiKeyPolicy().handler, options: { allowUnauthenticatedRequests: true } } });
const partners = (allowedOrigins: string[]) => ({ corsPolicies: [{ name: "partners", allowedOrigins }] });

function repo(inbound: string[], policies: unknown[], more: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): GatewayConfig {
  return readConfig(snapshot({ "config/routes.oas.json": routesFile([{ route: route(inbound, forward(), more) }]), "config/policies.json": policiesFile(policies, extra) })).config!;
}

describe("gateway security and traffic rules, judged in both directions", () => {
  it.each([
    { name: "authentication", base: () => repo([], [apiKeyPolicy()]), head: () => repo(["api-key-inbound"], [apiKeyPolicy()]), forward: "breaking route-authentication-added", backward: "breaking route-authentication-removed" },
    { name: "optional authentication", base: () => repo(["api-key-inbound"], [apiKeyPolicy()]), head: () => repo(["api-key-inbound"], [optionalKey()]), forward: "breaking route-authentication-made-optional", backward: "breaking route-authentication-made-required" },
    { name: "an IP restriction", base: () => repo([], [ip(["10.0.0.0/8"])]), head: () => repo(["ip"], [ip(["10.0.0.0/8"])]), forward: "breaking route-ip-restriction-added", backward: "breaking route-ip-restriction-removed" },
    { name: "allowed addresses", base: () => repo(["ip"], [ip(["10.0.0.0/8"])]), head: () => repo(["ip"], [ip(["0.0.0.0/0"])]), forward: "warning route-ip-restriction-changed", backward: "warning route-ip-restriction-changed" },
    { name: "a rate limit", base: () => repo([], [limit(100)]), head: () => repo(["rate-limit-inbound"], [limit(100)]), forward: "warning route-rate-limit-added", backward: "warning route-rate-limit-removed" },
    { name: "a rate limit's size", base: () => repo(["rate-limit-inbound"], [limit(100)]), head: () => repo(["rate-limit-inbound"], [limit(1000)]), forward: "warning route-rate-limit-loosened", backward: "warning route-rate-limit-tightened" },
    { name: "a rate limit's key", base: () => repo(["rate-limit-inbound"], [limit(100)]), head: () => repo(["rate-limit-inbound"], [limit(100, 1, "user")]), forward: "warning route-rate-limit-key-changed", backward: "warning route-rate-limit-key-changed" },
    { name: "CORS to every origin", base: () => repo([], []), head: () => repo([], [], { corsPolicy: "anything-goes" }), forward: "warning route-cors-opened", backward: "breaking route-cors-closed" },
    {
      name: "a custom CORS policy's origins",
      base: () => repo([], [], { corsPolicy: "partners" }, partners(["https://a.example"])),
      head: () => repo([], [], { corsPolicy: "partners" }, partners(["https://a.example", "https://b.example"])),
      forward: "warning cors-policy-origins-widened",
      backward: "breaking cors-policy-origins-narrowed",
    },
  ])("$name: $forward one way, $backward the other", ({ base, head, forward, backward }) => {
    expect(found(base(), head())).toEqual([forward]);
    expect(found(head(), base())).toEqual([backward]);
  });
});
