import { request as rawRequest } from "node:http";
import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { apiKeyPolicy, configFiles as files, forward, rateLimitPolicy, route } from "../config/fixtures/seed.js";
import { consumer, startGateway, startUpstream } from "./harness.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

async function upstream(answer?: Parameters<typeof startUpstream>[0]) {
  const u = await startUpstream(answer);
  closers.push(u.close);
  return u;
}
async function gateway(...args: Parameters<typeof startGateway>) {
  const g = await startGateway(...args);
  closers.push(g.close);
  return g;
}


async function get(url: string, headers: Record<string, string> = {}, method = "GET", body?: string) {
  const r = await request(url, { method: method as "GET", headers, ...(body !== undefined ? { body } : {}) });
  const text = await r.body.text();
  return { status: r.statusCode, headers: r.headers, text, json: () => JSON.parse(text) as Record<string, unknown> };
}

/** Sends the path and headers exactly as given (no URL normalisation, no header filtering). */
function raw(base: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = rawRequest({ host: u.hostname, port: u.port, path, headers, method: "GET" }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode!, text }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("routing", () => {
  it("answers an unknown path with a 404 problem+json carrying the request id", async () => {
    const u = await upstream();
    const g = await gateway(files([{ route: route([], forward(u.url)) }]));
    const r = await get(`${g.url}/nope`, { "x-request-id": "req-1" });
    expect(r.status).toBe(404);
    expect(r.headers["content-type"]).toBe("application/problem+json");
    expect(r.json()).toEqual({ type: "https://gitway.dev/problems/route-not-found", title: "Not Found", status: 404, detail: "No route matches GET /nope", instance: "/nope", trace: { requestId: "req-1" } });
  });

  it("answers a wrong method with 405 and an Allow header", async () => {
    const u = await upstream();
    const g = await gateway(files([{ route: route([], forward(u.url)) }]));
    const r = await get(`${g.url}/api/v1/orders`, {}, "DELETE");
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe("GET");
  });

  it("prefers a static segment to a parameter, whatever the order in the document", async () => {
    const u = await upstream();
    const p = [{ name: "id", in: "path", required: true, schema: { type: "string" } }];
    const g = await gateway(files([{ path: "/orders/{id}", parameters: p, route: route([], forward(u.url + "/by-id")) }, { path: "/orders/latest", route: route([], forward(u.url + "/latest")) }]));
    expect((await get(`${g.url}/orders/latest`)).json().path).toBe("/latest/orders/latest");
    expect((await get(`${g.url}/orders/42`)).json().path).toBe("/by-id/orders/42");
  });

  it("normalises encoded dot segments and double slashes before matching, and refuses climbing above the root", async () => {
    const u = await upstream();
    const g = await gateway(files([{ route: route([], forward(u.url)) }]));
    expect(JSON.parse((await raw(g.url, "//api/v1/x/%2e%2e/orders")).text).path).toBe("/api/v1/orders");
    expect(JSON.parse((await raw(g.url, "/api/v1/./orders/")).text).path).toBe("/api/v1/orders/");
    expect((await raw(g.url, "/%2e%2e/%2e%2e/etc/passwd")).status).toBe(400);
    expect((await raw(g.url, "/api/../../etc/passwd")).status).toBe(400);
  });

  it("serves environments by host name, and a host of no environment gets a 404 that names none", async () => {
    const u = await upstream();
    const g = await gateway(files([{ route: route([], forward(u.url + "/prod")) }]), {}, { strictHosts: true });
    g.gateway.deploy("acme-shop-pr-12", g.release(files([{ route: route([], forward(u.url + "/pr")) }]), { name: "pr-12" }));
    const port = new URL(g.url).port;
    expect((await get(`${g.url}/api/v1/orders`, { host: `acme-shop-pr-12.gitway.test:${port}` })).json().path).toBe("/pr/api/v1/orders");
    const other = await get(`${g.url}/api/v1/orders`, { host: `acme-other-pr-1.gitway.test:${port}` });
    expect(other.status).toBe(404);
    expect(other.json().detail).toBe("No environment is served at this host name");
    expect(other.text).not.toContain("acme-shop");
  });
});

describe("urlForwardHandler", () => {
  it("forwards path and query, drops hop-by-hop headers, sets X-Forwarded-*, and passes the upstream's answer back", async () => {
    const u = await upstream();
    const g = await gateway(files([{ route: route([], forward(u.url + "/base/")) }]));
    const r = await raw(g.url, "/api/v1/orders?status=open&x=1", { connection: "keep-alive, x-drop-me", "x-drop-me": "1", "x-keep": "yes", "x-forwarded-for": "10.0.0.1" });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text).ok).toBe(true);
    const seen = u.seen[0]!;
    expect(seen.url).toBe("/base/api/v1/orders?status=open&x=1");
    expect(seen.headers["x-keep"]).toBe("yes");
    expect(seen.headers["x-drop-me"]).toBeUndefined();
    expect(seen.headers["x-forwarded-for"]).toBe("10.0.0.1, 127.0.0.1");
    expect(seen.headers["x-forwarded-proto"]).toBe("http");
    expect(seen.headers["x-forwarded-host"]).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(seen.headers.host).toBe(new URL(u.url).host);
  });

  it("leaves the query out with forwardSearch false", async () => {
    const u = await upstream();
    const g = await gateway(files([{ route: route([], { ...forward(u.url), options: { baseUrl: u.url, forwardSearch: false } }) }]));
    await get(`${g.url}/api/v1/orders?status=open`);
    expect(u.seen[0]!.url).toBe("/api/v1/orders");
  });

  it("streams a request body through", async () => {
    const u = await upstream();
    const g = await gateway(files([{ method: "post", route: route([], forward(u.url)) }]));
    await get(`${g.url}/api/v1/orders`, { "content-type": "application/json" }, "POST", '{"a":1}');
    expect(u.seen[0]!.body).toBe('{"a":1}');
  });

  it("answers 502 problem+json when the upstream cannot be reached", async () => {
    const g = await gateway(files([{ route: route([], forward("http://127.0.0.1:9")) }]));
    const r = await get(`${g.url}/api/v1/orders`);
    expect(r.status).toBe(502);
    expect(r.json()).toMatchObject({ title: "Bad Gateway", status: 502 });
  });

  it("answers 504 problem+json when the upstream is too slow", async () => {
    const u = await upstream((_req, res) => setTimeout(() => res.end("late"), 1_500));
    const g = await gateway(files([{ route: route([], { ...forward(u.url), options: { baseUrl: u.url, timeoutMs: 200 } }) }]));
    const r = await get(`${g.url}/api/v1/orders`);
    expect(r.status).toBe(504);
    expect(r.json().type).toBe("https://gitway.dev/problems/upstream-timeout");
  });

  it("follows upstream redirects only when asked", async () => {
    const u = await upstream((req, res) => {
      if (req.url!.startsWith("/moved")) {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end("arrived");
      } else {
        res.writeHead(302, { location: "/moved" });
        res.end();
      }
    });
    const plain = await gateway(files([{ route: route([], forward(u.url)) }]));
    expect((await get(`${plain.url}/api/v1/orders`)).status).toBe(302);
    const following = await gateway(files([{ route: route([], { ...forward(u.url), options: { baseUrl: u.url, followRedirects: true } }) }]));
    expect((await get(`${following.url}/api/v1/orders`)).text).toBe("arrived");
  });
});

