import { connect } from "node:net";
import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { readConfig } from "../../src/config/index.js";
import { compileRelease, GatewayServer, MemoryRateLimitStore, Upstreams, UsageCounter, type AccessLogEntry, type EnvironmentSettings, type GatewayServerOptions, type Release } from "../../src/gateway/index.js";
import { apiKeyPolicy, builtinPolicy as policy, configFiles as files, forward, route } from "../config/fixtures/seed.js";
import { snapshot } from "../helpers.js";
import { consumer, startUpstream, type SeenRequest } from "./harness.js";

/**
 * The details of GatewayServer itself, in process: which environment a host gets, request ids,
 * the answers the gateway makes on its own (malformed requests, bad paths, no route, CORS
 * preflights, failures), the access log, and listen/close.
 */
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});



/** A release of `f` for one environment, with a body cap of `maxBodyBytes`. */
function release(f: Record<string, string>, settings: Partial<EnvironmentSettings> = {}, maxBodyBytes = 1024 * 1024): Release {
  const { config, diagnostics } = readConfig(snapshot(f));
  const errors = diagnostics.filter((d) => d.severity === "error");
  if (!config || errors.length > 0) throw new Error("fixture has errors: " + errors.map((d) => `${d.rule} ${d.message}`).join("; "));
  const upstreams = new Upstreams();
  closers.push(() => upstreams.close());
  const services = { upstreams, rateLimitStore: new MemoryRateLimitStore(), log: () => undefined, maxBodyBytes, bodyTimeoutMs: 10_000 };
  return compileRelease(config, { name: settings.name ?? "local", vars: settings.vars ?? {}, consumers: settings.consumers ?? [] }, services);
}

interface Running {
  server: GatewayServer;
  port: number;
  url: string;
  logs: [string, string][];
  entries: AccessLogEntry[];
}

/** A GatewayServer on loopback (base domain gitway.test) serving `environments` by label, with a log and an access log. */
async function start(environments: Record<string, Release>, options: Partial<GatewayServerOptions> = {}): Promise<Running> {
  const logs: [string, string][] = [];
  const entries: AccessLogEntry[] = [];
  const server = new GatewayServer({ baseDomain: "gitway.test", log: (level, message) => void logs.push([level, message]), accessLog: (e) => void entries.push(e), ...options });
  for (const [label, r] of Object.entries(environments)) server.deploy(label, r);
  const port = await server.listen(0);
  closers.push(() => server.close());
  return { server, port, url: `http://127.0.0.1:${port}`, logs, entries };
}

/** One environment `local`, served to every host. */
const serveOne = (f: Record<string, string>, options: Partial<GatewayServerOptions> = {}) => start({ local: release(f) }, { fallbackEnvironment: "local", ...options });

async function upstream(answer?: (req: SeenRequest, res: import("node:http").ServerResponse) => void) {
  const u = await startUpstream(answer);
  closers.push(u.close);
  return u;
}

interface Answer {
  status: number;
  headers: Record<string, unknown>;
  body: unknown;
}

/** Sends a request and gives back status, headers (but the date) and body (parsed when JSON). */
async function send(url: string, headers: Record<string, string> = {}, method = "GET"): Promise<Answer> {
  const r = await request(url, { method: method as "GET", headers, headersTimeout: 3_000, bodyTimeout: 3_000 });
  const text = await r.body.text();
  const { date: _date, "keep-alive": _keepAlive, ...rest } = r.headers;
  const json = /json/.test(String(r.headers["content-type"]));
  return { status: r.statusCode, headers: rest, body: json ? (JSON.parse(text) as unknown) : text };
}

/** Writes `data` on a fresh connection; resolves with all the gateway sends until it closes (or `waitMs`). */
function exchange(port: number, data: string, waitMs = 3_000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(data));
    let got = "";
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(got);
    }, waitMs);
    socket.on("data", (c: Buffer) => (got += c.toString("latin1")));
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(got);
    });
    socket.on("error", () => undefined);
  });
}

