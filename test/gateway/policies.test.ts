import { connect } from "node:net";
import { Readable } from "node:stream";
import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { builtinPolicy as policy, forward, policiesFile, route, routesFile } from "../config/fixtures/seed.js";
import { startGateway, startUpstream } from "./harness.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});


async function setup(inbound: string[], policies: unknown[], routeSpec: Record<string, unknown> = {}, env: Parameters<typeof startGateway>[1] = {}, outbound: string[] = []) {
  const u = await startUpstream();
  closers.push(u.close);
  const r = { ...route(inbound, forward(u.url)), ...(outbound.length ? { policies: { inbound, outbound } } : {}) };
  const files = { "config/routes.oas.json": routesFile([{ ...routeSpec, route: r }]), "config/policies.json": policiesFile(policies) };
  const g = await startGateway(files, env);
  closers.push(g.close);
  return { u, g };
}

async function send(url: string, init: { method?: string; headers?: Record<string, string>; body?: string | Readable } = {}) {
  const r = await request(url, { method: (init.method ?? "GET") as "GET", headers: init.headers ?? {}, ...(init.body !== undefined ? { body: init.body } : {}) });
  const text = await r.body.text();
  return { status: r.statusCode, headers: r.headers, text, json: () => JSON.parse(text) as Record<string, unknown> };
}

const orderBody = {
  requestBody: {
    required: true,
    content: { "application/json": { schema: { type: "object", required: ["item", "quantity"], additionalProperties: false, properties: { item: { type: "string", minLength: 1 }, quantity: { type: "integer", minimum: 1 } } } } },
  },
  parameters: [{ name: "dryRun", in: "query", schema: { type: "boolean" } }],
};