describe("urlRewriteHandler and redirectHandler", () => {
  const rewrite = (rewritePattern: string) => ({ export: "urlRewriteHandler", module: "$import(@zuplo/runtime)", options: { rewritePattern } });
  const idParam = [{ name: "id", in: "path", required: true, schema: { type: "string" } }];

  it("fills params, query and env into the URL, encoding what the request supplies", async () => {
    const u = await upstream();
    const g = await gateway(files([{ path: "/users/{id}", parameters: idParam, route: route([], rewrite(`${u.url}/v/\${env.API_VERSION}/u/\${params.id}?q=\${query.q}`)) }]), { vars: { API_VERSION: "2" } });
    await get(`${g.url}/users/a%20b?q=x%26y`);
    expect(u.seen[0]!.url).toBe("/v/2/u/a%20b?q=x%26y");
  });

  it("does not let a parameter climb the upstream path", async () => {
    const u = await upstream();
    const g = await gateway(files([{ path: "/users/{id}", parameters: idParam, route: route([], rewrite(`${u.url}/safe/\${params.id}/profile`)) }]));
    await raw(g.url, "/users/..%2F..%2Fadmin");
    expect(u.seen[0]!.url).toBe("/safe/..%2F..%2Fadmin/profile");
    // Encoded dot segments are dots: resolved before matching, so they never reach a route.
    expect((await raw(g.url, "/users/%2E%2E")).status).toBe(404);
    expect(u.seen).toHaveLength(1);
  });

  it("refuses an unsupported template expression when the release is built", async () => {
    await expect(gateway(files([{ route: route([], rewrite("https://x.example/${process.env.SECRET}")) }]))).rejects.toThrow(/not supported/);
  });

  it("redirects with the configured status", async () => {
    const g = await gateway(files([{ route: route([], { export: "redirectHandler", module: "$import(@zuplo/runtime)", options: { location: "https://docs.example.com/orders", status: 301 } }) }]));
    const r = await get(`${g.url}/api/v1/orders`);
    expect([r.status, r.headers.location]).toEqual([301, "https://docs.example.com/orders"]);
  });

  it("percent-encodes a location with characters a header cannot carry, keeping escapes already there", async () => {
    const g = await gateway(files([{ route: route([], { export: "redirectHandler", module: "$import(@zuplo/runtime)", options: { location: "https://docs.example/日本/a b?q=%2F" } }) }]));
    const r = await get(`${g.url}/api/v1/orders`);
    expect([r.status, r.headers.location]).toEqual([302, "https://docs.example/%E6%97%A5%E6%9C%AC/a%20b?q=%2F"]);
  });
});

