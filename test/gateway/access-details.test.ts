import type { IncomingHttpHeaders } from "node:http";
import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { apiKeyPolicy, builtinPolicy as policy, configFiles as files, forward, rateLimitPolicy, route, routesFile } from "../config/fixtures/seed.js";
import { GatewayServer, type AccessLogEntry } from "../../src/gateway/index.js";
import { consumer, startGateway, startUpstream } from "./harness.js";

/** The fine print of the access policies (basic auth, IP restriction, size limit), api-key-inbound and CORS, read off whole answers. */
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

const basicAuth = (options: Record<string, unknown>) => policy("basic", "basic-auth-inbound", "BasicAuthInboundPolicy", options);
const ipRestriction = (options: Record<string, unknown>) => policy("ip", "ip-restriction-inbound", "IPRestrictionInboundPolicy", options);
const sizeLimit = (name: string, maxSizeInBytes: number) => policy(name, "request-size-limit-inbound", "RequestSizeLimitInboundPolicy", { maxSizeInBytes });

type Routes = Parameters<typeof routesFile>[0];

async function upstream() {
  const u = await startUpstream();
  closers.push(u.close);
  return u;
}

async function gateway(...args: Parameters<typeof startGateway>) {
  const g = await startGateway(...args);
  closers.push(g.close);
  return g;
}

/** A route at /api/v1/orders running `inbound` before forwarding to a fresh upstream. */
async function setup(inbound: string[], policies: unknown[], env: Parameters<typeof startGateway>[1] = {}, more: Record<string, unknown> = {}, method = "get") {
  const u = await upstream();
  const g = await gateway(files([{ method, route: route(inbound, forward(u.url), more) }], policies), env);
  return { u, g };
}

/**
 * The same release served by a gateway listening on `host` (the harness listens on 127.0.0.1 only),
 * so a client can come from ::1, or from 127.0.0.1 as an IPv4-mapped address on a dual-stack socket.
 */
async function servedOn(host: string, routes: (upstreamUrl: string) => Routes, policies: unknown[]) {
  const u = await upstream();
  const g = await gateway(files(routes(u.url), policies));
  const access: AccessLogEntry[] = [];
  const server = new GatewayServer({ baseDomain: "gitway.test", fallbackEnvironment: "local", accessLog: (e) => void access.push(e), headersTimeoutMs: 2_000, requestTimeoutMs: 5_000 });
  server.deploy("local", g.gateway.releaseOf("local")!);
  const port = await server.listen(0, host);
  closers.push(() => server.close());
  return { u, port, access };
}

/** The whole answer, less the Date header. */
async function send(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  const r = await request(url, { method: (init.method ?? "GET") as "GET", headers: { "x-request-id": "req-1", ...init.headers }, ...(init.body !== undefined ? { body: init.body } : {}) });
  const text = await r.body.text();
  const { date: _date, ...headers } = r.headers;
  let body: unknown = text;
  if (/json/.test(String(headers["content-type"]))) body = JSON.parse(text);
  return { status: r.statusCode, headers, body };
}

const keepAlive = { connection: "keep-alive", "keep-alive": "timeout=5" };
const problemHeaders = (body: object, more: IncomingHttpHeaders = {}) => ({ ...keepAlive, "content-type": "application/problem+json", "content-length": String(Buffer.byteLength(JSON.stringify(body))), "x-request-id": "req-1", ...more });
const upstreamHeaders = (path = "/api/v1/orders", more: IncomingHttpHeaders = {}) => ({ ...keepAlive, "content-type": "application/json", "content-length": String(JSON.stringify({ ok: true, path }).length), "x-upstream": "yes", "x-request-id": "req-1", ...more });
const problemAnswer = (status: number, type: string, title: string, detail: string, more: IncomingHttpHeaders = {}) => {
  const body = { type: `https://gitway.dev/problems/${type}`, title, status, detail, instance: "/api/v1/orders", trace: { requestId: "req-1" } };
  return { status, headers: problemHeaders(body, more), body };
};
const basicHeader = (credentials: string) => ({ authorization: "Basic " + Buffer.from(credentials).toString("base64") });