describe("request-validation-inbound", () => {
  const validate = (mode = "reject-and-log") => policy("validate", "request-validation-inbound", "RequestValidationInboundPolicy", { validateBody: mode, validateQueryParameters: mode });

  it("refuses a body that does not fit the schema with a 400 listing what failed", async () => {
    const { u, g } = await setup(["validate"], [validate()], { method: "post", ...orderBody });
    const r = await send(`${g.url}/api/v1/orders`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"item": "", "quantity": 0, "extra": 1}' });
    expect(r.status).toBe(400);
    const errors = (r.json().errors as { in: string; message: string }[]).map((e) => e.message);
    expect(errors).toEqual(expect.arrayContaining(["body must NOT have additional properties", "body.item must NOT have fewer than 1 characters", "body.quantity must be >= 1"]));
    expect(u.seen).toEqual([]);
  });

  it("answers malformed JSON with 400, not 500", async () => {
    const { g } = await setup(["validate"], [validate()], { method: "post", ...orderBody });
    const r = await send(`${g.url}/api/v1/orders`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"item": "a",' });
    expect(r.status).toBe(400);
    expect(r.json().detail).toMatch(/not valid JSON/);
  });

  it("forwards a valid body unchanged", async () => {
    const { u, g } = await setup(["validate"], [validate()], { method: "post", ...orderBody });
    const r = await send(`${g.url}/api/v1/orders?dryRun=true`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"item": "book", "quantity": 2}' });
    expect(r.status).toBe(200);
    expect(u.seen[0]!.body).toBe('{"item": "book", "quantity": 2}');
  });

  it("checks query parameters against their types", async () => {
    const { g } = await setup(["validate"], [validate()], { method: "post", ...orderBody });
    const r = await send(`${g.url}/api/v1/orders?dryRun=maybe`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"item": "book", "quantity": 2}' });
    expect(r.status).toBe(400);
    expect((r.json().errors as { message: string }[])[0]!.message).toBe('query parameter "dryRun" must be boolean');
  });

  it("only logs with log-only", async () => {
    const { g } = await setup(["validate"], [validate("log-only")], { method: "post", ...orderBody });
    const r = await send(`${g.url}/api/v1/orders`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"item": 5}' });
    expect(r.status).toBe(200);
    expect(g.logs.some((l) => l.includes("request validation (body)"))).toBe(true);
  });
});

describe("mock-api-inbound", () => {
  it("answers from the operation's example without calling the upstream", async () => {
    const example = { responses: { "200": { description: "ok", content: { "application/json": { schema: { type: "array" }, example: [{ id: "ord_1" }] } } } } };
    const { u, g } = await setup(["mock"], [policy("mock", "mock-api-inbound", "MockApiInboundPolicy")], example);
    const r = await send(`${g.url}/api/v1/orders`);
    expect([r.status, r.headers["content-type"], r.json()]).toEqual([200, "application/json", [{ id: "ord_1" }]]);
    expect(u.seen).toEqual([]);
  });
});

describe("header, size, basic-auth and IP policies", () => {
  it("sets and removes headers on the way in and out", async () => {
    const policies = [
      policy("add-in", "set-headers-inbound", "SetHeadersInboundPolicy", { headers: [{ name: "x-team", value: "orders" }] }),
      policy("rm-in", "remove-headers-inbound", "RemoveHeadersInboundPolicy", { headers: ["cookie"] }),
      policy("add-out", "set-headers-outbound", "SetHeadersOutboundPolicy", { headers: [{ name: "x-served-by", value: "gitway" }] }),
      policy("rm-out", "remove-headers-outbound", "RemoveHeadersOutboundPolicy", { headers: ["x-upstream"] }),
    ];
    const { u, g } = await setup(["add-in", "rm-in"], policies, {}, {}, ["add-out", "rm-out"]);
    const r = await send(`${g.url}/api/v1/orders`, { headers: { cookie: "session=secret" } });
    expect(u.seen[0]!.headers["x-team"]).toBe("orders");
    expect(u.seen[0]!.headers.cookie).toBeUndefined();
    expect(r.headers["x-served-by"]).toBe("gitway");
    expect(r.headers["x-upstream"]).toBeUndefined();
  });

  it("answers 413 for a body over request-size-limit", async () => {
    const { u, g } = await setup(["size"], [policy("size", "request-size-limit-inbound", "RequestSizeLimitInboundPolicy", { maxSizeInBytes: 10 })], { method: "post" });
    expect((await send(`${g.url}/api/v1/orders`, { method: "POST", body: "x".repeat(100) })).status).toBe(413);
    expect((await send(`${g.url}/api/v1/orders`, { method: "POST", body: "small" })).status).toBe(200);
    expect(u.seen.map((s) => s.body)).toEqual(["small"]);
  });

  it("checks basic auth with the password from $env, which never reaches the upstream", async () => {
    const basic = policy("basic", "basic-auth-inbound", "BasicAuthInboundPolicy", { accounts: [{ username: "ops", password: "$env(OPS_PASSWORD)" }] });
    const { u, g } = await setup(["basic"], [basic], {}, { vars: { OPS_PASSWORD: "s3cret" } });
    const auth = (p: string) => ({ authorization: "Basic " + Buffer.from(`ops:${p}`).toString("base64") });
    expect((await send(`${g.url}/api/v1/orders`, { headers: auth("wrong") })).status).toBe(401);
    expect((await send(`${g.url}/api/v1/orders`, { headers: auth("s3cret") })).status).toBe(200);
    expect(u.seen[0]!.headers["x-consumer-name"]).toBe("ops");
    expect(u.seen[0]!.headers.authorization).toBeUndefined();
  });

  it("refuses addresses outside the allow list, by CIDR", async () => {
    const allowOther = await setup(["ip"], [policy("ip", "ip-restriction-inbound", "IPRestrictionInboundPolicy", { allowedIpAddresses: ["10.0.0.0/8"] })]);
    expect((await send(`${allowOther.g.url}/api/v1/orders`)).status).toBe(403);
    const allowLoopback = await setup(["ip"], [policy("ip", "ip-restriction-inbound", "IPRestrictionInboundPolicy", { allowedIpAddresses: ["127.0.0.0/8"] })]);
    expect((await send(`${allowLoopback.g.url}/api/v1/orders`)).status).toBe(200);
  });
});

describe("environments and releases", () => {
  it("refuses to build a release when a $env variable is not set, naming it", async () => {
    const u = await startUpstream();
    closers.push(u.close);
    const files = { "config/routes.oas.json": routesFile([{ route: route([], forward("$env(ORDERS_URL)")) }]), "config/policies.json": policiesFile([]) };
    await expect(startGateway(files, { vars: {} })).rejects.toMatchObject({ code: "ENV_VARIABLE_MISSING", message: expect.stringContaining("$env(ORDERS_URL)") });
    const g = await startGateway(files, { vars: { ORDERS_URL: u.url } });
    closers.push(g.close);
    expect((await send(`${g.url}/api/v1/orders`)).status).toBe(200);
  });

  it("swaps releases under load without dropping a request, each request answered whole by the release it started on", async () => {
    // The upstream answers slowly and echoes what reached it, so a swap lands while requests are in flight.
    const u = await startUpstream((req, res) => {
      const body = JSON.stringify({ path: req.url, inbound: req.headers["x-release-in"] });
      setTimeout(() => res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body), 3);
    });
    closers.push(u.close);
    // The body arrives in two parts 10 ms apart, so releases change while the size policy reads it.
    async function* slowBody() {
      yield "x".repeat(50);
      await new Promise((r) => setTimeout(r, 10));
      yield "y".repeat(50);
    }
    // Release n stamps n on the way in (before and after an async body read), forwards to /vn, and stamps n on the way out.
    const files = (n: number) => {
      const policies = [
        policy("in", "set-headers-inbound", "SetHeadersInboundPolicy", { headers: [{ name: "x-release-in", value: String(n) }] }),
        policy("size", "request-size-limit-inbound", "RequestSizeLimitInboundPolicy", { maxSizeInBytes: 1000 }),
        policy("out", "set-headers-outbound", "SetHeadersOutboundPolicy", { headers: [{ name: "x-release-out", value: String(n) }] }),
      ];
      const r = { ...route(["in", "size"], forward(`${u.url}/v${n}`)), policies: { inbound: ["in", "size"], outbound: ["out"] } };
      return { "config/routes.oas.json": routesFile([{ method: "post", route: r }]), "config/policies.json": policiesFile(policies) };
    };
    const g = await startGateway(files(0));
    closers.push(g.close);
    let swaps = 0;
    const timer = setInterval(() => g.gateway.deploy("local", g.release(files(++swaps))), 5);
    const answers: { status: number; release: string[] }[] = [];
    const deadline = Date.now() + 3_000;
    const worker = async () => {
      for (let i = 0; i < 150 && Date.now() < deadline; i++) {
        const r = await send(`${g.url}/api/v1/orders`, { method: "POST", headers: { "content-length": "100" }, body: Readable.from(slowBody()) });
        const body = r.status === 200 ? (r.json() as { path: string; inbound: string }) : { path: "", inbound: "" };
        answers.push({ status: r.status, release: [/^\/v(\d+)\//.exec(body.path)?.[1] ?? "?", body.inbound, String(r.headers["x-release-out"])] });
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    clearInterval(timer);
    expect(swaps).toBeGreaterThan(10);
    expect(answers.length).toBeGreaterThan(300);
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    // Whole: the path, the inbound stamp and the outbound stamp name the same release.
    expect(answers.filter((a) => new Set(a.release).size !== 1)).toEqual([]);
    // And the releases did answer differently: many of them served.
    expect(new Set(answers.map((a) => a.release[0])).size).toBeGreaterThan(5);
  });
});

describe("bad input", () => {
  async function plain() {
    return setup([], [], { method: "post" });
  }

  it("answers headers over 16 KiB with 431, and serves headers just under it", async () => {
    const { g } = await plain();
    const sized = (bytes: number) => send(`${g.url}/api/v1/orders`, { method: "POST", headers: { "x-big": "a".repeat(bytes) }, body: "" }).catch((e: Error) => ({ status: 0, text: e.message }));
    expect((await sized(16 * 1024 - 512)).status).toBe(200);
    const over = await sized(16 * 1024 + 512);
    expect(over.status).toBe(431);
    expect(over.text).toContain("The request headers are too large");
  });

  it("answers a connection whose headers never finish (slowloris) with 408 and closes it", async () => {
    const { g } = await plain(); // the test gateway waits 2 s for headers
    const port = Number(new URL(g.url).port);
    const started = Date.now();
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(port, "127.0.0.1", () => socket.write("GET /api/v1/orders HTTP/1.1\r\nHost: x\r\nX-Slow: "));
      let data = "";
      socket.on("data", (c) => (data += c));
      socket.on("close", () => resolve(data));
      socket.on("error", () => {});
      setTimeout(() => {
        socket.destroy();
        resolve("still open");
      }, 8_000);
    });
    expect(answer.split("\r\n")[0]).toBe("HTTP/1.1 408 Request Timeout");
    expect(answer).toContain('"status":408');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
  });

  it("times out a request body that never arrives with 408", async () => {
    const { g } = await setup(["size"], [policy("size", "request-size-limit-inbound", "RequestSizeLimitInboundPolicy", { maxSizeInBytes: 1000 })], { method: "post" });
    const port = Number(new URL(g.url).port);
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(port, "127.0.0.1", () => socket.write("POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc"));
      let data = "";
      socket.on("data", (c) => {
        data += c;
        if (data.includes("\r\n\r\n")) resolve(data.split("\r\n")[0]!);
      });
      setTimeout(() => resolve("no answer"), 8_000);
      socket.on("error", () => {});
      closers.push(async () => void socket.destroy());
    });
    expect(answer).toBe("HTTP/1.1 408 Request Timeout");
  });
});
