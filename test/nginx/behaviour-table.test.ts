import { connect } from "node:net";
import { Readable } from "node:stream";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readConfig } from "../../src/config/index.js";
import { renderNginx, type NginxRenderResult } from "../../src/nginx/render.js";
import { builtinPolicy as policy, forward, routesFile, type RouteSpec } from "../config/fixtures/seed.js";
import { consumer, startGateway, startUpstream, type GatewayUnderTest } from "../gateway/harness.js";
import { snapshot } from "../helpers.js";
import { freePort } from "../free-port.js";
import { JS_MODULE, startNginx, type RunningNginx } from "./nginx-process.js";

/**
 * One table of gateway behaviour, run against both engines: the Node gateway as the gateway tests
 * start it, and real nginx on the rendered configuration, with the same loopback upstream. Where
 * the engines differ on purpose, a row says so (`nginx`) and the README's "nginx engine" section
 * lists the difference with its reason.
 */
const HOST = "local.gitway.test";
/** A second environment, whose path nginx cannot match itself. */
const ESCAPED_HOST = "escaped.gitway.test";
const CLIENT_HEADER = "X-Gitway-Client-Address";
const KEY = "k-alice-0123456789";
const BASIC = "Basic " + Buffer.from("ops:s3cret$").toString("base64");

const route = (path: string, handler: unknown, inbound: string[] = [], more: { outbound?: string[]; corsPolicy?: string } = {}): RouteSpec => ({ path, route: { corsPolicy: more.corsPolicy ?? "none", handler, policies: { inbound, ...(more.outbound ? { outbound: more.outbound } : {}) } } });

function files(upstream: string, closed: string) {
  const routes = [
    route("/open", forward(upstream)),
    { ...route("/open", forward(upstream)), method: "post" },
    route("/orders/latest", forward(`${upstream}/static`)),
    { ...route("/orders/{id}", forward(`${upstream}/param`)), parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }] },
    route("/prefixed", forward(`${upstream}/base`)),
    route("/keyed", forward(upstream), ["auth", "limit"], { corsPolicy: "app" }),
    route("/limited", forward(upstream), ["tight"]),
    route("/basic", forward(upstream), ["basic"]),
    route("/blocked", forward(upstream), ["block-loopback"]),
    route("/allow-list", forward(upstream), ["only-ten"]),
    { ...route("/small", forward(upstream), ["size"]), method: "post" },
    route("/headers", forward(upstream), ["add", "strip"], { outbound: ["out-add", "out-strip"] }),
    {
      ...route("/validated", forward(upstream), ["validate"], { corsPolicy: "app" }),
      method: "post",
      requestBody: { required: true, content: { "application/json": { schema: { type: "object", required: ["item"], properties: { item: { type: "string" } } } } } },
    },
    route("/moved", { export: "redirectHandler", module: "$import(@zuplo/runtime)", options: { location: "https://docs.example.com/moved", status: 301 } }),
    route("/down", forward(closed)),
    route("/down-cors", forward(closed), [], { corsPolicy: "app" }),
    route("/slow", { ...forward(upstream), options: { baseUrl: upstream, timeoutMs: 300 } }),
    { ...route("/office", forward(upstream), ["no-ten", "validate"]), method: "post", requestBody: { required: true, content: { "application/json": { schema: { type: "object" } } } } },
    route("/optional", forward(upstream), ["maybe-key"]),
    { ...route("/mocked", forward(upstream), ["mock"]), responses: { "200": { description: "ok", content: { "application/json": { example: { mocked: true } } } } } },
    route("/mixed", forward(upstream)),
    { ...route("/mixed", forward(upstream), ["auth"]), method: "post" },
  ];
  const policies = [
    policy("auth", "api-key-inbound", "ApiKeyInboundPolicy"),
    policy("limit", "rate-limit-inbound", "RateLimitInboundPolicy", { rateLimitBy: "user", requestsAllowed: 100, timeWindowMinutes: 1 }),
    policy("maybe-key", "api-key-inbound", "ApiKeyInboundPolicy", { allowUnauthenticatedRequests: true }),
    policy("mock", "mock-api-inbound", "MockApiInboundPolicy"),
    policy("tight", "rate-limit-inbound", "RateLimitInboundPolicy", { rateLimitBy: "ip", requestsAllowed: 3, timeWindowMinutes: 1 }),
    policy("basic", "basic-auth-inbound", "BasicAuthInboundPolicy", { accounts: [{ username: "ops", password: "s3cret$" }] }),
    policy("block-loopback", "ip-restriction-inbound", "IPRestrictionInboundPolicy", { blockedIpAddresses: ["127.0.0.0/8"] }),
    policy("no-ten", "ip-restriction-inbound", "IPRestrictionInboundPolicy", { blockedIpAddresses: ["10.0.0.0/8"] }),
    policy("only-ten", "ip-restriction-inbound", "IPRestrictionInboundPolicy", { allowedIpAddresses: ["10.0.0.0/8"] }),
    policy("size", "request-size-limit-inbound", "RequestSizeLimitInboundPolicy", { maxSizeInBytes: 10 }),
    policy("add", "set-headers-inbound", "SetHeadersInboundPolicy", { headers: [{ name: "X-Added", value: "v$1 'q'" }, { name: "X-Kept", value: "default", overwrite: false }] }),
    policy("strip", "remove-headers-inbound", "RemoveHeadersInboundPolicy", { headers: ["X-Remove"] }),
    policy("out-add", "set-headers-outbound", "SetHeadersOutboundPolicy", { headers: [{ name: "X-Out", value: "yes" }] }),
    policy("out-strip", "remove-headers-outbound", "RemoveHeadersOutboundPolicy", { headers: ["X-Upstream"] }),
    policy("validate", "request-validation-inbound", "RequestValidationInboundPolicy", { validateBody: "reject-and-log" }),
  ];
  return {
    "config/routes.oas.json": routesFile(routes),
    "config/policies.json": JSON.stringify({ policies, corsPolicies: [{ name: "app", allowedOrigins: ["https://app.example.com"], allowedMethods: ["GET", "POST"], allowedHeaders: ["authorization"], exposeHeaders: ["x-upstream"], allowCredentials: true, maxAge: 60 }] }),
  };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: () => Record<string, unknown>;
}