describe("api-key-inbound", () => {
  const setup = async (options: Record<string, unknown> = {}) => {
    const u = await upstream();
    const policy = { ...apiKeyPolicy(), handler: { ...apiKeyPolicy().handler, options } };
    const g = await gateway(files([{ route: route(["api-key-inbound"], forward(u.url)) }], [policy]), { consumers: [consumer("alice", "key-alice"), consumer("bob", "key-bob")] });
    return { u, g };
  };

  it("answers 401 without a key, saying how to send one", async () => {
    const { g } = await setup();
    const r = await get(`${g.url}/api/v1/orders`);
    expect(r.status).toBe(401);
    expect(r.json().detail).toBe('An API key is required: send it as "Authorization: Bearer <key>"');
  });

  it("answers 401 for an unknown key without echoing it", async () => {
    const { g } = await setup();
    const r = await get(`${g.url}/api/v1/orders`, { authorization: "Bearer not-a-key-123" });
    expect(r.status).toBe(401);
    expect(r.text).not.toContain("not-a-key-123");
  });

  it("forwards with a valid key, names the consumer to the upstream, and keeps the key and forged names from it", async () => {
    const { u, g } = await setup();
    const r = await get(`${g.url}/api/v1/orders`, { authorization: "Bearer key-bob", "x-consumer-name": "admin" });
    expect(r.status).toBe(200);
    expect(u.seen[0]!.headers["x-consumer-name"]).toBe("bob");
    expect(u.seen[0]!.headers.authorization).toBeUndefined();
  });

  it("drops a caller's own X-Consumer-Name on a route without authentication, forwarded or rewritten", async () => {
    const u = await upstream();
    const rewriteTo = { export: "urlRewriteHandler", module: "$import(@zuplo/runtime)", options: { rewritePattern: `${u.url}/rewritten` } };
    const g = await gateway(files([{ route: route([], forward(u.url)) }, { method: "post", route: route([], rewriteTo) }]));
    expect((await get(`${g.url}/api/v1/orders`, { "x-consumer-name": "admin" })).status).toBe(200);
    expect((await get(`${g.url}/api/v1/orders`, { "x-consumer-name": "admin" }, "POST", "")).status).toBe(200);
    expect(u.seen.map((s) => [s.url, s.headers["x-consumer-name"]])).toEqual([["/api/v1/orders", undefined], ["/rewritten", undefined]]);
  });

  it("reads the key from another header and scheme", async () => {
    const { g } = await setup({ authHeader: "X-Api-Key", authScheme: "" });
    expect((await get(`${g.url}/api/v1/orders`, { "x-api-key": "key-alice" })).status).toBe(200);
  });

  it("lets unauthenticated requests through when allowed, still naming a consumer who sends a key", async () => {
    const { u, g } = await setup({ allowUnauthenticatedRequests: true });
    expect((await get(`${g.url}/api/v1/orders`)).status).toBe(200);
    await get(`${g.url}/api/v1/orders`, { authorization: "Bearer key-alice" });
    expect(u.seen[1]!.headers["x-consumer-name"]).toBe("alice");
  });

  it("keeps one environment's keys out of another", async () => {
    const { u, g } = await setup();
    g.gateway.deploy("acme-shop-pr-1", g.release(files([{ route: route(["api-key-inbound"], forward(u.url)) }], [apiKeyPolicy()]), { name: "pr-1", consumers: [consumer("carol", "key-carol")] }));
    const port = new URL(g.url).port;
    expect((await get(`${g.url}/api/v1/orders`, { host: `acme-shop-pr-1.gitway.test:${port}`, authorization: "Bearer key-alice" })).status).toBe(401);
    expect((await get(`${g.url}/api/v1/orders`, { host: `acme-shop-pr-1.gitway.test:${port}`, authorization: "Bearer key-carol" })).status).toBe(200);
  });
});

