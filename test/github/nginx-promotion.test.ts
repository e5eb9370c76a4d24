import { request } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startUpstream } from "../gateway/harness.js";
import { freePort } from "../free-port.js";
import { BASE_DOMAIN, startApp, WEBHOOK_SECRET, type AppUnderTest } from "./app-harness.js";
import { forward } from "../config/fixtures/seed.js";
import { shopFiles, validatedOrders } from "./shop-repo.js";
import { deliver, pushEvent } from "./webhooks.js";

let t: AppUnderTest;
let upstream: Awaited<ReturnType<typeof startUpstream>>;

/** The GitHub App (GitHub itself faked with nock) with nginx serving stages and production. */
beforeAll(async () => {
  upstream = await startUpstream();
  t = await startApp({ env: { GATEWAY_ENGINE: "nginx", GATEWAY_PORT: String(await freePort()) } });
}, 60_000);

afterAll(async () => {
  await t?.close();
  await upstream?.close();
});

afterEach(() => {
  expect(t.github.unexpected).toEqual([]);
});

/** Through nginx on the gateway port, by host name. */
async function call(label: string, path: string) {
  // A connection of its own: a reload closes the keep-alive connections idle in the old workers.
  const res = await request(`${t.app.gatewayUrl}${path}`, { headers: { host: `${label}.${BASE_DOMAIN}` }, headersTimeout: 5_000, bodyTimeout: 5_000, reset: true });
  await res.body.text();
  return { status: res.statusCode, server: res.headers.server };
}