interface Engine {
  name: "node" | "nginx";
  port: number;
}

async function send(engine: Engine, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  const r = await request(`http://127.0.0.1:${engine.port}${path}`, { method: (init.method ?? "GET") as "GET", headers: { host: HOST, ...init.headers }, ...(init.body !== undefined ? { body: init.body } : {}), headersTimeout: 5_000, bodyTimeout: 5_000 });
  const text = await r.body.text();
  return { status: r.statusCode, headers: r.headers, text, json: () => JSON.parse(text) as Record<string, unknown> };
}

/** Raw bytes for requests a client library would refuse to send (hostile paths, huge heads). */
function raw(engine: Engine, head: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const s = connect(engine.port, "127.0.0.1");
    let data = "";
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error("no answer in 5 s"));
    }, 5_000);
    s.on("data", (c: Buffer) => (data += c.toString()));
    s.on("close", () => {
      clearTimeout(timer);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0);
      resolve({ status, text: data.slice(data.indexOf("\r\n\r\n") + 4) });
    });
    s.on("error", () => undefined);
    s.write(head.endsWith("\r\n\r\n") ? head : head + "\r\n\r\n");
  });
}

function expectProblem(a: Answer, status: number, type: string) {
  expect(a.status).toBe(status);
  expect(a.headers["content-type"]).toBe("application/problem+json");
  const body = a.json();
  expect(body.type).toBe(`https://gitway.dev/problems/${type}`);
  expect(body.status).toBe(status);
  expect((body.trace as { requestId: string }).requestId).toBe(a.headers["x-request-id"]);
}

let upstream: Awaited<ReturnType<typeof startUpstream>>;
let node: GatewayUnderTest;
let nginx: RunningNginx;
let rendered: NginxRenderResult;
const engines: Engine[] = [];

