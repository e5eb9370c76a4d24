import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { startUpstream } from "../gateway/harness.js";
import { startApp, WEBHOOK_SECRET, type AppUnderTest } from "./app-harness.js";
import { shopFiles } from "./shop-repo.js";
import { deliver, pullRequestEvent, pushEvent } from "./webhooks.js";

let t: AppUnderTest;
let upstream: Awaited<ReturnType<typeof startUpstream>>;

beforeAll(async () => {
  upstream = await startUpstream();
  t = await startApp();
}, 90_000);

afterAll(async () => {
  await t?.close();
  await upstream?.close();
});

afterEach(() => {
  expect(t.github.unexpected).toEqual([]);
});

it("a pull request removing an operation production's consumers call gets a changes check and a comment naming them with their counts", async () => {
  const repo = t.github.repo("acme", "impact");
  const files = shopFiles({ upstream: upstream.url, products: true });
  const main = t.github.commit(repo, files, "main");
  const pushed = await deliver(t.app.appUrl, "push", pushEvent(repo, t.github.installationId, "main", "0".repeat(40), main), WEBHOOK_SECRET);
  expect(pushed.status).toBe(200);
  await t.app.idle();

  // Production traffic through the real gateway: two consumers with keys, one without.
  const production = "acme-impact-production";
  const mobile = (await t.app.operations.createKey(production, "mobile-app", "test")).key;
  const partner = (await t.app.operations.createKey(production, "partner-acme", "test")).key;
  for (let i = 0; i < 4; i++) expect((await t.call(production, "/api/v1/orders", { authorization: `Bearer ${mobile}` })).status).toBe(200);
  expect((await t.call(production, "/api/v1/orders", { authorization: `Bearer ${partner}` })).status).toBe(200);
  expect((await t.call(production, "/api/v1/orders")).status).toBe(401);
  await t.app.flushUsage();

  const head = t.github.commit(repo, shopFiles({ upstream: upstream.url, products: true, withoutOrders: true }));
  repo.pulls.set(9, { number: 9, state: "open", head: { sha: head, ref: "drop-orders", fork: false }, base: { sha: main, ref: "main" } });
  const opened = await deliver(t.app.appUrl, "pull_request", pullRequestEvent("opened", repo, t.github.installationId, { number: 9, headSha: head, baseSha: main }), WEBHOOK_SECRET);
  expect(opened.status).toBe(200);
  await t.app.idle();

  const changes = t.github.latestCheck(head, "Gitway / changes")!;
  expect(changes.conclusion).toBe("failure");
  expect(changes.output.summary).toContain("👥 called by 3 consumers in the last 30 days: mobile-app (4 calls), anonymous (1), partner-acme (1)");
  const comment = t.github.commentsOf(repo, 9).at(-1)!.body;
  expect(comment).toContain("- `GET /api/v1/orders`: called by 3 consumers in the last 30 days: mobile-app (4 calls), anonymous (1), partner-acme (1)");
  // Names and counts only: never a key.
  expect(changes.output.summary).not.toContain(mobile);
  expect(comment).not.toContain(partner);
}, 120_000);