describe("rate-limit-inbound (in memory)", () => {
  it("answers 429 past the limit with Retry-After and RateLimit headers", async () => {
    const u = await upstream();
    const g = await gateway(files([{ route: route(["rate-limit-inbound"], forward(u.url)) }], [rateLimitPolicy({ rateLimitBy: "ip", requestsAllowed: 3, timeWindowMinutes: 1 })]));
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await get(`${g.url}/api/v1/orders`)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const r = await get(`${g.url}/api/v1/orders`);
    expect(r.headers["retry-after"]).toMatch(/^\d+$/);
    expect(r.headers["ratelimit-limit"]).toBe("3");
    expect(r.headers["ratelimit-remaining"]).toBe("0");
    expect(r.json().title).toBe("Too Many Requests");
  });

  it("counts per consumer with rateLimitBy user", async () => {
    const u = await upstream();
    const g = await gateway(files([{ route: route(["api-key-inbound", "rate-limit-inbound"], forward(u.url)) }], [apiKeyPolicy(), rateLimitPolicy({ rateLimitBy: "user", requestsAllowed: 1, timeWindowMinutes: 1 })]), { consumers: [consumer("alice", "ka"), consumer("bob", "kb")] });
    expect((await get(`${g.url}/api/v1/orders`, { authorization: "Bearer ka" })).status).toBe(200);
    expect((await get(`${g.url}/api/v1/orders`, { authorization: "Bearer ka" })).status).toBe(429);
    expect((await get(`${g.url}/api/v1/orders`, { authorization: "Bearer kb" })).status).toBe(200);
  });

  it("sends no rate-limit headers with headerMode none", async () => {
    const u = await upstream();
    const g = await gateway(files([{ route: route(["rate-limit-inbound"], forward(u.url)) }], [rateLimitPolicy({ rateLimitBy: "all", requestsAllowed: 1, timeWindowMinutes: 1, headerMode: "none" })]));
    await get(`${g.url}/api/v1/orders`);
    const r = await get(`${g.url}/api/v1/orders`);
    expect(r.status).toBe(429);
    expect(r.headers["retry-after"]).toBeUndefined();
    expect(r.headers["ratelimit-limit"]).toBeUndefined();
  });
});

describe("CORS", () => {
  it("sends no CORS headers and answers no preflight with corsPolicy none", async () => {
    const u = await upstream();
    const g = await gateway(files([{ route: route([], forward(u.url)) }]));
    expect((await get(`${g.url}/api/v1/orders`, { origin: "https://app.example" })).headers["access-control-allow-origin"]).toBeUndefined();
    expect((await get(`${g.url}/api/v1/orders`, { origin: "https://app.example", "access-control-request-method": "GET" }, "OPTIONS")).status).toBe(405);
  });

  it("reflects the origin with credentials and answers preflight with anything-goes", async () => {
    const u = await upstream();
    const g = await gateway(files([{ route: route(["api-key-inbound"], forward(u.url), { corsPolicy: "anything-goes" }) }], [apiKeyPolicy()]));
    const pre = await get(`${g.url}/api/v1/orders`, { origin: "https://app.example", "access-control-request-method": "GET", "access-control-request-headers": "authorization" }, "OPTIONS");
    expect(pre.status).toBe(204);
    expect(pre.headers).toMatchObject({ "access-control-allow-origin": "https://app.example", "access-control-allow-credentials": "true", "access-control-max-age": "600", "access-control-allow-headers": "authorization" });
    expect(u.seen).toEqual([]);
    const denied = await get(`${g.url}/api/v1/orders`, { origin: "https://app.example" });
    expect(denied.status).toBe(401);
    expect(denied.headers["access-control-allow-origin"]).toBe("https://app.example");
  });

  it("applies a custom policy's wildcard origins", async () => {
    const u = await upstream();
    const cors = { corsPolicies: [{ name: "partners", allowedOrigins: ["https://*.partner.example"], allowedMethods: ["GET"], allowedHeaders: ["x-a"], exposeHeaders: ["x-upstream"], maxAge: 60 }] };
    const g = await gateway(files([{ route: route([], forward(u.url), { corsPolicy: "partners" }) }], [], cors));
    const ok = await get(`${g.url}/api/v1/orders`, { origin: "https://eu.partner.example" });
    expect(ok.headers).toMatchObject({ "access-control-allow-origin": "https://eu.partner.example", "access-control-expose-headers": "x-upstream" });
    expect((await get(`${g.url}/api/v1/orders`, { origin: "https://evil.example" })).headers["access-control-allow-origin"]).toBeUndefined();
    expect((await get(`${g.url}/api/v1/orders`, { origin: "https://evil.example", "access-control-request-method": "GET" }, "OPTIONS")).status).toBe(403);
  });
});