beforeAll(async () => {
  upstream = await startUpstream((req, res) => {
    // /slow answers after the route's timeout; everything else at once, with what reached it.
    const body = JSON.stringify({ ok: true, path: req.url });
    const answer = () => {
      if (res.destroyed) return;
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body), "x-upstream": "yes" });
      res.end(body);
    };
    if (req.url.startsWith("/slow")) setTimeout(answer, 1_500).unref();
    else answer();
  });
  const closedPort = await freePort();
  const f = files(upstream.url, `http://127.0.0.1:${closedPort}`);
  const consumers = [consumer("alice", KEY)];
  // As the nginx engine runs it: the Node gateway takes nginx's word on the caller's address.
  node = await startGateway(f, { name: "local", consumers }, { strictHosts: true, trustedProxy: { header: CLIENT_HEADER, addresses: ["127.0.0.1"] } });
  const { config } = readConfig(snapshot(f));
  const escaped = { "config/routes.oas.json": routesFile([route("/caf%C3%A9", forward(upstream.url))]), "config/policies.json": JSON.stringify({ policies: [] }) };
  node.gateway.deploy("escaped", node.release(escaped, { name: "escaped" }));
  const port = await freePort();
  rendered = renderNginx({ environments: [{ host: HOST, name: "local", release: { config: config!, vars: {} }, consumers }, { host: ESCAPED_HOST, name: "escaped", release: { config: readConfig(snapshot(escaped)).config!, vars: {} }, consumers: [] }], nodeGatewayUrl: node.url, listen: { port, address: "127.0.0.1" }, jsModulePath: JS_MODULE, maxBodyBytes: 1024 * 1024, nodeClientAddressHeader: CLIENT_HEADER });
  nginx = await startNginx(rendered.files, port);
  engines.push({ name: "node", port: Number(new URL(node.url).port) }, { name: "nginx", port });
}, 20_000);

afterAll(async () => {
  await nginx?.stop();
  await node?.close();
  await upstream?.close();
});