async function within(ms: number, check: () => Promise<boolean>): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("the GitHub App with GATEWAY_ENGINE=nginx", () => {
  it("promotes a merge through the stage to an nginx-served production, and the next merge reaches nginx within 2 s", async () => {
    const repo = t.github.repo("acme", "edge");
    const settings = "stages: [staging]\n";
    const first = t.github.commit(repo, shopFiles({ upstream: upstream.url, products: true, settings }), "main");
    expect((await deliver(t.app.appUrl, "push", pushEvent(repo, t.github.installationId, "main", "0".repeat(40), first), WEBHOOK_SECRET)).status).toBe(200);
    await t.app.idle();
    expect(t.github.deploymentsOf(repo, "production").at(-1)!.statuses.at(-1)).toMatchObject({ state: "success" });

    await within(2_000, async () => (await call("acme-edge-production", "/api/v1/products")).status === 200);
    expect(await call("acme-edge-production", "/api/v1/products")).toEqual({ status: 200, server: "nginx" });
    expect((await call("acme-edge-staging", "/api/v1/products")).status).toBe(200);
    expect((await call("acme-edge-production", "/api/v1/orders")).status).toBe(401);
    // Synced once the agent has recorded what its nginx serves.
    await within(2_000, async () => (await t.app.operations.environment("acme-edge-production")).status === "synced");
    expect(await t.app.operations.environment("acme-edge-production")).toMatchObject({ engine: "nginx", status: "synced" });

    // The merge of a change that opens orders to anyone.
    const second = t.github.commit(repo, shopFiles({ upstream: upstream.url, products: true, ordersOpen: true, settings }), "main");
    expect((await deliver(t.app.appUrl, "push", pushEvent(repo, t.github.installationId, "main", first, second), WEBHOOK_SECRET)).status).toBe(200);
    await t.app.idle(30_000);
    const began = Date.now();
    await within(2_000, async () => (await call("acme-edge-production", "/api/v1/orders")).status === 200);
    expect(Date.now() - began).toBeLessThan(2_000);
    await within(2_000, async () => (await t.app.operations.environment("acme-edge-production")).engines[0]?.release === (await t.app.operations.environment("acme-edge-production")).desiredRelease);
  });

  it("names on the deploy check, and on the deployment, each route nginx hands to the Node gateway with its reason", async () => {
    const repo = t.github.repo("acme", "validated");
    const sha = t.github.commit(repo, shopFiles({ upstream: upstream.url, products: true, settings: "stages: [staging]\n", ...validatedOrders(upstream.url) }), "main");
    expect((await deliver(t.app.appUrl, "push", pushEvent(repo, t.github.installationId, "main", "0".repeat(40), sha), WEBHOOK_SECRET)).status).toBe(200);
    await t.app.idle();
    const check = t.github.latestCheck(sha, "Gitway / deploy")!;
    expect(check.conclusion).toBe("success");
    const summary = check.output.summary!;
    // Once, after the environments deployed, with the reason and where it holds; the routes nginx serves itself are not named.
    expect(summary.split("\n")).toEqual([
      expect.stringMatching(/^- `staging`: /),
      expect.stringMatching(/^- `production`: /),
      "",
      "nginx hands 1 route to the Node gateway behind it:",
      "- POST /api/v1/orders (`staging`, `production`): request validation (validate-body) checks bodies and parameters against the OpenAPI schemas",
    ]);
    expect(summary).not.toContain("GET /api/v1/products");
    const [deployment] = await t.app.operations.deployments("acme-validated-production", { limit: 1, offset: 0 });
    expect(deployment).toMatchObject({ outcome: "succeeded", report: null, hybridRoutes: [{ route: "POST /api/v1/orders", reason: expect.stringMatching(/^request validation \(validate-body\)/) }] });

    // The route behind nginx answers as the Node gateway would: its body is checked.
    await within(2_000, async () => (await call("acme-validated-production", "/api/v1/products")).status === 200);
    const refused = await request(`${t.app.gatewayUrl}/api/v1/orders`, { method: "POST", headers: { host: `acme-validated-production.${BASE_DOMAIN}`, "content-type": "application/json" }, body: "{}", headersTimeout: 5_000, bodyTimeout: 5_000, reset: true });
    await refused.body.text();
    expect(refused.statusCode).toBe(400);
  });

  it("fails the deploy with the renderer's reason when nginx cannot serve the release at all, the last good release serving on", async () => {
    const repo = t.github.repo("acme", "unwritable");
    const first = t.github.commit(repo, shopFiles({ upstream: upstream.url, products: true }), "main");
    expect((await deliver(t.app.appUrl, "push", pushEvent(repo, t.github.installationId, "main", "0".repeat(40), first), WEBHOOK_SECRET)).status).toBe(200);
    await t.app.idle();
    expect(t.github.latestCheck(first, "Gitway / deploy")!.conclusion).toBe("success");
    // A host name with an underscore: a URL takes it, nginx's configuration cannot carry it.
    const second = t.github.commit(repo, shopFiles({ upstream: upstream.url, products: true, extraRoutes: [{ path: "/api/v1/stock", operationId: "stock", route: { corsPolicy: "none", handler: forward("http://stock_service.internal:8080"), policies: { inbound: [] } } }] }), "main");
    expect((await deliver(t.app.appUrl, "push", pushEvent(repo, t.github.installationId, "main", first, second), WEBHOOK_SECRET)).status).toBe(200);
    await t.app.idle();
    const check = t.github.latestCheck(second, "Gitway / deploy")!;
    expect(check.conclusion).toBe("failure");
    expect(check.output.summary).toMatch(/^Not deployed to `production`: nginx cannot serve this release: .*upstream host "stock\\_service\.internal" cannot be written to nginx/);
    expect(t.github.deploymentsOf(repo, "production").at(-1)!.statuses.at(-1)).toMatchObject({ state: "failure" });
    expect((await call("acme-unwritable-production", "/api/v1/products")).status).toBe(200);
    // The operator's view says so too: the newer commit failed, the older one keeps serving.
    expect(await t.app.operations.environment("acme-unwritable-production")).toMatchObject({ status: "failed", desiredCommit: second, commit: { sha: first } });
    expect((await t.app.operations.environment("acme-unwritable-production")).reason).toMatch(/nginx cannot serve this release: .*; the last good release \(.+\) keeps serving$/);
  });
});
