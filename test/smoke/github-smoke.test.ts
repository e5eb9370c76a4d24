import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { route, forward } from "../config/fixtures/seed.js";
import { startUpstream } from "../gateway/harness.js";
import { startApp, WEBHOOK_SECRET, type AppUnderTest } from "../github/app-harness.js";
import { shopFiles } from "../github/shop-repo.js";
import { deliver, pullRequestEvent } from "../github/webhooks.js";

let t: AppUnderTest;
let upstream: Awaited<ReturnType<typeof startUpstream>>;

beforeAll(async () => {
  // The upstream answers every path with {"ok": true, "path": ...}.
  upstream = await startUpstream();
  t = await startApp();
});

afterAll(async () => {
  await t?.close();
  await upstream?.close();
});

afterEach(() => {
  expect(t.github.unexpected).toEqual([]);
});

it("a pull request's preview gets a Gitway / smoke check run that fails on the operation whose answer its schema refuses", async () => {
  const repo = t.github.repo("acme", "stock");
  const baseSha = t.github.commit(repo, shopFiles({ upstream: upstream.url }), "main");
  const stock = {
    path: "/api/v1/stock",
    operationId: "getStock",
    responses: { "200": { description: "Units in stock", content: { "application/json": { schema: { type: "object", required: ["available"], properties: { available: { type: "integer" } } } } } } },
    route: route([], forward(upstream.url)),
  };
  const head = t.github.commit(repo, shopFiles({ upstream: upstream.url, products: true, extraRoutes: [stock] }));
  const r = await deliver(t.app.appUrl, "pull_request", pullRequestEvent("opened", repo, t.github.installationId, { number: 3, headSha: head, baseSha }), WEBHOOK_SECRET);
  expect(r.status).toBe(200);
  await t.app.idle();

  const smoke = t.github.latestCheck(head, "Gitway / smoke")!;
  expect(smoke).toMatchObject({ status: "completed", conclusion: "failure", details_url: "http://acme-stock-pr-3.gitway.test:8787/" });
  expect(smoke.output.title).toBe('1 of 3 answers breaks the description: getStock (GET /api/v1/stock): body lacks the required property "available"');
  // The orders route asks for a key: the test's own, which reached the gateway and not the upstream.
  expect(smoke.output.summary).toContain("| listOrders (GET /api/v1/orders) | `GET /api/v1/orders` | 200 | passed |");
  const ordersCall = upstream.seen.find((s) => s.url === "/api/v1/orders")!;
  expect(ordersCall.headers["x-consumer-name"]).toBe("gitway-smoke");
  expect(ordersCall.headers.authorization).toBeUndefined();
  expect(await t.app.operations.keys("acme-stock-pr-3")).toEqual([]);
  // The comment sums it up in one line beside the others.
  expect(t.github.commentsOf(repo, 3)[0]!.body).toContain('❌ **Smoke test**: 1 of 3 answers breaks the description: getStock (GET /api/v1/stock): body lacks the required property "available"');
  // The other checks are as before.
  expect(t.github.latestCheck(head, "Gitway / preview")).toMatchObject({ conclusion: "success" });
});