describe.each(["node", "nginx"] as const)("the %s engine", (name) => {
  const engine = () => engines.find((e) => e.name === name)!;

  describe("routing", () => {
    it("forwards a plain route, with the caller's request id kept and given back", async () => {
      const a = await send(engine(), "/open?q=1", { headers: { "x-request-id": `table.${name}.1` } });
      expect(a.status).toBe(200);
      expect(a.headers["x-request-id"]).toBe(`table.${name}.1`);
      const s = upstream.seen.find((r) => r.headers["x-request-id"] === `table.${name}.1`)!;
      expect(s.url).toBe("/open?q=1");
      expect(s.headers["x-forwarded-for"]).toBe("127.0.0.1");
    });

    it("prefers a static path to a templated one and matches a trailing slash", async () => {
      expect((await send(engine(), "/orders/latest")).json().path).toBe("/static/orders/latest");
      expect((await send(engine(), "/orders/42/")).json().path).toMatch(/^\/param\/orders\/42\/?$/);
    });

    it("puts the baseUrl's path before the request path", async () => {
      expect((await send(engine(), "/prefixed?x=y")).json().path).toBe("/base/prefixed?x=y");
    });

    it("answers an unknown path with a 404 problem naming the path", async () => {
      const a = await send(engine(), "/nope");
      expectProblem(a, 404, "route-not-found");
      expect(a.json().instance).toBe("/nope");
      expect(a.json().detail).toBe("No route matches GET /nope");
    });

    it("answers a method the path does not have with 405 and Allow", async () => {
      const a = await send(engine(), "/open", { method: "DELETE" });
      expectProblem(a, 405, "method-not-allowed");
      expect(a.headers.allow).toBe("GET, POST");
    });

    it("applies each method's own policies on a path whose methods differ", async () => {
      expect((await send(engine(), "/mixed")).status).toBe(200);
      expect((await send(engine(), "/mixed", { method: "HEAD" })).status).toBe(200);
      expectProblem(await send(engine(), "/mixed", { method: "POST", body: "{}" }), 401, "unauthorized");
      expect((await send(engine(), "/mixed", { method: "POST", body: "{}", headers: { authorization: `Bearer ${KEY}` } })).status).toBe(200);
      expectProblem(await send(engine(), "/mixed", { method: "PUT", body: "{}" }), 405, "method-not-allowed");
    });

    it("answers HEAD on a GET route", async () => {
      expect((await send(engine(), "/open", { method: "HEAD" })).status).toBe(200);
    });

    it("answers a host of no environment with 404 environment-not-found", async () => {
      expectProblem(await send(engine(), "/open", { headers: { host: "other.gitway.test" } }), 404, "environment-not-found");
    });

    it("redirects with the handler's status and location", async () => {
      const a = await send(engine(), "/moved");
      expect(a.status).toBe(301);
      expect(a.headers.location).toBe("https://docs.example.com/moved");
    });

    it("answers 504 upstream-timeout when the upstream is slower than the route's timeout", async () => {
      expectProblem(await send(engine(), "/slow"), 504, "upstream-timeout");
    });

    it("answers 502 upstream-failed when the upstream is down", async () => {
      expectProblem(await send(engine(), "/down"), 502, "upstream-failed");
    });
  });

  describe("api-key", () => {
    it("refuses a request without a key, with WWW-Authenticate", async () => {
      const a = await send(engine(), "/keyed");
      expectProblem(a, 401, "unauthorized");
      expect(a.headers["www-authenticate"]).toBe('Bearer realm="gitway"');
      expect(a.json().detail).toBe('An API key is required: send it as "Authorization: Bearer <key>"');
    });

    it("refuses a key no consumer has", async () => {
      const a = await send(engine(), "/keyed", { headers: { authorization: "Bearer wrong" } });
      expectProblem(a, 401, "unauthorized");
      expect(a.json().detail).toBe("The API key is not valid for this environment");
    });

    it("passes a consumer's key, names the consumer upstream and keeps the key from it", async () => {
      const id = `key.${name}`;
      const a = await send(engine(), "/keyed", { headers: { authorization: `Bearer ${KEY}`, "x-consumer-name": "mallory", "x-request-id": id } });
      expect(a.status).toBe(200);
      const s = upstream.seen.find((r) => r.headers["x-request-id"] === id)!;
      expect(s.headers["x-consumer-name"]).toBe("alice");
      expect(s.headers.authorization).toBeUndefined();
    });

    it("lets a request without a valid key through when unauthenticated requests are allowed, naming no consumer", async () => {
      for (const [auth, expected] of [[undefined, undefined], ["Bearer wrong", undefined], [`Bearer ${KEY}`, "alice"]] as const) {
        const id = `optional.${name}.${expected ?? "none"}.${auth ? auth.length : 0}`;
        const a = await send(engine(), "/optional", { headers: { ...(auth ? { authorization: auth } : {}), "x-request-id": id } });
        expect(a.status).toBe(200);
        expect(upstream.seen.find((r) => r.headers["x-request-id"] === id)!.headers["x-consumer-name"]).toBe(expected);
      }
    });

    it("drops a caller's own X-Consumer-Name on a route without authentication", async () => {
      const id = `forged.${name}`;
      await send(engine(), "/open", { headers: { "x-consumer-name": "mallory", "x-request-id": id } });
      expect(upstream.seen.find((r) => r.headers["x-request-id"] === id)!.headers["x-consumer-name"]).toBeUndefined();
    });
  });

  describe("CORS", () => {
    it("answers a preflight from an allowed origin with 204 and the policy's headers", async () => {
      const a = await send(engine(), "/keyed", { method: "OPTIONS", headers: { origin: "https://app.example.com", "access-control-request-method": "GET", "access-control-request-headers": "authorization" } });
      expect(a.status).toBe(204);
      expect(a.headers["access-control-allow-origin"]).toBe("https://app.example.com");
      expect(a.headers["access-control-allow-methods"]).toBe("GET, POST");
      expect(a.headers["access-control-allow-headers"]).toBe("authorization");
      expect(a.headers["access-control-allow-credentials"]).toBe("true");
      expect(a.headers["access-control-max-age"]).toBe("60");
    });

    it("refuses a preflight from another origin with 403", async () => {
      expectProblem(await send(engine(), "/keyed", { method: "OPTIONS", headers: { origin: "https://evil.example", "access-control-request-method": "GET" } }), 403, "cors-not-allowed");
    });

    it("puts the CORS headers on an error, so a browser can read the 401", async () => {
      const a = await send(engine(), "/keyed", { headers: { origin: "https://app.example.com" } });
      expect(a.status).toBe(401);
      expect(a.headers["access-control-allow-origin"]).toBe("https://app.example.com");
      expect(a.headers["access-control-expose-headers"]).toBe("x-upstream");
    });

    it("puts the CORS headers on an error answered after the route is found (502: the upstream is down)", async () => {
      const a = await send(engine(), "/down-cors", { headers: { origin: "https://app.example.com" } });
      expectProblem(a, 502, "upstream-failed");
      expect(a.headers["access-control-allow-origin"]).toBe("https://app.example.com");
      expect(a.headers["access-control-allow-credentials"]).toBe("true");
      expect(a.headers["access-control-expose-headers"]).toBe("x-upstream");
      expect(a.headers.vary).toMatch(/Origin/);
    });

    it("gives no CORS headers to an origin the policy does not allow", async () => {
      const a = await send(engine(), "/keyed", { headers: { origin: "https://evil.example", authorization: `Bearer ${KEY}` } });
      expect(a.status).toBe(200);
      expect(a.headers["access-control-allow-origin"]).toBeUndefined();
    });
  });

  describe("rate limit", () => {
    it("lets the allowance through, then answers 429 with Retry-After", async () => {
      const statuses: number[] = [];
      let last: Answer | undefined;
      for (let i = 0; i < 4; i++) {
        last = await send(engine(), "/limited");
        statuses.push(last.status);
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
      expectProblem(last!, 429, "too-many-requests");
      expect(Number(last!.headers["retry-after"])).toBeGreaterThan(0);
    });
  });

  describe("basic auth", () => {
    it("refuses no credentials and wrong ones, and passes the account's", async () => {
      const none = await send(engine(), "/basic");
      expectProblem(none, 401, "unauthorized");
      expect(none.headers["www-authenticate"]).toBe('Basic realm="gitway", charset="UTF-8"');
      expectProblem(await send(engine(), "/basic", { headers: { authorization: "Basic " + Buffer.from("ops:nope").toString("base64") } }), 401, "unauthorized");
      const id = `basic.${name}`;
      expect((await send(engine(), "/basic", { headers: { authorization: BASIC, "x-request-id": id } })).status).toBe(200);
      const s = upstream.seen.find((r) => r.headers["x-request-id"] === id)!;
      expect(s.headers["x-consumer-name"]).toBe("ops");
      expect(s.headers.authorization).toBeUndefined();
    });
  });

  describe("IP restriction", () => {
    it("refuses a blocked address and one outside the allow list", async () => {
      expectProblem(await send(engine(), "/blocked"), 403, "forbidden");
      expectProblem(await send(engine(), "/allow-list"), 403, "forbidden");
    });
  });

  describe("bodies", () => {
    it("refuses a body over the route's size limit with 413 and passes one within it", async () => {
      const over = await send(engine(), "/small", { method: "POST", body: "12345678901" });
      expectProblem(over, 413, "payload-too-large");
      expect(over.json().detail).toMatch(/over 10 bytes|at most 10 are accepted/);
      expect((await send(engine(), "/small", { method: "POST", body: "12345" })).status).toBe(200);
    });

    it("refuses a body over the gateway's cap on any route", async () => {
      const over = await send(engine(), "/open", { method: "POST", body: "x".repeat(1024 * 1024 + 1) });
      expectProblem(over, 413, "payload-too-large");
      expect(over.json().detail).toMatch(/ 1048576 are accepted| over 1048576 bytes/);
    });

    it("refuses a chunked body over the route's size limit", async () => {
      const body = Readable.from([Buffer.from("123456"), Buffer.from("789012")]);
      const r = await request(`http://127.0.0.1:${engine().port}/small`, { method: "POST", headers: { host: HOST }, body, headersTimeout: 5_000, bodyTimeout: 5_000 });
      await r.body.text();
      expect(r.statusCode).toBe(413);
    });

    it("forwards a body within the cap unchanged", async () => {
      const id = `body.${name}`;
      await send(engine(), "/open", { method: "POST", body: '{"a":1}', headers: { "content-type": "application/json", "x-request-id": id } });
      expect(upstream.seen.find((r) => r.headers["x-request-id"] === id)!.body).toBe('{"a":1}');
    });
  });

  describe("headers", () => {
    it("sets and removes request headers and response headers as the policies say", async () => {
      const id = `hdr.${name}`;
      const a = await send(engine(), "/headers", { headers: { "x-remove": "secret", "x-kept": "mine", "x-request-id": id } });
      const s = upstream.seen.find((r) => r.headers["x-request-id"] === id)!;
      expect(s.headers["x-added"]).toBe("v$1 'q'");
      expect(s.headers["x-kept"]).toBe("mine");
      expect(s.headers["x-remove"]).toBeUndefined();
      expect(a.headers["x-out"]).toBe("yes");
      expect(a.headers["x-upstream"]).toBeUndefined();
    });
  });

  describe("routes nginx leaves to the Node gateway", () => {
    it("validates a request body (nginx passes the route to the Node gateway)", async () => {
      const a = await send(engine(), "/validated", { method: "POST", body: '{"item": 5}', headers: { "content-type": "application/json" } });
      expect(a.status).toBe(400);
      expect((await send(engine(), "/validated", { method: "POST", body: '{"item": "book"}', headers: { "content-type": "application/json" } })).status).toBe(200);
    });

    it("answers from the operation's example (nginx passes the route to the Node gateway)", async () => {
      const a = await send(engine(), "/mocked");
      expect(a.status).toBe(200);
      expect(a.json()).toEqual({ mocked: true });
    });

    it("answers the preflight of such a route as the Node gateway does", async () => {
      const a = await send(engine(), "/validated", { method: "OPTIONS", headers: { origin: "https://app.example.com", "access-control-request-method": "POST" } });
      expect(a.status).toBe(204);
      expect(a.headers["access-control-allow-origin"]).toBe("https://app.example.com");
    });
  });

  describe("hostile requests", () => {
    it("resolves dot segments before matching and forwards the normalised path", async () => {
      const a = await raw(engine(), `GET /orders/../open HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close`);
      expect(a.status).toBe(200);
      expect(JSON.parse(a.text.slice(a.text.indexOf("{"))).path).toBe("/open");
    });

    it("refuses a path that climbs above the root with 400", async () => {
      expect((await raw(engine(), `GET /../../etc/passwd HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close`)).status).toBe(400);
      expect((await raw(engine(), `GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close`)).status).toBe(400);
    });

    it("answers headers over the limit with 431", async () => {
      expect((await raw(engine(), `GET /open HTTP/1.1\r\nHost: ${HOST}\r\nX-Big: ${"a".repeat(20_000)}\r\nConnection: close`)).status).toBe(431);
    });

    it("answers a path that climbs above the root with a bad-path problem whose instance is the root", async () => {
      const a = await raw(engine(), `GET /../../etc/passwd HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close`);
      const body = JSON.parse(a.text.slice(a.text.indexOf("{"))) as Record<string, unknown>;
      expect(body).toMatchObject({ type: "https://gitway.dev/problems/bad-path", status: 400, instance: "/" });
    });

    it("keeps an encoded slash inside a parameter on Node; nginx decodes it first (README: nginx engine)", async () => {
      const a = await send(engine(), "/orders/a%2Fb");
      if (name === "node") expect(a.json().path).toBe("/param/orders/a%2Fb");
      else expectProblem(a, 404, "route-not-found");
    });

    it("serves a path written with escapes (nginx hands it to the Node gateway)", async () => {
      const host = { host: ESCAPED_HOST };
      expect((await send(engine(), "/caf%C3%A9", { headers: host })).json().path).toBe("/caf%C3%A9");
      expectProblem(await send(engine(), "/nope%C3%A9", { headers: host }), 404, "route-not-found");
    });

    it("answers a caller asking for nginx's internal error page as for any unknown path", async () => {
      expectProblem(await send(engine(), "/__gitway_error"), 404, "route-not-found");
      expectProblem(await send(engine(), "/__gitway_error?preflight=1", { method: "OPTIONS", headers: { origin: "https://app.example.com", "access-control-request-method": "GET" } }), 404, "route-not-found");
      const a = await send(engine(), "/__gitway_%65rror");
      expectProblem(a, 404, "route-not-found");
    });

    it("answers a bad Host with 404, not another environment", async () => {
      expect((await raw(engine(), `GET /open HTTP/1.1\r\nHost: ${HOST}.evil.example\r\nConnection: close`)).status).toBe(404);
    });
  });
});

describe("nginx handing a route to the Node gateway", () => {
  it("tells it the caller's real address, whatever the caller claims", async () => {
    const nginxEngine = engines.find((e) => e.name === "nginx")!;
    const a = await send(nginxEngine, "/office", { method: "POST", body: "{}", headers: { "content-type": "application/json", [CLIENT_HEADER]: "10.1.2.3" } });
    expect(a.status).toBe(200);
  });
});

describe("the rendered configuration", () => {
  it("lists the routes it leaves to the Node gateway, with the reason", () => {
    expect([...rendered.hybridRoutes].sort((a, b) => a.route.localeCompare(b.route))).toEqual([
      { environment: "escaped", route: "GET /caf%C3%A9", reason: "the path has characters nginx decodes before matching" },
      { environment: "local", route: "GET /mocked", reason: "mock responses (mock) come from the OpenAPI examples" },
      { environment: "local", route: "POST /office", reason: "request validation (validate) checks bodies and parameters against the OpenAPI schemas" },
      { environment: "local", route: "POST /validated", reason: "request validation (validate) checks bodies and parameters against the OpenAPI schemas" },
    ]);
  });

  it("holds key hashes and a basic-auth hash, never a key or a password", () => {
    const all = Object.values(rendered.files).join("\n");
    expect(all).not.toContain(KEY);
    expect(all).not.toContain("s3cret");
  });
});
