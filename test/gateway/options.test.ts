import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { builtinPolicy as policy, forward, policiesFile, route, routesFile } from "../config/fixtures/seed.js";
import { startGateway, startUpstream } from "./harness.js";

/** Options that act at run time and had no test of their own (the table in test/config/options.test.ts lists them all). */
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});


async function setup(inbound: string[], policies: unknown[], routeSpec: Record<string, unknown> = {}, outbound: string[] = []) {
  const u = await startUpstream();
  closers.push(u.close);
  const r = { ...route(inbound, forward(u.url)), ...(outbound.length ? { policies: { inbound, outbound } } : {}) };
  const files = { "config/routes.oas.json": routesFile([{ ...routeSpec, route: r }]), "config/policies.json": policiesFile(policies) };
  const g = await startGateway(files);
  closers.push(g.close);
  return { u, g };
}

async function send(url: string, headers: Record<string, string> = {}) {
  const r = await request(url, { headers });
  const text = await r.body.text();
  return { status: r.statusCode, headers: r.headers, text };
}

describe("ip-restriction-inbound blockedIpAddresses", () => {
  it("refuses a blocked address even when the allow list would let it in", async () => {
    const { u, g } = await setup(["ip"], [policy("ip", "ip-restriction-inbound", "IPRestrictionInboundPolicy", { allowedIpAddresses: ["127.0.0.0/8"], blockedIpAddresses: ["127.0.0.1"] })]);
    expect((await send(`${g.url}/api/v1/orders`)).status).toBe(403);
    expect(u.seen).toEqual([]);
  });
});

describe("request-validation-inbound path and header parameters", () => {
  const validate = (options: Record<string, unknown>) => policy("v", "request-validation-inbound", "RequestValidationInboundPolicy", options);
  const byId = { path: "/api/v1/orders/{id}", parameters: [{ name: "id", in: "path", required: true, schema: { type: "integer" } }, { name: "x-tenant", in: "header", required: true, schema: { type: "string", pattern: "^t-" } }] };

  it("validatePathParameters refuses a path parameter of the wrong type", async () => {
    const { g } = await setup(["v"], [validate({ validatePathParameters: "reject-only" })], byId);
    expect((await send(`${g.url}/api/v1/orders/abc`, { "x-tenant": "t-1" })).status).toBe(400);
    expect((await send(`${g.url}/api/v1/orders/12`, { "x-tenant": "t-1" })).status).toBe(200);
  });

  it("validateHeaders refuses a missing or malformed header parameter", async () => {
    const { g } = await setup(["v"], [validate({ validateHeaders: "reject-only" })], byId);
    expect((await send(`${g.url}/api/v1/orders/12`)).text).toContain('header parameter \\"x-tenant\\" is required');
    expect((await send(`${g.url}/api/v1/orders/12`, { "x-tenant": "nope" })).status).toBe(400);
    expect((await send(`${g.url}/api/v1/orders/12`, { "x-tenant": "t-9" })).status).toBe(200);
  });
});

describe("mock-api-inbound options", () => {
  const responses = {
    responses: {
      "200": {
        description: "ok",
        content: {
          "application/json": { examples: { first: { value: { n: 1 } }, second: { value: { n: 2 } } } },
          "text/plain": { example: "plain two hundred" },
        },
      },
      "404": { description: "missing", content: { "application/json": { example: { n: 404 } } } },
    },
  };
  const mock = (options: Record<string, unknown>) => setup(["m"], [policy("m", "mock-api-inbound", "MockApiInboundPolicy", options)], responses);

  it("exampleName picks the named example", async () => {
    const { g } = await mock({ exampleName: "second", contentType: "application/json" });
    expect(JSON.parse((await send(`${g.url}/api/v1/orders`)).text)).toEqual({ n: 2 });
  });

  it("contentType picks the media type", async () => {
    const { g } = await mock({ contentType: "text/plain" });
    const r = await send(`${g.url}/api/v1/orders`);
    expect([r.headers["content-type"], r.text]).toEqual(["text/plain", "plain two hundred"]);
  });

  it("responsePrefixFilter picks the status class", async () => {
    const { g } = await mock({ responsePrefixFilter: "4" });
    const r = await send(`${g.url}/api/v1/orders`);
    expect([r.status, JSON.parse(r.text)]).toEqual([404, { n: 404 }]);
  });

  it("random answers with more than one example over many requests, and without it always the first", async () => {
    const seen = async (options: Record<string, unknown>) => {
      const { g } = await mock({ ...options, contentType: "application/json" });
      const bodies = new Set<string>();
      for (let i = 0; i < 40; i++) bodies.add((await send(`${g.url}/api/v1/orders`)).text);
      return [...bodies].sort();
    };
    expect(await seen({ random: true })).toEqual(['{"n":1}', '{"n":2}']);
    expect(await seen({})).toEqual(['{"n":1}']);
  });
});

describe("set-headers overwrite", () => {
  it("keeps the caller's and the upstream's own value when overwrite is false", async () => {
    const policies = [
      policy("in", "set-headers-inbound", "SetHeadersInboundPolicy", { headers: [{ name: "x-team", value: "gateway", overwrite: false }, { name: "x-forced", value: "gateway" }] }),
      policy("out", "set-headers-outbound", "SetHeadersOutboundPolicy", { headers: [{ name: "x-upstream", value: "gateway", overwrite: false }, { name: "content-language", value: "en", overwrite: false }] }),
    ];
    const { u, g } = await setup(["in"], policies, {}, ["out"]);
    const r = await send(`${g.url}/api/v1/orders`, { "x-team": "caller", "x-forced": "caller" });
    expect([u.seen[0]!.headers["x-team"], u.seen[0]!.headers["x-forced"]]).toEqual(["caller", "gateway"]);
    expect([r.headers["x-upstream"], r.headers["content-language"]]).toEqual(["yes", "en"]);
  });
});

describe("corsPolicies allowCredentials", () => {
  it("allows credentials only when the policy says so", async () => {
    const u = await startUpstream();
    closers.push(u.close);
    const headersOf = async (allowCredentials: boolean) => {
      const files = { "config/routes.oas.json": routesFile([{ route: route([], forward(u.url), { corsPolicy: "partners" }) }]), "config/policies.json": policiesFile([], { corsPolicies: [{ name: "partners", allowedOrigins: ["https://app.example"], allowCredentials }] }) };
      const g = await startGateway(files);
      closers.push(g.close);
      return (await send(`${g.url}/api/v1/orders`, { origin: "https://app.example" })).headers;
    };
    expect((await headersOf(true))["access-control-allow-credentials"]).toBe("true");
    const without = await headersOf(false);
    expect([without["access-control-allow-origin"], without["access-control-allow-credentials"]]).toEqual(["https://app.example", undefined]);
  });
});