describe("basic-auth-inbound", () => {
  const challenge = { "www-authenticate": 'Basic realm="gitway", charset="UTF-8"' };

  it("answers a request without credentials with a 401 problem and a Basic challenge", async () => {
    const { u, g } = await setup(["basic"], [basicAuth({ accounts: [{ username: "ops", password: "s3cret" }] })]);
    expect(await send(`${g.url}/api/v1/orders`)).toEqual(problemAnswer(401, "unauthorized", "Unauthorized", "Basic authentication is required", challenge));
    expect(u.seen).toEqual([]);
  });

  it("answers another scheme as if no credentials were sent, not as wrong credentials", async () => {
    const { g } = await setup(["basic"], [basicAuth({ accounts: [{ username: "ops", password: "s3cret" }] })]);
    // "Bearer " is as long as "Basic ": what follows would decode, so only the scheme tells them apart.
    const r = await send(`${g.url}/api/v1/orders`, { headers: { authorization: "Bearer " + Buffer.from("ops:s3cret").toString("base64") } });
    expect(r).toEqual(problemAnswer(401, "unauthorized", "Unauthorized", "Basic authentication is required", challenge));
  });

  it("answers a wrong password with a 401 problem saying the credentials are not valid", async () => {
    const { g } = await setup(["basic"], [basicAuth({ accounts: [{ username: "ops", password: "s3cret" }] })]);
    expect(await send(`${g.url}/api/v1/orders`, { headers: basicHeader("ops:wrong") })).toEqual(problemAnswer(401, "unauthorized", "Unauthorized", "The username or password is not valid", challenge));
  });

  it("splits user and password at the first colon, even after a one-letter username", async () => {
    const { u, g } = await setup(["basic"], [basicAuth({ accounts: [{ username: "a", password: "pw:with:colons" }] })]);
    expect(await send(`${g.url}/api/v1/orders`, { headers: basicHeader("a:pw:with:colons") })).toEqual({ status: 200, headers: upstreamHeaders(), body: { ok: true, path: "/api/v1/orders" } });
    expect(u.seen.map((s) => [s.headers["x-consumer-name"], s.headers.authorization])).toEqual([["a", undefined]]);
  });

  it("reads credentials without a colon as a username with an empty password, never as username and password both", async () => {
    const { u, g } = await setup(["basic"], [basicAuth({ accounts: [{ username: "ops", password: "ops" }] })]);
    expect((await send(`${g.url}/api/v1/orders`, { headers: basicHeader("ops") })).status).toBe(401);
    expect((await send(`${g.url}/api/v1/orders`, { headers: basicHeader("ops:ops") })).status).toBe(200);
    expect(u.seen.length).toBe(1);
  });

  it("lets requests without valid credentials through when allowed, naming only a consumer who signs in", async () => {
    const { u, g } = await setup(["basic"], [basicAuth({ accounts: [{ username: "ops", password: "s3cret" }], allowUnauthenticatedRequests: true })]);
    const statuses = [];
    for (const headers of [{}, basicHeader("ops:wrong"), basicHeader("ops:s3cret")]) statuses.push((await send(`${g.url}/api/v1/orders`, { headers: { ...headers, "x-consumer-name": "forged" } })).status);
    expect(statuses).toEqual([200, 200, 200]);
    expect(u.seen.map((s) => [s.headers["x-consumer-name"], s.headers.authorization])).toEqual([
      [undefined, undefined],
      [undefined, undefined],
      ["ops", undefined],
    ]);
  });

  it("makes the account the request's consumer, so rate-limit by user counts each account apart", async () => {
    const accounts = [
      { username: "alice", password: "pa" },
      { username: "bob", password: "pb" },
    ];
    const { g } = await setup(["basic", "rate-limit-inbound"], [basicAuth({ accounts }), rateLimitPolicy({ rateLimitBy: "user", requestsAllowed: 1, timeWindowMinutes: 1 })]);
    const statuses = [];
    for (const who of ["alice:pa", "alice:pa", "bob:pb"]) statuses.push((await send(`${g.url}/api/v1/orders`, { headers: basicHeader(who) })).status);
    expect(statuses).toEqual([200, 429, 200]);
  });
});

