import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EnvironmentView } from "../../src/admin/index.js";
import { readAppSettings } from "../../src/app/settings.js";
import { startGitway, type Running } from "../../src/app/start.js";
import { freePort } from "../free-port.js";

let app: Running;
let port: number;

/** `GATEWAY_ENGINE=nginx npm start` with the bundled example, in this process. */
beforeAll(async () => {
  port = await freePort();
  const env = { GITWAY_DATA_DIR: "memory://", PORT: "0", GATEWAY_PORT: String(port), GATEWAY_ENGINE: "nginx", LOG_LEVEL: "silent", GITWAY_POLL_SECONDS: "1" };
  app = await startGitway(readAppSettings(env), env, { workerIdleMs: 50 });
  const until = Date.now() + 60_000;
  for (;;) {
    const envs = await app.operations.environments();
    if (envs.length === 3 && envs.every((e) => e.status === "synced")) break;
    if (Date.now() > until) throw new Error(`not synced within 60 s: ${JSON.stringify(envs.map((e) => [e.name, e.status, e.reason]))}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}, 90_000);

afterAll(async () => {
  await app?.close();
});

const host = (name: string) => `local-shopkart-${name}.localhost:${port}`;

/**
 * One request on a connection of its own: a key created or a release swapped reloads nginx, whose
 * old workers close the keep-alive connections idle at that moment (README: Reloads and keep-alive
 * connections), so a pooled connection could be closed under a request that is not about reloads.
 */
async function call(name: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  const res = await request(`http://127.0.0.1:${port}${path}`, { method: (init.method ?? "GET") as "GET", headers: { host: host(name), ...init.headers }, ...(init.body ? { body: init.body } : {}), headersTimeout: 5_000, bodyTimeout: 5_000, reset: true });
  return { status: res.statusCode, server: res.headers.server, body: await res.body.text() };
}

async function within(ms: number, check: () => Promise<boolean>): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("GATEWAY_ENGINE=nginx with the bundled example", () => {
  it("answers the README's curl lines on the gateway port through nginx, branches through the Node gateway behind it", async () => {
    const products = await call("production", "/v1/products");
    expect(products).toMatchObject({ status: 200, server: "nginx" });
    expect(JSON.parse(products.body)[0]).toMatchObject({ id: "p-100" });
    expect((await call("production", "/v1/orders")).status).toBe(401);
    expect((await call("branch-feature-open-orders", "/v1/orders")).status).toBe(200);
    expect((await call("branch-feature-stock-webhooks", "/v1/webhooks/stock", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).status).toBe(401);
  });

  it("shows nginx as production's engine, with the instance serving the deployed release, and the Node gateway for branches", async () => {
    const envs = await app.operations.environments();
    const production = envs.find((e) => e.name === "production")!;
    expect(production).toMatchObject<Partial<EnvironmentView>>({ engine: "nginx", status: "synced" });
    expect(production.engines).toHaveLength(1);
    expect(production.engines[0]!.release).toBe(production.desiredRelease);
    expect(envs.find((e) => e.name === "branch-feature-open-orders")).toMatchObject({ engine: "node", engines: [] });
  });

  it("says on the deploy check kept for the dashboard, and on the deployment, that nginx hands POST /v1/orders to the Node gateway", async () => {
    const deploy = (await app.operations.checks("production")).find((c) => c.name === "deploy" && c.conclusion === "success")!;
    expect(deploy.summary).toContain("- `production`: ");
    expect(deploy.summary).toContain("\n\nnginx hands 1 route to the Node gateway behind it:\n- POST /v1/orders (`production`): request validation");
    const [latest] = await app.operations.deployments("production", { limit: 1, offset: 0 });
    expect(latest!.hybridRoutes.map((h) => h.route)).toEqual(["POST /v1/orders"]);
    // Branches are on the Node gateway alone: their deploy says nothing of nginx.
    const branch = (await app.operations.checks("branch-feature-open-orders")).find((c) => c.name === "deploy");
    expect(branch?.summary ?? "").not.toContain("nginx");
  });

  it("opens production to a new key and closes it within 2 s of its revocation", async () => {
    const { key } = await app.operations.createKey("production", "nginx-caller", "test");
    const order = { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify({ productId: "p-200", quantity: 1 }) };
    await within(2_000, async () => (await call("production", "/v1/orders", order)).status === 201);
    await app.operations.revokeKey("production", "nginx-caller", "test");
    const began = Date.now();
    await within(2_000, async () => (await call("production", "/v1/orders", order)).status === 401);
    expect(Date.now() - began).toBeLessThan(2_000);
  });

  it("passes a body too big for nginx's memory buffer to the Node gateway whole, through its temporary files under the prefix", async () => {
    const { key } = await app.operations.createKey("production", "big-body", "test");
    const big = { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify({ productId: "p-200", quantity: 1, note: "x".repeat(100_000) }) };
    await within(2_000, async () => (await call("production", "/v1/orders", big)).status !== 401);
    // The Node gateway read and parsed the whole body: its validation refuses the extra property.
    const answer = await call("production", "/v1/orders", big);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ type: "https://gitway.dev/problems/request-validation-failed", detail: expect.stringContaining("additional properties") });
  });

  it("counts the calls nginx serves itself from its access log per operation and consumer, and a route it hands to the Node gateway once", async () => {
    const hybrid = app.engine!.hybridRoutes().filter((h) => h.environment === "local-shopkart-production").map((h) => h.route);
    expect(hybrid).toContain("POST /v1/orders");
    expect(hybrid).not.toContain("GET /v1/orders");
    const alpha = (await app.operations.createKey("production", "usage-alpha", "test")).key;
    const beta = (await app.operations.createKey("production", "usage-beta", "test")).key;
    const orders = (key: string) => call("production", "/v1/orders", { headers: { authorization: `Bearer ${key}` } });
    await within(2_000, async () => (await orders(alpha)).status === 200 && (await orders(beta)).status === 200);
    const counts = async () => {
      await app.flushUsage();
      const view = await app.operations.usage("production", { days: 1 });
      const out: Record<string, number> = {};
      for (const r of view.rows) for (const [cls, n] of Object.entries(r.byStatus)) out[`${r.operation} ${r.consumer} ${cls}`] = n;
      return out;
    };
    // nginx's workers buffer their lines until the agent's collection makes them reopen the log: wait until the warm-up calls are in.
    await within(5_000, async () => ((await counts())["listOrders usage-beta 2xx"] ?? 0) >= 1);
    // A worker flushes its buffer into the renamed log as it reopens, a moment after the signal: let any warm-up line still on its way land first.
    await new Promise((r) => setTimeout(r, 300));
    const before = await counts();
    for (let i = 0; i < 3; i++) expect((await orders(alpha)).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await orders(beta)).status).toBe(200);
    // A consumer name a caller sends is no credential: the call is anonymous and refused.
    expect((await call("production", "/v1/orders", { headers: { "x-consumer-name": "usage-alpha" } })).status).toBe(401);
    const order = { method: "POST", headers: { authorization: `Bearer ${alpha}`, "content-type": "application/json" }, body: JSON.stringify({ productId: "p-200", quantity: 1 }) };
    expect((await call("production", "/v1/orders", order)).status).toBe(201);
    const delta = (after: Record<string, number>, k: string) => (after[k] ?? 0) - (before[k] ?? 0);
    let after = before;
    await within(5_000, async () => ((after = await counts()), delta(after, "listOrders usage-alpha 2xx") >= 3 && delta(after, "listOrders usage-beta 2xx") >= 2 && delta(after, "createOrder usage-alpha 2xx") >= 1));
    // Give a late (double) count time to arrive before judging exact numbers.
    await new Promise((r) => setTimeout(r, 300));
    after = await counts();
    expect(delta(after, "listOrders usage-alpha 2xx")).toBe(3);
    expect(delta(after, "listOrders usage-beta 2xx")).toBe(2);
    expect(delta(after, "listOrders anonymous 4xx")).toBe(1);
    expect(delta(after, "createOrder usage-alpha 2xx")).toBe(1);
  });

  it("refuses a release nginx cannot load with nginx's own message, and production keeps serving the last good one", async () => {
    const before = (await app.operations.environment("production")).desiredRelease;
    const files = { ...(await productionFiles()) };
    // nginx resolves an upstream's host when it loads the configuration; the Node gateway only when a request comes.
    const routes = JSON.parse(files["config/routes.oas.json"]!) as { paths: Record<string, unknown> };
    routes.paths["/v1/elsewhere"] = {
      get: { operationId: "elsewhere", responses: { "200": { description: "ok" } }, "x-zuplo-route": { corsPolicy: "none", handler: { export: "urlForwardHandler", module: "$import(@zuplo/runtime)", options: { baseUrl: "http://no-such-host.invalid" } }, policies: { inbound: [] } } },
    };
    files["config/routes.oas.json"] = JSON.stringify(routes, null, 2);
    await expect(app.operations.deployFiles("production", files, "test")).rejects.toThrow(/not deployed: nginx refused the release: \[emerg\] host not found in upstream "no-such-host\.invalid:80"/);
    expect((await app.operations.environment("production")).desiredRelease).toBe(before);
    expect((await call("production", "/v1/products")).status).toBe(200);
  });
});

/** Production's deployed files, from the store. */
async function productionFiles(): Promise<Record<string, string>> {
  const [release] = await app.records.servingReleases("local-shopkart-production");
  expect(release).toBeDefined();
  return release!.files;
}
