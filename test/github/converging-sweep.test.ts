import { sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startUpstream } from "../gateway/harness.js";
import { startApp, WEBHOOK_SECRET, type AppUnderTest } from "./app-harness.js";
import type { FakeRepo } from "./fake-github.js";
import { shopFiles } from "./shop-repo.js";
import { deliver, pullRequestEvent, pushEvent } from "./webhooks.js";

let t: AppUnderTest;
let upstream: Awaited<ReturnType<typeof startUpstream>>;

beforeAll(async () => {
  upstream = await startUpstream();
  // Previews idle for an hour are removed by the sweep.
  t = await startApp({ env: { GITWAY_PREVIEW_TTL_HOURS: "1" } });
}, 60_000);

afterAll(async () => {
  await t?.close();
  await upstream?.close();
});

afterEach(() => {
  expect(t.github.unexpected).toEqual([]);
});

async function sweep(times = 1): Promise<void> {
  for (let i = 0; i < times; i++) {
    await t.app.operations.sync(undefined, "test");
    await t.app.idle();
  }
}

/** Everything the app asked GitHub to change (reads and token exchanges aside). */
const writes = () => t.github.sent.filter((s) => s.method !== "GET" && !s.path.endsWith("/access_tokens")).length;

const invalidFiles = (): Record<string, string> => ({ ...shopFiles({ upstream: upstream.url }), "config/routes.oas.json": "{ this is not JSON" });

/** A production config that needs `$env(UPSTREAM_TOKEN)`, which production has no value for. */
const needsToken = (): Record<string, string> =>
  shopFiles({
    upstream: upstream.url,
    products: true,
    productsInbound: ["upstream-token"],
    extraPolicies: [{ name: "upstream-token", policyType: "set-headers-inbound", handler: { export: "SetHeadersInboundPolicy", module: "$import(@zuplo/runtime)", options: { headers: [{ name: "x-upstream-token", value: "$env(UPSTREAM_TOKEN)" }] } } }],
  });

function openPull(repo: FakeRepo, number: number, head: string, base: string): void {
  repo.pulls.set(number, { number, state: "open", head: { sha: head, ref: `feature-${number}`, fork: false }, base: { sha: base, ref: repo.defaultBranch } });
}