describe("ip-restriction-inbound", () => {
  const orders = (inbound: string[]) => (url: string) => [{ route: route(inbound, forward(url)) }];

  it("answers a refused address with a whole 403 problem", async () => {
    const { u, g } = await setup(["ip"], [ipRestriction({ allowedIpAddresses: ["10.0.0.0/8", "192.168.1.1"] })]);
    expect(await send(`${g.url}/api/v1/orders`)).toEqual(problemAnswer(403, "forbidden", "Forbidden", "Requests from this address are not allowed"));
    expect(u.seen).toEqual([]);
  });

  it("applies a block list on its own, letting every other address in", async () => {
    const blocksOthers = await setup(["ip"], [ipRestriction({ blockedIpAddresses: ["10.1.2.3", "192.168.0.0/16"] })]);
    expect((await send(`${blocksOthers.g.url}/api/v1/orders`)).status).toBe(200);
    const blocksLoopback = await setup(["ip"], [ipRestriction({ blockedIpAddresses: ["127.0.0.1"] })]);
    expect((await send(`${blocksLoopback.g.url}/api/v1/orders`)).status).toBe(403);
  });

  it("builds lists holding IPv6 addresses and subnets beside IPv4 ones", async () => {
    const { g } = await setup(["ip"], [ipRestriction({ allowedIpAddresses: ["fd00::/8", "2001:db8::1", "127.0.0.1"], blockedIpAddresses: ["2001:db8::2", "fe80::/10"] })]);
    expect((await send(`${g.url}/api/v1/orders`)).status).toBe(200);
  });

  it("checks a client on ::1 as an IPv6 address, by address and by subnet", async () => {
    const byAddress = await servedOn("::1", orders(["ip"]), [ipRestriction({ allowedIpAddresses: ["::1"] })]);
    expect((await send(`http://[::1]:${byAddress.port}/api/v1/orders`)).status).toBe(200);
    const bySubnet = await servedOn("::1", orders(["ip"]), [ipRestriction({ blockedIpAddresses: ["::/64"] })]);
    expect((await send(`http://[::1]:${bySubnet.port}/api/v1/orders`)).status).toBe(403);
    const otherSubnet = await servedOn("::1", orders(["ip"]), [ipRestriction({ allowedIpAddresses: ["fd00::/8", "127.0.0.1"] })]);
    expect((await send(`http://[::1]:${otherSubnet.port}/api/v1/orders`)).status).toBe(403);
  });

  it("matches an IPv4 client reaching a dual-stack socket (::ffff:127.0.0.1) against IPv4 rules", async () => {
    const allowed = await servedOn("::", orders(["ip"]), [ipRestriction({ allowedIpAddresses: ["127.0.0.1"] })]);
    expect((await send(`http://127.0.0.1:${allowed.port}/api/v1/orders`)).status).toBe(200);
    expect(allowed.access.map((a) => [a.ip, a.status])).toEqual([["::ffff:127.0.0.1", 200]]);
    const blocked = await servedOn("::", orders(["ip"]), [ipRestriction({ blockedIpAddresses: ["127.0.0.0/8"] })]);
    expect((await send(`http://127.0.0.1:${blocked.port}/api/v1/orders`)).status).toBe(403);
  });
});