/** A raw HTTP answer split into its status line, its header lines (but the date) and its JSON body. */
function parseRaw(text: string): { statusLine: string; headers: string[]; body: unknown } {
  const end = text.indexOf("\r\n\r\n");
  const [statusLine, ...headers] = text.slice(0, end).split("\r\n");
  return { statusLine: statusLine!, headers: headers.filter((h) => !/^date:/i.test(h)), body: JSON.parse(text.slice(end + 4)) as unknown };
}

const problemHeaders = (bytes: number) => ["content-type: application/problem+json", `content-length: ${bytes}`, "connection: close"];

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
}

describe("environments of a GatewayServer", () => {
  it("deploys, replaces, finds and removes environments by label, and counts them", () => {
    const server = new GatewayServer({ baseDomain: "gitway.test" });
    const f = files([{ route: route([], forward("https://a.example")) }]);
    const [first, second, other] = [release(f), release(f, { name: "second" }), release(f, { name: "other" })];
    expect(server.environmentCount).toBe(0);
    server.deploy("acme-shop-main", first);
    server.deploy("acme-shop-pr-1", other);
    server.deploy("acme-shop-main", second);
    expect([server.environmentCount, server.releaseOf("acme-shop-main"), server.releaseOf("acme-shop-pr-1"), server.releaseOf("acme-shop-pr-2")]).toEqual([2, second, other, undefined]);
    expect([server.remove("acme-shop-pr-1"), server.remove("acme-shop-pr-1"), server.environmentCount, server.releaseOf("acme-shop-pr-1")]).toEqual([true, false, 1, undefined]);
  });

  it("answers a host of no environment with a 404 problem whose instance is the root, not the path asked for", async () => {
    const g = await start({ "acme-shop-main": release(files([{ route: route([], forward("https://a.example")) }])) });
    const r = await send(`${g.url}/api/v1/orders?secret=1`, { host: `acme-other-main.gitway.test:${g.port}`, "x-request-id": "env-1" });
    expect(r).toEqual({
      status: 404,
      headers: { "content-type": "application/problem+json", "content-length": expect.any(String), "x-request-id": "env-1", connection: "keep-alive" },
      body: { type: "https://gitway.dev/problems/environment-not-found", title: "Not Found", status: 404, detail: "No environment is served at this host name", instance: "/", trace: { requestId: "env-1" } },
    });
  });

  it("serves the fallback environment to hosts of no environment, and an environment's own host its own", async () => {
    const u = await upstream();
    const g = await start({ local: release(files([{ route: route([], forward(u.url + "/fallback")) }])), "acme-shop-pr-3": release(files([{ route: route([], forward(u.url + "/pr")) }]), { name: "pr-3" }) }, { fallbackEnvironment: "local" });
    expect((await send(`${g.url}/api/v1/orders`, { host: `unknown.example:${g.port}` })).body).toEqual({ ok: true, path: "/fallback/api/v1/orders" });
    expect((await send(`${g.url}/api/v1/orders`, { host: `ACME-shop-pr-3.gitway.test:${g.port}` })).body).toEqual({ ok: true, path: "/pr/api/v1/orders" });
  });
});

