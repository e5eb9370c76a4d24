import { describe, expect, it } from "vitest";
import { readConfig, type GatewayConfig } from "../../src/config/index.js";
import { diffConfigs } from "../../src/diff/index.js";
import { renderChangesMarkdown, renderChangesText } from "../../src/report/index.js";
import { apiKeyPolicy, forward, policiesFile, rateLimitPolicy, route, routesFile } from "../config/fixtures/seed.js";
import { positionOf, snapshot } from "../helpers.js";

const limit = (requestsAllowed: number) => rateLimitPolicy({ rateLimitBy: "ip", requestsAllowed, timeWindowMinutes: 1 });

function twoRoutes(policies: unknown[], handler: (path: string) => unknown = () => forward(), inbound = ["api-key-inbound", "rate-limit-inbound"]) {
  const files = {
    "config/routes.oas.json": routesFile([
      { path: "/api/v1/orders", route: route(inbound, handler("/api/v1/orders")) },
      { path: "/api/v1/invoices", route: route(inbound, handler("/api/v1/invoices")) },
    ]),
    "config/policies.json": policiesFile(policies),
  };
  return { files, config: readConfig(snapshot(files)).config! };
}

describe("a change to a policy used by several routes", () => {
  it("is one change at the option in policies.json, listing the routes, and not repeated as policy-options-changed", () => {
    const base = twoRoutes([apiKeyPolicy(), limit(100)]);
    const head = twoRoutes([apiKeyPolicy(), limit(1000)]);
    const changes = diffConfigs(base.config, head.config).changes;
    expect(changes.map((c) => c.rule)).toEqual(["route-rate-limit-loosened"]);
    const [c] = changes;
    expect(c!.message).toBe('policy "rate-limit-inbound": rate limit loosened from 100 requests per 1 min by ip to 1000 requests per 1 min by ip');
    expect(c!.head).toMatchObject({ file: "config/policies.json", pointer: "/policies/1/handler/options/requestsAllowed", ...positionOf(head.files["config/policies.json"], '"requestsAllowed": 1000') });
    expect(c!.affected?.map((a) => a.operation)).toEqual(["GET /api/v1/orders", "GET /api/v1/invoices"]);
  });

  it("still reports the options no route-level rule covers, by name", () => {
    const withHeaderMode = { ...limit(100), handler: { ...limit(100).handler, options: { ...limit(100).handler.options, headerMode: "none" } } };
    const changes = diffConfigs(twoRoutes([apiKeyPolicy(), limit(100)]).config, twoRoutes([apiKeyPolicy(), withHeaderMode]).config).changes;
    expect(changes.map((c) => `${c.rule}: ${c.message}`)).toEqual(['policy-options-changed: policy "rate-limit-inbound" options changed: headerMode added as "none"']);
    expect(changes[0]!.head?.pointer).toBe("/policies/1/handler/options/headerMode");
  });
});

describe("an upstream moved for several routes", () => {
  it("is one entry listing the routes, with a fingerprint that does not depend on how many", () => {
    const base = twoRoutes([apiKeyPolicy(), limit(100)]);
    const head = twoRoutes([apiKeyPolicy(), limit(100)], () => forward("https://v2.example.com"));
    const partly = twoRoutes([apiKeyPolicy(), limit(100)], (path) => forward(path === "/api/v1/orders" ? "https://v2.example.com" : "https://api.example.com"));
    const [c, ...rest] = diffConfigs(base.config, head.config).changes;
    expect(rest).toEqual([]);
    expect(c).toMatchObject({ rule: "route-upstream-changed", operation: undefined, message: "upstream changed from https://api.example.com to https://v2.example.com" });
    expect(c!.affected?.map((a) => a.operation)).toEqual(["GET /api/v1/orders", "GET /api/v1/invoices"]);
    expect(diffConfigs(base.config, partly.config).changes[0]!.fingerprint).toBe(c!.fingerprint);
  });
});

describe("a server URL change in a plain OpenAPI document", () => {
  const doc = (url: string) => readConfig(snapshot({ "openapi.json": JSON.stringify({ openapi: "3.1.0", info: { title: "t", version: "1" }, servers: [{ url }], paths: { "/a": { get: { responses: { "200": { description: "ok" } } } }, "/b": { get: { responses: { "200": { description: "ok" } } } } } }, null, 2) })).config!;

  it("is one entry listing the routes that now forward elsewhere", () => {
    const changes = diffConfigs(doc("https://api.example.com"), doc("https://v2.example.com")).changes;
    expect(changes.map((c) => c.rule)).toEqual(["servers-changed"]);
    expect(changes[0]!.affected?.map((a) => a.operation)).toEqual(["GET /a", "GET /b"]);
  });
});

/** Values that must never appear in any output: each is a credential written straight into a config. */
const SECRETS = ["hunter2-basic-password", "sk_live_literal_key_4242", "upstream-user:upstream-pass", "qtoken-987654", "custom-secret-77"];

function secretRepo(version: 1 | 2): GatewayConfig {
  const basic = { name: "basic", policyType: "basic-auth-inbound", handler: { export: "BasicAuthInboundPolicy", module: "$import(@zuplo/runtime)", options: { accounts: [{ username: "ops", password: version === 1 ? "hunter2-basic-password" : "$env(BASIC_PASSWORD)", data: { token: "custom-secret-77" } }] } } };
  const headers = { name: "add-key", policyType: "set-headers-inbound", handler: { export: "SetHeadersInboundPolicy", module: "$import(@zuplo/runtime)", options: { headers: [{ name: "authorization", value: version === 1 ? "Bearer sk_live_literal_key_4242" : "$env(UPSTREAM_KEY)" }] } } };
  const custom = { name: "custom", policyType: "custom-code-inbound", handler: { export: "default", module: "$import(./modules/custom)", options: { secret: version === 1 ? "custom-secret-77" : "rotated" } } };
  const upstream = version === 1 ? "https://upstream-user:upstream-pass@internal.example.com/v1?key=qtoken-987654" : "https://internal.example.com/v2";
  const files = {
    "config/routes.oas.json": routesFile([{ route: route(["basic", "add-key", "custom"], forward(upstream)) }]),
    "config/policies.json": policiesFile([basic, headers, custom]),
    "modules/custom.ts": "export default async function (request) { return request; }\n",
  };
  const { config } = readConfig(snapshot(files));
  if (!config) throw new Error("fixture does not read");
  return config;
}

describe("a report about configs holding credentials", () => {
  it.each([
    ["base to head", 1, 2],
    ["head to base", 2, 1],
  ] as const)("names what changed without printing any credential (%s), in every output format", (_, from, to) => {
    const report = diffConfigs(secretRepo(from), secretRepo(to));
    const rules = report.changes.map((c) => c.rule);
    expect(rules).toEqual(expect.arrayContaining(["policy-options-changed", "route-upstream-changed"]));
    const outputs = [renderChangesText(report), renderChangesMarkdown(report), JSON.stringify(report)];
    for (const out of outputs) for (const secret of SECRETS) expect(out).not.toContain(secret);
    expect(renderChangesText(report)).toContain("accounts changed (value not shown)");
    expect(renderChangesText(report)).toContain("headers changed (value not shown)");
  });
});