describe("request-size-limit-inbound behind a policy that already read the body", () => {
  const twoLimits = () => setup(["outer", "inner"], [sizeLimit("outer", 1000), sizeLimit("inner", 10)], {}, {}, "post");

  it("answers a body over the tighter limit with a whole 413 problem naming that limit", async () => {
    const { u, g } = await twoLimits();
    const r = await send(`${g.url}/api/v1/orders`, { method: "POST", body: "x".repeat(11) });
    expect(r).toEqual(problemAnswer(413, "payload-too-large", "Payload Too Large", "The request body is over 10 bytes", { connection: "close", "keep-alive": undefined }));
    expect(u.seen).toEqual([]);
  });

  it("forwards a body of exactly the limit, and a smaller one, at once and unchanged", async () => {
    const { u, g } = await twoLimits();
    const started = Date.now();
    expect(await send(`${g.url}/api/v1/orders`, { method: "POST", body: "x".repeat(10) })).toEqual({ status: 200, headers: upstreamHeaders(), body: { ok: true, path: "/api/v1/orders" } });
    expect((await send(`${g.url}/api/v1/orders`, { method: "POST", body: "small" })).status).toBe(200);
    // The body is not read a second time (that read would wait out the body timeout).
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(u.seen.map((s) => s.body)).toEqual(["x".repeat(10), "small"]);
  });

  it("answers a body over its own limit with 413 and forwards nothing, the body never reaching the upstream", async () => {
    const { u, g } = await setup(["size"], [sizeLimit("size", 10)], {}, {}, "post");
    const r = await send(`${g.url}/api/v1/orders`, { method: "POST", body: "x".repeat(100) });
    expect(r).toEqual(problemAnswer(413, "payload-too-large", "Payload Too Large", "The request body is 100 bytes; at most 10 are accepted", { connection: "close", "keep-alive": undefined }));
    expect(u.seen).toEqual([]);
  });

  it("stops an oversized body itself, even before a handler that never reads bodies", async () => {
    const redirect = { export: "redirectHandler", module: "$import(@zuplo/runtime)", options: { location: "https://docs.example.com/orders", status: 307 } };
    const g = await gateway(files([{ method: "post", route: route(["size"], redirect) }], [sizeLimit("size", 10)]));
    const over = await send(`${g.url}/api/v1/orders`, { method: "POST", body: "x".repeat(100) });
    expect(over).toEqual(problemAnswer(413, "payload-too-large", "Payload Too Large", "The request body is 100 bytes; at most 10 are accepted", { connection: "close", "keep-alive": undefined }));
    const fits = await send(`${g.url}/api/v1/orders`, { method: "POST", body: "small" });
    expect([fits.status, fits.headers.location]).toEqual([307, "https://docs.example.com/orders"]);
  });
});