describe("request ids", () => {
  const nope = async (g: Running, id?: string) => {
    const r = await send(`${g.url}/nope`, id === undefined ? {} : { "x-request-id": id });
    expect((r.body as { trace: unknown }).trace).toEqual({ requestId: r.headers["x-request-id"] });
    return r.headers["x-request-id"] as string;
  };

  it("keeps a caller's id of up to 64 letters, digits, dots, dashes and underscores", async () => {
    const g = await serveOne(files([{ route: route([], forward("https://a.example")) }]));
    const longest = "a".repeat(63) + "Z";
    expect([await nope(g, "req.A-1_b"), await nope(g, longest)]).toEqual(["req.A-1_b", longest]);
  });

  it("replaces a missing or malformed id with its own, process-unique and counting up", async () => {
    const g = await serveOne(files([{ route: route([], forward("https://a.example")) }]));
    const ids = [await nope(g), await nope(g, "bad id"), await nope(g, "a".repeat(65)), await nope(g, "x/../y"), await nope(g, "")];
    const own = new RegExp(`^${process.pid.toString(36)}-[0-9a-z]+-([0-9a-z]+)$`);
    for (const id of ids) expect(id).toMatch(own);
    const counts = ids.map((id) => parseInt(own.exec(id)![1]!, 36));
    expect(counts.map((n) => n - counts[0]!)).toEqual([0, 1, 2, 3, 4]);
  });
});

describe("answers the gateway makes itself", () => {
  it("refuses a path that climbs above the root with a 400 problem", async () => {
    const g = await serveOne(files([{ route: route([], forward("https://a.example")) }]));
    const raw = await exchange(g.port, "GET /api/%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\nX-Request-Id: path-1\r\nConnection: close\r\n\r\n");
    const body = { type: "https://gitway.dev/problems/bad-path", title: "Bad Request", status: 400, detail: "The request path is not valid (it climbs above the root or is badly encoded)", instance: "/", trace: { requestId: "path-1" } };
    expect(parseRaw(raw)).toEqual({ statusLine: "HTTP/1.1 400 Bad Request", headers: ["content-type: application/problem+json", `content-length: ${JSON.stringify(body).length}`, "x-request-id: path-1", "Connection: close"], body });
  });

  it("answers a method of no route with 405 and every allowed method in Allow", async () => {
    const g = await serveOne(files([{ route: route([], forward("https://a.example")) }, { method: "post", route: route([], forward("https://a.example")) }]));
    const r = await send(`${g.url}/api/v1/orders`, { "x-request-id": "m-1" }, "DELETE");
    expect(r).toEqual({
      status: 405,
      headers: { allow: "GET, POST", "content-type": "application/problem+json", "content-length": expect.any(String), "x-request-id": "m-1", connection: "keep-alive" },
      body: { type: "https://gitway.dev/problems/method-not-allowed", title: "Method Not Allowed", status: 405, detail: "DELETE is not allowed here; use GET, POST", instance: "/api/v1/orders", trace: { requestId: "m-1" } },
    });
  });

  it("answers a policy's own response with the route's CORS headers and the request id", async () => {
    const example = { responses: { "200": { description: "ok", content: { "text/plain": { example: "mocked" } } } } };
    const f = files([{ ...example, route: route(["mock"], forward("https://a.example"), { corsPolicy: "anything-goes" }) }], [policy("mock", "mock-api-inbound", "MockApiInboundPolicy")]);
    const g = await serveOne(f);
    expect(await send(`${g.url}/api/v1/orders`, { origin: "https://app.example", "x-request-id": "mock-1" })).toEqual({
      status: 200,
      headers: { "access-control-allow-origin": "https://app.example", vary: "Origin", "access-control-allow-credentials": "true", "content-type": "text/plain", "content-length": "6", "x-request-id": "mock-1", connection: "keep-alive" },
      body: "mocked",
    });
  });
});

