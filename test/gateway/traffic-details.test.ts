import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { Agent, request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { MemoryRateLimitStore, RedisRateLimitStore, type CompiledRoute, type RateLimitStore } from "../../src/gateway/index.js";
import { PathMatcher } from "../../src/gateway/path-match.js";
import { rateLimitInbound, type RateLimitOptions } from "../../src/gateway/policies/rate-limit.js";
import { apiKeyPolicy, builtinPolicy as policy, configFiles as files, forward, policiesFile, rateLimitPolicy, route, routesFile } from "../config/fixtures/seed.js";
import { consumer, startGateway, startUpstream } from "./harness.js";

/** Mock answers, rate-limit counting (memory and Redis) and header overwrite rules, seen from a client. */
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

/** Clients bound to another loopback address, so the gateway sees a second caller IP. */
const agents = new Map<string, Agent>();
function from(address: string): Agent {
  let a = agents.get(address);
  if (!a) {
    const agent = new Agent({ localAddress: address });
    agents.set(address, (a = agent));
    closers.push(async () => {
      agents.delete(address);
      await agent.close();
    });
  }
  return a;
}

interface Answer {
  status: number;
  headers: Record<string, unknown>;
  body: unknown;
}

/** The whole answer but the headers that change with every request (date, keep-alive); a JSON body parsed. */
async function send(url: string, init: { headers?: Record<string, string>; ip?: string; host?: string } = {}): Promise<Answer> {
  const r = await request(url, { headers: { ...init.headers, ...(init.host ? { host: init.host } : {}) }, ...(init.ip ? { dispatcher: from(init.ip) } : {}) });
  const text = await r.body.text();
  const { date: _date, connection: _connection, "keep-alive": _keepAlive, ...headers } = r.headers;
  const json = /json/.test(String(headers["content-type"]));
  return { status: r.statusCode, headers, body: json ? (JSON.parse(text) as unknown) : text };
}

const problemOf = (status: number, type: string, title: string, detail: string, requestId: string, instance = "/api/v1/orders") => ({ type: `https://gitway.dev/problems/${type}`, title, status, detail, instance, trace: { requestId } });
const length = (body: unknown) => String(Buffer.byteLength(typeof body === "string" ? body : JSON.stringify(body)));
/** What the harness's upstream answers to GET /api/v1/orders, as the gateway relays it. */
const upstreamBody = { ok: true, path: "/api/v1/orders" };
const upstreamHeaders = (id: string) => ({ "content-type": "application/json", "content-length": length(upstreamBody), "x-upstream": "yes", "x-request-id": id });

describe("mock-api-inbound answers", () => {
  /** One route per entry of `routes`, each mocked by its own policy with its own options, all with the same responses. */
  async function mocked(responses: Record<string, unknown>, routes: Record<string, Record<string, unknown>>, extra: Record<string, unknown> = {}) {
    const u = await upstream();
    const specs = Object.keys(routes).map((path, i) => ({ path, responses, route: route([`mock-${i}`], forward(u.url)) }));
    const policies = Object.values(routes).map((options, i) => policy(`mock-${i}`, "mock-api-inbound", "MockApiInboundPolicy", options));
    const g = await gateway({ "config/routes.oas.json": routesFile(specs, extra), "config/policies.json": policiesFile(policies) });
    return { u, g };
  }

  it("answers 501 with a problem when no 2xx response has a usable example, and never calls the upstream", async () => {
    const responses = {
      "200": {
        description: "ok",
        content: {
          "application/json": { schema: { type: "object" } },
          "application/xml": {},
          "text/plain": { examples: { pending: { summary: "not written yet", externalValue: "https://docs.example/pending.txt" } } },
        },
      },
      "201": { description: "created, with no content" },
      "404": { description: "missing", content: { "application/json": { example: { n: 404 } } } },
    };
    const { u, g } = await mocked(responses, { "/api/v1/orders": {} });
    const body = problemOf(501, "no-mock-example", "Not Implemented", "The operation has no example response to mock; add an example to its 2xx response", "mock-1");
    expect(await send(`${g.url}/api/v1/orders`, { headers: { "x-request-id": "mock-1" } })).toEqual({
      status: 501,
      headers: { "content-type": "application/problem+json", "content-length": length(body), "x-request-id": "mock-1" },
      body,
    });
    expect(u.seen).toEqual([]);
  });

  it("takes only three-digit status codes, even when the prefix filter matches an extension", async () => {
    const responses = { "200": { description: "ok" }, "x-200": { description: "not a response", content: { "application/json": { example: { n: 1 } } } } };
    const { g } = await mocked(responses, { "/api/v1/orders": { responsePrefixFilter: "x-" } });
    const answer = await send(`${g.url}/api/v1/orders`, { headers: { "x-request-id": "ext-1" } });
    expect([answer.status, (answer.body as { type: string }).type]).toEqual([501, "https://gitway.dev/problems/no-mock-example"]);
  });

  it("follows $refs to a response in components, to its named examples and to its schema's example", async () => {
    const extra = {
      components: {
        responses: {
          Orders: {
            description: "orders",
            content: {
              "application/json": { examples: { first: { $ref: "#/components/examples/First" } } },
              "application/vnd.summary+json": { schema: { $ref: "#/components/schemas/Summary" } },
            },
          },
        },
        examples: { First: { summary: "one order", value: [{ id: "ord_1" }] } },
        schemas: { Summary: { type: "object", example: { count: 1 } } },
      },
    };
    const responses = { "200": { $ref: "#/components/responses/Orders" } };
    const { u, g } = await mocked(responses, { "/api/v1/orders": { contentType: "application/json" }, "/api/v1/summary": { contentType: "application/vnd.summary+json" } }, extra);
    expect(await send(`${g.url}/api/v1/orders`, { headers: { "x-request-id": "ref-1" } })).toEqual({
      status: 200,
      headers: { "content-type": "application/json", "content-length": length([{ id: "ord_1" }]), "x-request-id": "ref-1" },
      body: [{ id: "ord_1" }],
    });
    expect(await send(`${g.url}/api/v1/summary`, { headers: { "x-request-id": "ref-2" } })).toEqual({
      status: 200,
      headers: { "content-type": "application/vnd.summary+json", "content-length": length({ count: 1 }), "x-request-id": "ref-2" },
      body: { count: 1 },
    });
    expect(u.seen).toEqual([]);
  });

  it("uses the schema's example only when the media type has none of its own, even when answering at random", async () => {
    const responses = { "200": { description: "ok", content: { "application/json": { example: { source: "media" }, schema: { type: "object", example: { source: "schema" } } } } } };
    const { g } = await mocked(responses, { "/api/v1/orders": { random: true } });
    const bodies = new Set<string>();
    for (let i = 0; i < 30; i++) bodies.add(JSON.stringify((await send(`${g.url}/api/v1/orders`)).body));
    expect([...bodies]).toEqual(['{"source":"media"}']);
  });

  it("sends a string example as it is only for a non-JSON media type, and JSON-encodes every other example", async () => {
    const responses = {
      "200": {
        description: "ok",
        content: { "text/csv": { example: "id,qty\nord_1,2" }, "text/plain": { example: 42 }, "application/json": { example: "hello" } },
      },
    };
    const { g } = await mocked(responses, { "/api/v1/csv": { contentType: "text/csv" }, "/api/v1/plain": { contentType: "text/plain" }, "/api/v1/json": { contentType: "application/json" } });
    const text = async (path: string) => {
      const r = await request(`${g.url}${path}`);
      return [r.statusCode, r.headers["content-type"], await r.body.text()];
    };
    expect(await text("/api/v1/csv")).toEqual([200, "text/csv", "id,qty\nord_1,2"]);
    expect(await text("/api/v1/plain")).toEqual([200, "text/plain", "42"]);
    expect(await text("/api/v1/json")).toEqual([200, "application/json", '"hello"']);
  });

  it("skips references that lead to no response, media type, example or schema, and answers with the next usable example", async () => {
    // Values kept under an extension are not checked as OpenAPI objects, so a valid config can point at odd ones;
    // the schema's broken $ref sits under an "example" key, which the reference check treats as data.
    const extra = {
      "x-library": {
        nothing: null,
        example: {
          odd: {
            description: "odd",
            content: {
              "application/json": null,
              "text/plain": { examples: { gone: { $ref: "#/x-library/nothing" } } },
              "application/xml": { schema: { $ref: "#/nowhere" } },
            },
          },
        },
      },
    };
    const responses = {
      "200": { $ref: "#/x-library/nothing" },
      "201": { $ref: "#/x-library/example/odd" },
      "202": { description: "accepted", content: { "application/json": { example: { ok: true } } } },
    };
    const { g } = await mocked(responses, { "/api/v1/orders": {} }, extra);
    expect(await send(`${g.url}/api/v1/orders`, { headers: { "x-request-id": "odd-1" } })).toEqual({
      status: 202,
      headers: { "content-type": "application/json", "content-length": length({ ok: true }), "x-request-id": "odd-1" },
      body: { ok: true },
    });
  });
});

describe("rate-limit-inbound on a test clock", () => {
  const MINUTE = 60_000;
  const T = 10 * MINUTE; // the start of a window

  /**
   * A gateway whose route runs rate-limit-inbound with `now` from the test's clock (the release
   * compiled as usual, its route given the clocked policy), forwarding to a real upstream.
   */
  async function clocked(options: RateLimitOptions, store: RateLimitStore = new MemoryRateLimitStore(), name = "clocked") {
    const u = await upstream();
    const g = await gateway(files([{ route: route([], forward(u.url)) }]));
    const clock = { now: 0 };
    const warnings: string[] = [];
    const base = g.release(files([{ route: route([], forward(u.url)) }]));
    const found = base.matcher.find("GET", "/api/v1/orders") as { match: { value: CompiledRoute } };
    const matcher = new PathMatcher<CompiledRoute>();
    const limit = rateLimitInbound("local", name, options, { store, warn: (m) => void warnings.push(m), now: () => clock.now });
    matcher.add("GET", "/api/v1/orders", { ...found.match.value, inbound: [limit] });
    g.gateway.deploy("local", { ...base, matcher });
    return { u, g, clock, warnings };
  }

  const upstreamOk = (id: string, remaining: number, reset: number, limit = 2) => ({
    status: 200,
    headers: { ...upstreamHeaders(id), "ratelimit-limit": String(limit), "ratelimit-remaining": String(remaining), "ratelimit-reset": String(reset) },
    body: upstreamBody,
  });
  const tooMany = (id: string, reset: number, detail: string, limit = 2) => {
    const body = problemOf(429, "too-many-requests", "Too Many Requests", detail, id);
    return {
      status: 429,
      headers: { "retry-after": String(reset), "ratelimit-limit": String(limit), "ratelimit-remaining": "0", "ratelimit-reset": String(reset), "content-type": "application/problem+json", "content-length": length(body), "x-request-id": id },
      body,
    };
  };

  it("counts a sliding window: the previous window weighs by how much of it is left, refusals do not count, and a window two back is forgotten", async () => {
    const { g, u, clock } = await clocked({ rateLimitBy: "ip", requestsAllowed: 2, timeWindowMinutes: 1 });
    const get = (id: string) => send(`${g.url}/api/v1/orders`, { headers: { "x-request-id": id } });

    clock.now = T + 15_000; // 45 s before the window ends
    expect(await get("a")).toEqual(upstreamOk("a", 1, 45));
    expect(await get("b")).toEqual(upstreamOk("b", 0, 45));
    expect(await get("c")).toEqual(tooMany("c", 45, "More than 2 requests in 1 minute(s); try again in 45 s"));

    // Half-way through the next window: the previous window's 2 count as 1, so one more fits, not two.
    clock.now = T + MINUTE + 30_000;
    expect(await get("d")).toEqual(upstreamOk("d", 0, 30));
    expect(await get("e")).toEqual(tooMany("e", 30, "More than 2 requests in 1 minute(s); try again in 30 s"));

    // Two windows later the one request of T + 1 min no longer counts.
    clock.now = T + 3 * MINUTE + 59_500;
    expect(await get("f")).toEqual(upstreamOk("f", 1, 1));
    expect(u.seen.length).toBe(4);
  });

  it("shares one count between gateways through Redis, one key per policy and window that expires after two windows", async () => {
    const redis = new Redis({ host: "127.0.0.1", port: 6379, lazyConnect: false });
    const prefix = `gitway-test:${randomUUID()}:`;
    closers.push(async () => {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    });
    const options: RateLimitOptions = { rateLimitBy: "all", requestsAllowed: 2, timeWindowMinutes: 1 };
    const one = await clocked(options, new RedisRateLimitStore(redis, prefix), "shared");
    const two = await clocked(options, new RedisRateLimitStore(redis, prefix), "shared");
    for (const c of [one.clock, two.clock]) c.now = T + 20_000;
    const get = (g: typeof one.g, id: string) => send(`${g.url}/api/v1/orders`, { headers: { "x-request-id": id } });
    expect(await get(one.g, "r1")).toEqual(upstreamOk("r1", 1, 40));
    expect(await get(two.g, "r2")).toEqual(upstreamOk("r2", 0, 40));
    expect(await get(one.g, "r3")).toEqual(tooMany("r3", 40, "More than 2 requests in 1 minute(s); try again in 40 s"));
    const key = `${prefix}local|shared|*:${T}`; // environment, policy, "*" for everyone, window start
    expect(await redis.keys(`${prefix}*`)).toEqual([key]);
    expect(await redis.get(key)).toBe("2");
    const ttl = await redis.pttl(key);
    expect(ttl > MINUTE && ttl <= 2 * MINUTE).toBe(true);

    for (const c of [one.clock, two.clock]) c.now = T + MINUTE + 45_000; // the previous 2 weigh 0.5
    expect(await get(two.g, "r4")).toEqual(upstreamOk("r4", 0, 15));
    expect(await get(one.g, "r5")).toEqual(tooMany("r5", 15, "More than 2 requests in 1 minute(s); try again in 15 s"));
    expect([one.warnings, two.warnings]).toEqual([[], []]);
  });
});

describe("rate-limit-inbound keys", () => {
  it("counts every caller together with rateLimitBy all, each address apart with ip, and each policy apart", async () => {
    const u = await upstream();
    const limit = (name: string, rateLimitBy: string) => rateLimitPolicy({ rateLimitBy, requestsAllowed: 1, timeWindowMinutes: 1 }, name);
    const g = await gateway(
      files(
        [
          { path: "/orders", route: route(["everyone"], forward(u.url)) },
          { path: "/items", route: route(["per-ip"], forward(u.url)) },
          { path: "/stock", route: route(["per-ip-too"], forward(u.url)) },
        ],
        [limit("everyone", "all"), limit("per-ip", "ip"), limit("per-ip-too", "ip")],
      ),
    );
    const status = async (path: string, ip: string) => (await send(`${g.url}${path}`, { ip })).status;
    expect([await status("/orders", "127.0.0.1"), await status("/orders", "127.0.0.2")]).toEqual([200, 429]);
    expect([await status("/items", "127.0.0.1"), await status("/items", "127.0.0.2"), await status("/items", "127.0.0.1")]).toEqual([200, 200, 429]);
    expect(await status("/stock", "127.0.0.1")).toBe(200);
  });

  it("counts each consumer apart with rateLimitBy user, a caller with none by address; ip counts consumers at one address together", async () => {
    const u = await upstream();
    const limit = (name: string, rateLimitBy: string) => rateLimitPolicy({ rateLimitBy, requestsAllowed: 1, timeWindowMinutes: 1 }, name);
    const g = await gateway(
      files(
        [
          { path: "/open", route: route(["by-user-open"], forward(u.url)) },
          { path: "/keyed", route: route(["api-key-inbound", "by-ip"], forward(u.url)) },
        ],
        [apiKeyPolicy(), limit("by-user-open", "user"), limit("by-ip", "ip")],
      ),
      { consumers: [consumer("alice", "ka"), consumer("bob", "kb")] },
    );
    const status = async (path: string, ip: string, key?: string) => (await send(`${g.url}${path}`, { ip, ...(key ? { headers: { authorization: `Bearer ${key}` } } : {}) })).status;
    expect([await status("/open", "127.0.0.1"), await status("/open", "127.0.0.2"), await status("/open", "127.0.0.2")]).toEqual([200, 200, 429]);
    expect([await status("/keyed", "127.0.0.1", "ka"), await status("/keyed", "127.0.0.1", "kb"), await status("/keyed", "127.0.0.3", "kb")]).toEqual([200, 429, 200]);
  });
});

describe("rate-limit-inbound when the store fails", () => {
  /** A Redis store whose client is already closed: every hit fails as when Redis goes away. */
  function closedRedisStore() {
    const redis = new Redis({ host: "127.0.0.1", port: 6379, lazyConnect: true });
    redis.disconnect();
    return new RedisRateLimitStore(redis, `gitway-test:${randomUUID()}:`);
  }
  /** A store that fails before it answers at all (a store may be any implementation). */
  const throwingStore: RateLimitStore = {
    hit: () => {
      throw new Error("store exploded");
    },
    close: async () => {},
  };

  async function limited(store: RateLimitStore, throwOnFailure: boolean) {
    const u = await upstream();
    const g = await gateway(files([{ route: route(["rate-limit-inbound"], forward(u.url)) }], [rateLimitPolicy({ rateLimitBy: "ip", requestsAllowed: 5, timeWindowMinutes: 1, throwOnFailure })]), {}, { store });
    return { u, g };
  }

  const passed = (id: string) => ({ status: 200, headers: upstreamHeaders(id), body: upstreamBody });
  const unavailable = (id: string) => {
    const body = problemOf(503, "rate-limit-unavailable", "Service Unavailable", "The rate limit could not be checked; try again shortly", id);
    return { status: 503, headers: { "content-type": "application/problem+json", "content-length": length(body), "x-request-id": id }, body };
  };

  it("lets the request through without RateLimit headers when Redis fails, and logs a warning", async () => {
    const { u, g } = await limited(closedRedisStore(), false);
    expect(await send(`${g.url}/api/v1/orders`, { headers: { "x-request-id": "open-1" } })).toEqual(passed("open-1"));
    expect(u.seen.length).toBe(1);
    expect(g.logs).toEqual(["[local] rate limit store failed (letting the request through): Connection is closed."]);
  });

  it("answers 503 with throwOnFailure when Redis fails, and logs that it refused", async () => {
    const { u, g } = await limited(closedRedisStore(), true);
    expect(await send(`${g.url}/api/v1/orders`, { headers: { "x-request-id": "down-1" } })).toEqual(unavailable("down-1"));
    expect(u.seen).toEqual([]);
    expect(g.logs).toEqual(["[local] rate limit store failed (refusing): Connection is closed."]);
  });

  it("treats a store that throws at once like one that fails later", async () => {
    const refusing = await limited(throwingStore, true);
    expect(await send(`${refusing.g.url}/api/v1/orders`, { headers: { "x-request-id": "boom-1" } })).toEqual(unavailable("boom-1"));
    expect(refusing.g.logs).toEqual(["[local] rate limit store failed (refusing): store exploded"]);
    const open = await limited(throwingStore, false);
    expect(await send(`${open.g.url}/api/v1/orders`, { headers: { "x-request-id": "boom-2" } })).toEqual(passed("boom-2"));
    expect(open.g.logs).toEqual(["[local] rate limit store failed (letting the request through): store exploded"]);
  });
});

describe("the Redis rate-limit store", () => {
  it("keeps a sliding window under gitway:rl: by default, one key per window, counting only allowed hits", async () => {
    const redis = new Redis({ host: "127.0.0.1", port: 6379 });
    const key = `test-${randomUUID()}`;
    closers.push(async () => {
      const keys = await redis.keys(`gitway:rl:${key}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    });
    const store = new RedisRateLimitStore(redis);
    const hits = async (n: number, now: number) => {
      const out = [];
      for (let i = 0; i < n; i++) out.push(await store.hit(key, 1_000, 2, now));
      return out;
    };
    expect(await hits(3, 10_250)).toEqual([
      { allowed: true, count: 1 },
      { allowed: true, count: 2 },
      { allowed: false, count: 3 },
    ]);
    expect(await redis.keys(`gitway:rl:${key}:*`)).toEqual([`gitway:rl:${key}:10000`]);
    expect(await redis.get(`gitway:rl:${key}:10000`)).toBe("2");
    // Three quarters into the next window the previous 2 weigh 0.5: one more fits.
    expect(await hits(2, 11_750)).toEqual([
      { allowed: true, count: 2 },
      { allowed: false, count: 3 },
    ]);
    expect((await redis.keys(`gitway:rl:${key}:*`)).sort()).toEqual([`gitway:rl:${key}:10000`, `gitway:rl:${key}:11000`]);
    // Two windows on, nothing counts.
    expect(await hits(1, 13_100)).toEqual([{ allowed: true, count: 1 }]);
  });

  it("disconnects its client when closed", async () => {
    const redis = new Redis({ host: "127.0.0.1", port: 6379 });
    closers.push(async () => void redis.disconnect());
    expect(await redis.ping()).toBe("PONG");
    await new RedisRateLimitStore(redis).close();
    await expect(redis.ping()).rejects.toThrow("Connection is closed.");
  });
});

describe("set-headers overwrite, the other halves", () => {
  it("adds an inbound header with overwrite false when the caller sent none", async () => {
    const u = await upstream();
    const g = await gateway(files([{ route: route(["in"], forward(u.url)) }], [policy("in", "set-headers-inbound", "SetHeadersInboundPolicy", { headers: [{ name: "X-Team", value: "gateway", overwrite: false }] })]));
    await send(`${g.url}/api/v1/orders`);
    expect(u.seen[0]!.headers["x-team"]).toBe("gateway");
  });

  it("replaces the upstream's header on the way out unless overwrite is false", async () => {
    const u = await upstream();
    const out = policy("out", "set-headers-outbound", "SetHeadersOutboundPolicy", { headers: [{ name: "X-Upstream", value: "gateway" }] });
    const g = await gateway(files([{ route: { ...route([], forward(u.url)), policies: { inbound: [], outbound: ["out"] } } }], [out]));
    expect(await send(`${g.url}/api/v1/orders`, { headers: { "x-request-id": "out-1" } })).toEqual({ status: 200, headers: { ...upstreamHeaders("out-1"), "x-upstream": "gateway" }, body: upstreamBody });
  });
});