describe("a sweep that converges", () => {
  it("checks a pull request with an invalid config once, and ten sweeps later it has no new check runs", async () => {
    const repo = t.github.repo("acme", "broken");
    const main = t.github.commit(repo, shopFiles({ upstream: upstream.url }), "main");
    await sweep(); // production deployed; nothing else to do
    const head = t.github.commit(repo, invalidFiles());
    openPull(repo, 1, head, main); // opened while the app was away

    await sweep();
    expect(t.github.latestCheck(head, "Gitway / validate")!.conclusion).toBe("failure");
    const runs = t.github.checkRunsFor(head).length;
    expect(runs).toBe(3);
    const before = writes();

    await sweep(10);

    expect(t.github.checkRunsFor(head)).toHaveLength(runs);
    expect(writes()).toBe(before);
  }, 60_000);

  it("does not redeploy a failed production deploy every sweep: it retries after a backoff, at most three times for that head", async () => {
    const repo = t.github.repo("acme", "needs-token");
    const sha = t.github.commit(repo, needsToken(), "main");
    await deliver(t.app.appUrl, "push", pushEvent(repo, t.github.installationId, "main", "0".repeat(40), sha), WEBHOOK_SECRET);
    await t.app.idle();
    const attempts = () => t.github.deploymentsOf(repo, "production").length;
    expect(attempts()).toBe(1);
    expect(t.github.latestCheck(sha, "Gitway / deploy")!.conclusion).toBe("failure");

    await sweep(10);
    expect(attempts()).toBe(1);

    // Each time the backoff has passed, the sweep tries once more, until three retries are spent.
    for (let i = 0; i < 5; i++) {
      await t.app.store.db.execute(sql`UPDATE sweep_decisions SET retry_after = now() - interval '1 second' WHERE head_sha = ${sha}`);
      await sweep();
    }
    expect(attempts()).toBe(4);
  }, 60_000);

  it("leaves a preview removed for idling removed, sweep after sweep, until its pull request gets a new push", async () => {
    const repo = t.github.repo("acme", "idle");
    const main = t.github.commit(repo, shopFiles({ upstream: upstream.url }), "main");
    const head = t.github.commit(repo, shopFiles({ upstream: upstream.url, products: true }));
    await deliver(t.app.appUrl, "pull_request", pullRequestEvent("opened", repo, t.github.installationId, { number: 4, headSha: head, baseSha: main }), WEBHOOK_SECRET);
    await t.app.idle();
    expect((await t.call("acme-idle-pr-4", "/api/v1/products")).status).toBe(200);

    await t.app.store.db.execute(sql`UPDATE environments SET last_activity_at = now() - interval '2 hours' WHERE host_name = 'acme-idle-pr-4'`);
    await sweep();
    expect((await t.call("acme-idle-pr-4", "/api/v1/products")).status).toBe(404);
    const deployments = t.github.deploymentsOf(repo, "pr-4").length;

    await sweep(5);
    expect((await t.call("acme-idle-pr-4", "/api/v1/products")).status).toBe(404);
    expect(t.github.deploymentsOf(repo, "pr-4")).toHaveLength(deployments);

    const next = t.github.commit(repo, shopFiles({ upstream: upstream.url, products: true, ordersOpen: true }));
    await deliver(t.app.appUrl, "pull_request", pullRequestEvent("synchronize", repo, t.github.installationId, { number: 4, headSha: next, baseSha: main }), WEBHOOK_SECRET);
    await t.app.idle();
    expect((await t.call("acme-idle-pr-4", "/api/v1/orders")).status).toBe(200);
  }, 60_000);

  it("gives a head queued by both a sweep and its webhook one set of checks, none cancelled", async () => {
    const repo = t.github.repo("acme", "twice");
    const main = t.github.commit(repo, shopFiles({ upstream: upstream.url }), "main");
    await sweep();
    const head = t.github.commit(repo, shopFiles({ upstream: upstream.url, products: true }));
    const event = pullRequestEvent("opened", repo, t.github.installationId, { number: 5, headSha: head, baseSha: main });

    await Promise.all([t.app.operations.sync(undefined, "test"), deliver(t.app.appUrl, "pull_request", event, WEBHOOK_SECRET)]);
    await t.app.idle();
    await sweep();

    const runs = t.github.checkRunsFor(head);
    expect(runs.map((r) => r.name).sort()).toEqual(["Gitway / changes", "Gitway / preview", "Gitway / smoke", "Gitway / validate"]);
    expect(runs.map((r) => r.conclusion)).not.toContain("cancelled");
    expect((await t.call("acme-twice-pr-5", "/api/v1/products")).status).toBe(200);
  }, 60_000);
});