describe("CORS preflights", () => {
  const partners = { corsPolicies: [{ name: "partners", allowedOrigins: ["https://app.example"], allowedMethods: ["GET", "POST"], allowedHeaders: ["x-a"], maxAge: 60 }] };
  const setup = async () => {
    const u = await upstream();
    const f = files(
      [
        { route: route([], forward(u.url), { corsPolicy: "partners" }) },
        { method: "post", route: route([], forward(u.url), { corsPolicy: "partners" }) },
        { path: "/api/v1/plain", route: route([], forward(u.url)) },
        { path: "/api/v1/open", route: route([], forward(u.url), { corsPolicy: "anything-goes" }) },
      ],
      [],
      partners,
    );
    return { u, g: await serveOne(f) };
  };
  const notAllowed = (method: string, allow: string, path = "/api/v1/orders") => ({
    status: 405,
    headers: { allow, "content-type": "application/problem+json", "content-length": expect.any(String), "x-request-id": "cors-1", connection: "keep-alive" },
    body: { type: "https://gitway.dev/problems/method-not-allowed", title: "Method Not Allowed", status: 405, detail: `${method} is not allowed here; use ${allow}`, instance: path, trace: { requestId: "cors-1" } },
  });
  const id = { "x-request-id": "cors-1" };

  it("answers a preflight of an allowed origin with 204 and the policy's headers, reading the wanted method in any case", async () => {
    const { u, g } = await setup();
    const r = await send(`${g.url}/api/v1/orders`, { ...id, origin: "https://app.example", "access-control-request-method": "post", "access-control-request-headers": "x-a, x-b" }, "OPTIONS");
    expect(r).toEqual({
      status: 204,
      headers: { "access-control-allow-origin": "https://app.example", vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers", "access-control-allow-methods": "GET, POST", "access-control-allow-headers": "x-a", "access-control-max-age": "60", "content-length": "0", "x-request-id": "cors-1", connection: "keep-alive" },
      body: "",
    });
    expect(u.seen).toEqual([]);
  });

  it("refuses a preflight of another origin with a 403 problem", async () => {
    const { g } = await setup();
    const r = await send(`${g.url}/api/v1/orders`, { ...id, origin: "https://evil.example", "access-control-request-method": "GET" }, "OPTIONS");
    expect(r).toEqual({
      status: 403,
      headers: { "content-type": "application/problem+json", "content-length": expect.any(String), "x-request-id": "cors-1", connection: "keep-alive" },
      body: { type: "https://gitway.dev/problems/cors-not-allowed", title: "Forbidden", status: 403, detail: "This origin or method is not allowed by the route's CORS policy", instance: "/api/v1/orders", trace: { requestId: "cors-1" } },
    });
  });

  it("treats an OPTIONS without Origin, or without Access-Control-Request-Method, as a plain request (405 here)", async () => {
    const { g } = await setup();
    expect(await send(`${g.url}/api/v1/orders`, { ...id, "access-control-request-method": "GET" }, "OPTIONS")).toEqual(notAllowed("OPTIONS", "GET, POST"));
    expect(await send(`${g.url}/api/v1/orders`, { ...id, origin: "https://app.example" }, "OPTIONS")).toEqual(notAllowed("OPTIONS", "GET, POST"));
  });

  it("treats a preflight for a path, method or route of no CORS policy as a plain OPTIONS request", async () => {
    const { g } = await setup();
    const pre = { ...id, origin: "https://app.example", "access-control-request-method": "GET" };
    expect(await send(`${g.url}/nope`, pre, "OPTIONS")).toEqual({
      status: 404,
      headers: { "content-type": "application/problem+json", "content-length": expect.any(String), "x-request-id": "cors-1", connection: "keep-alive" },
      body: { type: "https://gitway.dev/problems/route-not-found", title: "Not Found", status: 404, detail: "No route matches OPTIONS /nope", instance: "/nope", trace: { requestId: "cors-1" } },
    });
    expect(await send(`${g.url}/api/v1/orders`, { ...pre, "access-control-request-method": "DELETE" }, "OPTIONS")).toEqual(notAllowed("OPTIONS", "GET, POST"));
    expect(await send(`${g.url}/api/v1/plain`, pre, "OPTIONS")).toEqual(notAllowed("OPTIONS", "GET", "/api/v1/plain"));
  });

  it("forwards a GET that carries Origin and Access-Control-Request-Method, with CORS response headers", async () => {
    const { u, g } = await setup();
    const r = await send(`${g.url}/api/v1/orders`, { ...id, origin: "https://app.example", "access-control-request-method": "GET" });
    expect([r.status, r.headers["access-control-allow-origin"], r.headers.vary, r.body]).toEqual([200, "https://app.example", "Origin", { ok: true, path: "/api/v1/orders" }]);
    expect(u.seen).toHaveLength(1);
  });

  it("adds CORS response headers only when the route has a policy and the request an Origin", async () => {
    const { g } = await setup();
    const cors = (r: Answer) => [r.status, Object.keys(r.headers).filter((h) => h.startsWith("access-control-"))];
    expect(cors(await send(`${g.url}/api/v1/plain`, { origin: "https://app.example" }))).toEqual([200, []]);
    expect(cors(await send(`${g.url}/api/v1/open`))).toEqual([200, []]);
    expect(cors(await send(`${g.url}/api/v1/open`, { origin: "https://app.example" }))).toEqual([200, ["access-control-allow-origin", "access-control-allow-credentials"]]);
  });
});

describe("malformed requests, answered on the socket", () => {
  const f = files([{ route: route([], forward("https://a.example")) }]);

  it("answers a request line it cannot read with 400 and closes", async () => {
    const g = await serveOne(f);
    const body = { type: "https://gitway.dev/problems/bad-request", title: "Bad Request", status: 400, detail: "The request could not be read" };
    expect(parseRaw(await exchange(g.port, "NOT AN HTTP REQUEST\r\n\r\n"))).toEqual({ statusLine: "HTTP/1.1 400 Bad Request", headers: problemHeaders(JSON.stringify(body).length), body });
  });

  it("answers headers over maxHeaderBytes with 431 and closes, and serves headers under it", async () => {
    const u = await upstream();
    const g = await serveOne(files([{ route: route([], forward(u.url)) }]), { maxHeaderBytes: 2048 });
    const body = { type: "https://gitway.dev/problems/headers-too-large", title: "Request Header Fields Too Large", status: 431, detail: "The request headers are too large" };
    const raw = await exchange(g.port, `GET /api/v1/orders HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(4000)}\r\n\r\n`);
    expect(parseRaw(raw)).toEqual({ statusLine: "HTTP/1.1 431 Request Header Fields Too Large", headers: problemHeaders(JSON.stringify(body).length), body });
    expect((await send(`${g.url}/api/v1/orders`, { "x-big": "a".repeat(1000) })).status).toBe(200);
  });

  it("answers headers that do not arrive within headersTimeoutMs with 408", async () => {
    const g = await serveOne(f, { headersTimeoutMs: 200 });
    const body = { type: "https://gitway.dev/problems/bad-request", title: "Request Timeout", status: 408, detail: "The request could not be read" };
    expect(parseRaw(await exchange(g.port, "GET /api/v1/orders HTTP/1.1\r\nHost: x\r\nX-Slow: "))).toEqual({ statusLine: "HTTP/1.1 408 Request Timeout", headers: problemHeaders(JSON.stringify(body).length), body });
  });

  it("answers a request whose body does not arrive within requestTimeoutMs with 408", async () => {
    const limit = policy("limit", "request-size-limit-inbound", "RequestSizeLimitInboundPolicy", { maxSizeInBytes: 1000 });
    const g = await serveOne(files([{ method: "post", route: route(["limit"], forward("https://a.example")) }], [limit]), { headersTimeoutMs: 200, requestTimeoutMs: 400 });
    const body = { type: "https://gitway.dev/problems/bad-request", title: "Request Timeout", status: 408, detail: "The request could not be read" };
    const raw = await exchange(g.port, "POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc");
    expect(parseRaw(raw)).toEqual({ statusLine: "HTTP/1.1 408 Request Timeout", headers: problemHeaders(JSON.stringify(body).length), body });
  });

  it("answers Expect: 100-continue with 413 instead of an invitation when the declared body is over the cap", async () => {
    const g = await start({ local: release(files([{ method: "post", route: route([], forward("https://a.example")) }]), {}, 1024) }, { fallbackEnvironment: "local" });
    const raw = await exchange(g.port, "POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nX-Request-Id: big-1\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n");
    const body = { type: "https://gitway.dev/problems/payload-too-large", title: "Payload Too Large", status: 413, detail: "The request body is 5000 bytes; at most 1024 are accepted", instance: "/", trace: { requestId: "big-1" } };
    expect(parseRaw(raw)).toEqual({ statusLine: "HTTP/1.1 413 Payload Too Large", headers: ["connection: close", "content-type: application/problem+json", `content-length: ${JSON.stringify(body).length}`, "x-request-id: big-1"], body });
  });
});

describe("a failure inside the gateway", () => {
  /** A release whose one route's handler throws, as a fault in the gateway's own code would. */
  const broken = (): Release => {
    const r = release(files([{ route: route([], forward("https://a.example")) }]));
    const found = r.matcher.find("GET", "/api/v1/orders");
    if (!found || !("match" in found)) throw new Error("fixture route not found");
    found.match.value.handler = () => Promise.reject(new TypeError("the handler broke"));
    return r;
  };
  const answer500 = (instance: string) => ({
    status: 500,
    headers: { "content-type": "application/problem+json", "content-length": expect.any(String), "x-request-id": "boom-1", connection: "keep-alive" },
    body: { type: "https://gitway.dev/problems/internal-error", title: "Internal Server Error", status: 500, detail: "The gateway failed to handle the request", instance, trace: { requestId: "boom-1" } },
  });

  it("answers 500 with the request id and the raw URL, and logs the error with its stack under that id", async () => {
    const g = await start({ local: broken() }, { fallbackEnvironment: "local" });
    expect(await send(`${g.url}/api/v1/orders?x=1`, { "x-request-id": "boom-1" })).toEqual(answer500("/api/v1/orders?x=1"));
    expect(g.logs).toEqual([["error", expect.stringMatching(/^unhandled gateway error \(request boom-1\): TypeError: the handler broke\n +at /)]]);
  });

  it("still answers 500 when it has no log", async () => {
    const g = await start({ local: broken() }, { fallbackEnvironment: "local", log: undefined });
    expect(await send(`${g.url}/api/v1/orders`, { "x-request-id": "boom-1" })).toEqual(answer500("/api/v1/orders"));
  });
});

describe("the access log", () => {
  it("records one entry per routed request once its answer is sent: id, environment, method, path, route, status, time taken, consumer and address", async () => {
    const u = await upstream((_req, res) => setTimeout(() => res.end("late"), 60));
    const f = files([{ route: route(["api-key-inbound"], forward(u.url)) }, { method: "post", route: route([], forward(u.url)) }], [apiKeyPolicy()]);
    const g = await start({ "acme-shop-pr-7": release(f, { name: "pr-7", consumers: [consumer("alice", "key-alice")] }) });
    const host = `acme-shop-pr-7.gitway.test:${g.port}`;
    const started = performance.now();
    expect((await send(`${g.url}/api/v1/orders?x=1`, { host, authorization: "Bearer key-alice", "x-request-id": "log-1" })).status).toBe(200);
    const elapsed = performance.now() - started;
    expect((await send(`${g.url}/api/v1/orders`, { host, "x-request-id": "log-2" }, "POST")).status).toBe(200);
    expect((await send(`${g.url}/api/v1/orders`, { host, "x-request-id": "log-3" })).status).toBe(401);
    await until(() => g.entries.length >= 3);
    const time = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(g.entries).toEqual([
      { time, requestId: "log-1", environment: "pr-7", method: "GET", path: "/api/v1/orders", route: "GET /api/v1/orders", status: 200, ms: expect.any(Number), consumer: "alice", ip: "127.0.0.1" },
      { time, requestId: "log-2", environment: "pr-7", method: "POST", path: "/api/v1/orders", route: "POST /api/v1/orders", status: 200, ms: expect.any(Number), consumer: undefined, ip: "127.0.0.1" },
      { time, requestId: "log-3", environment: "pr-7", method: "GET", path: "/api/v1/orders", route: "GET /api/v1/orders", status: 401, ms: expect.any(Number), consumer: undefined, ip: "127.0.0.1" },
    ]);
    // The upstream waited 60 ms; the time is in milliseconds to one decimal.
    const ms = g.entries[0]!.ms;
    expect([ms >= 55, ms <= elapsed + 1, Number.isInteger(Math.round(ms * 10))]).toEqual([true, true, true]);
  });
});

describe("usage counting", () => {
  const hour = Date.UTC(2026, 11, 3, 9);
  const calls = (usage: UsageCounter) => usage.drain().map((r) => `${r.environment} ${r.operation} ${r.route} ${r.consumer} ${r.status} ${r.count}`);

  async function traffic(options: Partial<GatewayServerOptions>, answered: () => boolean) {
    const u = await upstream();
    const f = files([{ operationId: "listOrders", route: route(["api-key-inbound"], forward(u.url)) }, { method: "post", route: route([], forward(u.url)) }], [apiKeyPolicy()]);
    const g = await start({ "acme-shop-pr-7": release(f, { name: "pr-7", consumers: [consumer("alice", "key-alice")] }) }, options);
    const host = `acme-shop-pr-7.gitway.test:${g.port}`;
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await send(`${g.url}/api/v1/orders`, { host, authorization: "Bearer key-alice" })).status);
    statuses.push((await send(`${g.url}/api/v1/orders`, { host }, "POST")).status);
    statuses.push((await send(`${g.url}/api/v1/orders`, { host })).status);
    statuses.push((await send(`${g.url}/api/v1/orders`, { host, authorization: "Bearer key-alice" }, "DELETE")).status);
    statuses.push((await send(`${g.url}/nowhere`, { host })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 401, 405, 404]);
    await until(answered);
    return g;
  }

  const expected = ["pr-7 listOrders GET /api/v1/orders alice 2xx 3", "pr-7 op-1 POST /api/v1/orders anonymous 2xx 1", "pr-7 listOrders GET /api/v1/orders anonymous 4xx 1"];

  it("counts each routed call once its answer is sent, beside the access log, per operation, consumer (anonymous without one) and status class; a call no route matched is not counted", async () => {
    const usage = new UsageCounter({ now: () => hour });
    const g = await traffic({ usage }, () => usage.size >= 3);
    expect(calls(usage)).toEqual(expected);
    expect(g.entries.map((e) => `${e.route} ${e.consumer} ${e.status}`)).toEqual([...Array(3).fill("GET /api/v1/orders alice 200"), "POST /api/v1/orders undefined 200", "GET /api/v1/orders undefined 401"]);
  });

  it("counts the same without an access log", async () => {
    const usage = new UsageCounter({ now: () => hour });
    await traffic({ usage, accessLog: undefined }, () => usage.size >= 3);
    expect(calls(usage)).toEqual(expected);
  });
});

describe("listen and close", () => {
  it("rejects listen on a port already taken", async () => {
    const g = await serveOne(files([{ route: route([], forward("https://a.example")) }]));
    const second = new GatewayServer({ baseDomain: "gitway.test" });
    closers.push(() => second.close());
    await expect(second.listen(g.port)).rejects.toMatchObject({ code: "EADDRINUSE" });
  });

  it("closes with an idle keep-alive connection open, and then refuses connections", async () => {
    const u = await upstream();
    const g = await serveOne(files([{ route: route([], forward(u.url)) }]));
    expect((await send(`${g.url}/api/v1/orders`)).status).toBe(200);
    await g.server.close();
    const refused = await new Promise<string>((resolve) => {
      const socket = connect(g.port, "127.0.0.1", () => {
        socket.destroy();
        resolve("connected");
      });
      socket.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "error"));
    });
    expect(refused).toBe("ECONNREFUSED");
  });
});
