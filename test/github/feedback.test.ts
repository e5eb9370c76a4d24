import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startUpstream } from "../gateway/harness.js";
import { startApp, WEBHOOK_SECRET, type AppUnderTest } from "./app-harness.js";
import type { FakeRepo } from "./fake-github.js";
import { shopFiles } from "./shop-repo.js";
import { deliver, pullRequestEvent, pushEvent } from "./webhooks.js";

const CHECKS = ["Gitway / validate", "Gitway / changes", "Gitway / preview"];

let t: AppUnderTest;
let upstream: Awaited<ReturnType<typeof startUpstream>>;
let serial = 0;

beforeAll(async () => {
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

function newRepo(): { repo: FakeRepo; base: string; head: string } {
  const repo = t.github.repo("acme", `fast${++serial}`);
  const base = t.github.commit(repo, shopFiles({ upstream: upstream.url }), "main");
  const head = t.github.commit(repo, shopFiles({ upstream: upstream.url, products: true }));
  return { repo, base, head };
}

async function openPullRequest(repo: FakeRepo, number: number, head: string, base: string, installationId = t.github.installationId): Promise<void> {
  const r = await deliver(t.app.appUrl, "pull_request", pullRequestEvent("opened", repo, installationId, { number, headSha: head, baseSha: base }), WEBHOOK_SECRET);
  expect(r.status).toBe(200);
}

async function until<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const checkWrites = (repo: FakeRepo, name?: string) =>
  t.github.sent.filter((s) => s.path.startsWith(`/repos/acme/${repo.name}/check-runs`) && s.method !== "GET" && (name === undefined || (s.body as { name?: string }).name === name || s.method === "PATCH"));

describe("feedback on a pull request", () => {
  it("serves the preview, and ends the job, before any of its checks is posted", async () => {
    const { repo, base, head } = newRepo();
    const release = t.github.hold("POST", new RegExp(`^/repos/acme/${repo.name}/check-runs$`));
    try {
      await openPullRequest(repo, 1, head, base);
      await until("the preview serving", async () => (await t.call(`acme-${repo.name}-pr-1`, "/api/v1/products")).status === 200);
      await until("the job done", async () => (await t.app.queue.pendingCount()) === 0);
      // The job is over and its preview serves; GitHub has not been told anything yet.
      expect(t.github.checkRunsFor(head)).toEqual([]);
      expect(t.github.commentsOf(repo, 1)).toEqual([]);
    } finally {
      release();
    }
    await t.app.idle();
    for (const name of CHECKS) expect(t.github.latestCheck(head, name)).toMatchObject({ status: "completed" });
    expect(t.github.commentsOf(repo, 1)).toHaveLength(1);
    expect(t.github.deploymentsOf(repo, "pr-1")[0]!.statuses).toMatchObject([{ state: "success" }]);
  });

  it("creates each check whose result is known once, with its conclusion, and posts the deployment after the checks and the comment", async () => {
    const { repo, base, head } = newRepo();
    await openPullRequest(repo, 2, head, base);
    await t.app.idle();
    for (const name of CHECKS) {
      const writes = checkWrites(repo, name);
      expect(writes).toHaveLength(1);
      expect(writes[0]).toMatchObject({ method: "POST", body: { name, status: "completed" } });
    }
    const order = t.github.sent.filter((s) => s.method === "POST" && s.path.startsWith(`/repos/acme/${repo.name}/`)).map((s) => s.path.replace(`/repos/acme/${repo.name}`, "").replace(/\d+/g, "N"));
    // The fourth check run is the smoke test's, created once the preview answered it.
    expect(order).toEqual(["/check-runs", "/check-runs", "/check-runs", "/check-runs", "/issues/N/comments", "/deployments", "/deployments/N/statuses"]);
    expect(checkWrites(repo, "Gitway / smoke")).toHaveLength(1);
  });

  it("creates a check opened in progress once, with its result, when it finished while the installation's writes waited", async () => {
    // Another repository's first write holds the installation's writer while a promotion runs.
    const other = newRepo();
    const release = t.github.hold("POST", new RegExp(`^/repos/acme/${other.repo.name}/check-runs$`));
    const { repo, base } = newRepo();
    let next: string;
    try {
      await openPullRequest(other.repo, 3, other.head, other.base);
      await until("the other repository's first check write", () => t.github.sent.some((s) => s.path === `/repos/acme/${other.repo.name}/check-runs`));
      next = t.github.commit(repo, shopFiles({ upstream: upstream.url, products: true }), "main");
      expect((await deliver(t.app.appUrl, "push", pushEvent(repo, t.github.installationId, "main", base, next), WEBHOOK_SECRET)).status).toBe(200);
      await until("production serving the new head", async () => (await t.call(`acme-${repo.name}-production`, "/api/v1/products")).status === 200);
      await until("the promotion done", async () => (await t.app.queue.pendingCount()) === 0);
    } finally {
      release();
    }
    await t.app.idle();
    const deploy = checkWrites(repo, "Gitway / deploy");
    expect(deploy).toHaveLength(1);
    expect(deploy[0]).toMatchObject({ method: "POST", body: { name: "Gitway / deploy", status: "completed", conclusion: "success" } });
    expect(t.github.checkRunsFor(next!, "Gitway / deploy")).toMatchObject([{ status: "completed", conclusion: "success" }]);
  });

  it("lets another installation's pull request be previewed and get all its checks while one installation's writes are held", async () => {
    const slow = newRepo();
    const fast = newRepo();
    const release = t.github.hold("POST", new RegExp(`^/repos/acme/${slow.repo.name}/check-runs$`));
    try {
      await openPullRequest(slow.repo, 4, slow.head, slow.base, t.github.installationId);
      await until("the held installation's first check write", () => t.github.sent.some((s) => s.path === `/repos/acme/${slow.repo.name}/check-runs`));
      await openPullRequest(fast.repo, 5, fast.head, fast.base, t.github.installationId + 1);
      await until("the other installation's checks and comment", () => CHECKS.every((name) => t.github.latestCheck(fast.head, name)?.status === "completed") && t.github.commentsOf(fast.repo, 5).length === 1);
      expect((await t.call(`acme-${fast.repo.name}-pr-5`, "/api/v1/products")).status).toBe(200);
      // The held installation's preview serves too: only its writes wait.
      expect((await t.call(`acme-${slow.repo.name}-pr-4`, "/api/v1/products")).status).toBe(200);
      expect(t.github.checkRunsFor(slow.head)).toEqual([]);
    } finally {
      release();
    }
    await t.app.idle();
    for (const name of CHECKS) expect(t.github.latestCheck(slow.head, name)).toMatchObject({ status: "completed" });
  });
});