describe("late, repeated and out-of-order events", () => {
  it("never brings back a closed pull request's preview from an event older than its closing", async () => {
    const repo = t.github.repo("acme", "late");
    const main = t.github.commit(repo, shopFiles({ upstream: upstream.url }), "main");
    const head = t.github.commit(repo, shopFiles({ upstream: upstream.url, products: true }));
    const late = pullRequestEvent("synchronize", repo, t.github.installationId, { number: 6, headSha: head, baseSha: main });
    await deliver(t.app.appUrl, "pull_request", pullRequestEvent("opened", repo, t.github.installationId, { number: 6, headSha: head, baseSha: main }), WEBHOOK_SECRET);
    await t.app.idle();
    await deliver(t.app.appUrl, "pull_request", pullRequestEvent("closed", repo, t.github.installationId, { number: 6, headSha: head, baseSha: main }), WEBHOOK_SECRET);
    await t.app.idle();
    expect((await t.call("acme-late-pr-6", "/api/v1/products")).status).toBe(404);
    const runs = t.github.checkRunsFor(head).length;

    await deliver(t.app.appUrl, "pull_request", late, WEBHOOK_SECRET);
    await t.app.idle();

    expect((await t.call("acme-late-pr-6", "/api/v1/products")).status).toBe(404);
    expect(t.github.checkRunsFor(head)).toHaveLength(runs);
  }, 60_000);

  it("never lets an older commit's late event replace the newer one a pull request serves", async () => {
    const repo = t.github.repo("acme", "order");
    const main = t.github.commit(repo, shopFiles({ upstream: upstream.url }), "main");
    const older = t.github.commit(repo, shopFiles({ upstream: upstream.url, products: true }));
    const late = pullRequestEvent("opened", repo, t.github.installationId, { number: 7, headSha: older, baseSha: main });
    const newer = t.github.commit(repo, shopFiles({ upstream: upstream.url, products: true, ordersOpen: true }));
    await deliver(t.app.appUrl, "pull_request", pullRequestEvent("synchronize", repo, t.github.installationId, { number: 7, headSha: newer, baseSha: main }), WEBHOOK_SECRET);
    await t.app.idle();
    expect((await t.call("acme-order-pr-7", "/api/v1/orders")).status).toBe(200);

    await deliver(t.app.appUrl, "pull_request", late, WEBHOOK_SECRET);
    await t.app.idle();

    expect((await t.call("acme-order-pr-7", "/api/v1/orders")).status).toBe(200);
    expect(t.github.checkRunsFor(older)).toEqual([]);
  }, 60_000);

  it("never redeploys an older production commit over a newer one when its push arrives late", async () => {
    const repo = t.github.repo("acme", "late-push");
    const first = t.github.commit(repo, shopFiles({ upstream: upstream.url }), "main");
    const second = t.github.commit(repo, shopFiles({ upstream: upstream.url, products: true }), "main");
    await deliver(t.app.appUrl, "push", pushEvent(repo, t.github.installationId, "main", first, second), WEBHOOK_SECRET);
    await t.app.idle();
    await deliver(t.app.appUrl, "push", pushEvent(repo, t.github.installationId, "main", "0".repeat(40), first), WEBHOOK_SECRET);
    await t.app.idle();

    expect((await t.call("acme-late-push-production", "/api/v1/products")).status).toBe(200);
    expect(t.github.deploymentsOf(repo, "production").map((d) => d.ref)).toEqual([second]);
  }, 60_000);
});

describe("a superseded promotion", () => {
  it("never leaves its deploy check spinning, and the newer commit is deployed", async () => {
    const repo = t.github.repo("acme", "superseded");
    const first = t.github.commit(repo, shopFiles({ upstream: upstream.url }), "main");
    // The first promotion waits while it reads its commit's files, long enough for a newer push to queue
    // (its GitHub writes no longer hold the job: they are sent after it).
    const tree = `/repos/acme/${repo.name}/git/trees/${first}`;
    const release = t.github.hold("GET", new RegExp(`^${tree}$`));
    await deliver(t.app.appUrl, "push", pushEvent(repo, t.github.installationId, "main", "0".repeat(40), first), WEBHOOK_SECRET);
    const started = Date.now();
    while (!t.github.sent.some((s) => s.method === "GET" && s.path.split("?")[0] === tree) && Date.now() - started < 20_000) await new Promise((r) => setTimeout(r, 20));
    const second = t.github.commit(repo, shopFiles({ upstream: upstream.url, products: true }), "main");
    await deliver(t.app.appUrl, "push", pushEvent(repo, t.github.installationId, "main", first, second), WEBHOOK_SECRET);
    release();
    await t.app.idle();

    // The older commit is no longer the branch's head when its job reads it: it opens no deploy check,
    // or (had it opened one) completes it as cancelled. Never one left in progress.
    const older = t.github.latestCheck(first, "Gitway / deploy");
    if (older !== undefined) expect(older).toMatchObject({ status: "completed", conclusion: "cancelled" });
    expect(t.github.latestCheck(second, "Gitway / deploy")).toMatchObject({ status: "completed", conclusion: "success" });
    expect((await t.call("acme-superseded-production", "/api/v1/products")).status).toBe(200);
  }, 60_000);
});