describe("api-key-inbound", () => {
  const keyed = (options: Record<string, unknown> = {}) => setup(["api-key-inbound"], [{ ...apiKeyPolicy(), handler: { ...apiKeyPolicy().handler, options } }], { consumers: [consumer("alice", "key-alice")] });

  it("answers a missing key with a whole 401 problem and a Bearer challenge", async () => {
    const { g } = await keyed();
    expect(await send(`${g.url}/api/v1/orders`)).toEqual(problemAnswer(401, "unauthorized", "Unauthorized", 'An API key is required: send it as "Authorization: Bearer <key>"', { "www-authenticate": 'Bearer realm="gitway"' }));
  });

  it("answers an unknown key with a whole 401 problem and a Bearer challenge", async () => {
    const { g } = await keyed();
    expect(await send(`${g.url}/api/v1/orders`, { headers: { authorization: "Bearer key-mallory" } })).toEqual(problemAnswer(401, "unauthorized", "Unauthorized", "The API key is not valid for this environment", { "www-authenticate": 'Bearer realm="gitway"' }));
  });

  it("with an empty scheme, says to send the bare key and challenges with ApiKey", async () => {
    const { u, g } = await keyed({ authHeader: "X-Api-Key", authScheme: "" });
    const missing = await send(`${g.url}/api/v1/orders`);
    expect(missing).toEqual(problemAnswer(401, "unauthorized", "Unauthorized", 'An API key is required: send it as "X-Api-Key: <key>"', { "www-authenticate": 'ApiKey realm="gitway"' }));
    const unknown = await send(`${g.url}/api/v1/orders`, { headers: { "x-api-key": "Bearer key-alice" } });
    expect(unknown).toEqual(problemAnswer(401, "unauthorized", "Unauthorized", "The API key is not valid for this environment", { "www-authenticate": 'ApiKey realm="gitway"' }));
    expect((await send(`${g.url}/api/v1/orders`, { headers: { "x-api-key": "key-alice" } })).status).toBe(200);
    expect(u.seen.map((s) => [s.headers["x-consumer-name"], s.headers["x-api-key"]])).toEqual([["alice", undefined]]);
  });

  it("names its own scheme in the message and the challenge", async () => {
    const { g } = await keyed({ authHeader: "X-Api-Key", authScheme: "Token" });
    const r = await send(`${g.url}/api/v1/orders`, { headers: { "x-api-key": "key-alice" } });
    expect(r).toEqual(problemAnswer(401, "unauthorized", "Unauthorized", 'An API key is required: send it as "X-Api-Key: Token <key>"', { "www-authenticate": 'Token realm="gitway"' }));
    expect((await send(`${g.url}/api/v1/orders`, { headers: { "x-api-key": "token key-alice" } })).status).toBe(200);
  });

  it("needs a space after the scheme, and ignores extra spaces before the key", async () => {
    const { u, g } = await keyed();
    expect((await send(`${g.url}/api/v1/orders`, { headers: { authorization: "Bearerkey-alice" } })).status).toBe(401);
    expect((await send(`${g.url}/api/v1/orders`, { headers: { authorization: "Bearer   key-alice" } })).status).toBe(200);
    expect(u.seen.map((s) => s.headers["x-consumer-name"])).toEqual(["alice"]);
  });

  it("when unauthenticated requests are allowed, forwards one with an unknown key without naming a consumer or passing the key on", async () => {
    const { u, g } = await keyed({ allowUnauthenticatedRequests: true });
    expect((await send(`${g.url}/api/v1/orders`, { headers: { authorization: "Bearer key-mallory", "x-consumer-name": "forged" } })).status).toBe(200);
    expect(u.seen.map((s) => [s.headers["x-consumer-name"], s.headers.authorization])).toEqual([[undefined, undefined]]);
  });
});

describe("CORS", () => {
  /** Routes for `methods` at /api/v1/orders under the CORS policy "partners". */
  async function cors(policyDef: Record<string, unknown>, methods = ["get"]) {
    const u = await upstream();
    const routes = methods.map((method) => ({ method, route: route([], forward(u.url), { corsPolicy: "partners" }) }));
    const g = await gateway(files(routes, [], { corsPolicies: [{ name: "partners", ...policyDef }] }));
    return { u, g };
  }
  const preflight = (url: string, origin: string, method: string, requestHeaders?: string) => send(url, { method: "OPTIONS", headers: { origin, "access-control-request-method": method, ...(requestHeaders ? { "access-control-request-headers": requestHeaders } : {}) } });
  const preflightVary = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";

  it("answers a preflight with the policy's methods and headers, credentials and max age", async () => {
    const { u, g } = await cors({ allowedOrigins: ["https://app.example"], allowedMethods: ["get", "post"], allowedHeaders: ["x-a", "x-b"], allowCredentials: true, maxAge: 60 }, ["get", "post"]);
    expect(await preflight(`${g.url}/api/v1/orders`, "https://app.example", "POST", "x-a")).toEqual({
      status: 204,
      headers: {
        "access-control-allow-origin": "https://app.example",
        vary: preflightVary,
        "access-control-allow-methods": "GET, POST",
        "access-control-allow-headers": "x-a, x-b",
        "access-control-allow-credentials": "true",
        "access-control-max-age": "60",
        "content-length": "0",
        "x-request-id": "req-1",
        ...keepAlive,
      },
      body: "",
    });
    expect(u.seen).toEqual([]);
  });

  it("leaves out allow-headers, credentials and max age from a preflight when nothing asks for them", async () => {
    const { g } = await cors({ allowedOrigins: ["https://app.example"], allowedMethods: ["GET"], allowedHeaders: ["x-a"] });
    expect(await preflight(`${g.url}/api/v1/orders`, "https://app.example", "GET")).toEqual({
      status: 204,
      headers: { "access-control-allow-origin": "https://app.example", vary: preflightVary, "access-control-allow-methods": "GET", "content-length": "0", "x-request-id": "req-1", ...keepAlive },
      body: "",
    });
  });

  it("refuses a preflight for a method the route has but the policy does not allow", async () => {
    const { g } = await cors({ allowedOrigins: ["https://app.example"], allowedMethods: ["GET"] }, ["get", "delete"]);
    const r = await preflight(`${g.url}/api/v1/orders`, "https://app.example", "DELETE");
    expect(r).toEqual(problemAnswer(403, "cors-not-allowed", "Forbidden", "This origin or method is not allowed by the route's CORS policy"));
  });

  it("with allowedHeaders *, reflects the headers the preflight asks for", async () => {
    const { g } = await cors({ allowedOrigins: ["https://app.example"], allowedHeaders: ["*"] });
    const r = await preflight(`${g.url}/api/v1/orders`, "https://app.example", "GET", "x-trace, content-type");
    expect(r.headers["access-control-allow-headers"]).toBe("x-trace, content-type");
  });

  it("with allowedOrigins *, allows any origin", async () => {
    const { g } = await cors({ allowedOrigins: ["*"] });
    const r = await send(`${g.url}/api/v1/orders`, { headers: { origin: "https://anyone.example" } });
    expect(r).toEqual({ status: 200, headers: upstreamHeaders("/api/v1/orders", { "access-control-allow-origin": "https://anyone.example", vary: "Origin" }), body: { ok: true, path: "/api/v1/orders" } });
  });

  it("allows an origin matching any one of several globs, whatever its case", async () => {
    const { g } = await cors({ allowedOrigins: ["https://*.partner.example", "https://app.example"], exposeHeaders: ["x-upstream", "content-length"] });
    const origins = ["https://app.example", "https://EU.Partner.example", "https://evil.example", "https://a/b.partner.example"];
    const allowed = [];
    for (const origin of origins) allowed.push((await send(`${g.url}/api/v1/orders`, { headers: { origin } })).headers["access-control-allow-origin"]);
    expect(allowed).toEqual(["https://app.example", "https://EU.Partner.example", undefined, undefined]);
    const r = await send(`${g.url}/api/v1/orders`, { headers: { origin: "https://app.example" } });
    expect(r).toEqual({ status: 200, headers: upstreamHeaders("/api/v1/orders", { "access-control-allow-origin": "https://app.example", vary: "Origin", "access-control-expose-headers": "x-upstream, content-length" }), body: { ok: true, path: "/api/v1/orders" } });
  });

  it("sends no expose header when the policy exposes nothing, nor with anything-goes", async () => {
    const { g } = await cors({ allowedOrigins: ["https://app.example"] });
    expect((await send(`${g.url}/api/v1/orders`, { headers: { origin: "https://app.example" } })).headers).toEqual(upstreamHeaders("/api/v1/orders", { "access-control-allow-origin": "https://app.example", vary: "Origin" }));
    const u = await upstream();
    const open = await gateway(files([{ route: route([], forward(u.url), { corsPolicy: "anything-goes" }) }]));
    expect((await send(`${open.url}/api/v1/orders`, { headers: { origin: "https://app.example" } })).headers).toEqual(
      upstreamHeaders("/api/v1/orders", { "access-control-allow-origin": "https://app.example", vary: "Origin", "access-control-allow-credentials": "true" }),
    );
  });
});
