import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startUpstream } from "../gateway/harness.js";
import { startAppProcess } from "./app-process.js";
import { shopFiles } from "./shop-repo.js";
import { pullRequestEvent } from "./webhooks.js";

let upstream: Awaited<ReturnType<typeof startUpstream>>;

beforeAll(async () => {
  upstream = await startUpstream();
});

afterAll(async () => {
  await upstream?.close();
});

/** The writes the app sent to the fake GitHub (its token requests aside), in order. */
const writesOf = (app: Awaited<ReturnType<typeof startAppProcess>>) => app.github.sent.filter((s) => s.method !== "GET" && !s.path.endsWith("/access_tokens"));

describe("the GitHub writes a job handed over, as dist/main.js runs it with Octokit's throttling on", () => {
  it("go out back to back while the installation's burst lasts: Octokit adds no gap of its own", async () => {
    const app = await startAppProcess();
    try {
      const repo = app.github.repo("acme", "burst");
      const base = app.github.commit(repo, shopFiles({ upstream: upstream.url }), "main");
      const head = app.github.commit(repo, shopFiles({ upstream: upstream.url, products: true }));
      expect((await app.deliver("pull_request", pullRequestEvent("opened", repo, app.github.installationId, { number: 4, headSha: head, baseSha: base }))).status).toBe(200);
      await app.waitFor("the preview's deployment status", () => app.github.deploymentsOf(repo, "pr-4")[0]?.statuses.length === 1, 60_000);
      // A deployment and its status are one write of the writer, two requests sent one after the
      // other: with Octokit's own pace they were a second apart.
      const writes = writesOf(app);
      const created = writes.findIndex((w) => /\/deployments$/.test(w.path));
      expect(writes[created + 1]?.path).toMatch(/\/deployments\/\d+\/statuses$/);
      expect(writes[created + 1]!.at! - writes[created]!.at!).toBeLessThan(500);
      expect(app.github.unexpected).toEqual([]);
    } finally {
      await app.stop();
    }
  }, 120_000);

  it("are still sent when the process is stopped just after the preview serves: its checks, its comment and its deployment", async () => {
    // A burst of one: the writes then go one a second, as they do once an installation's burst is spent.
    const app = await startAppProcess({ env: { GITWAY_GITHUB_WRITE_BURST: "1" } });
    let code: number | null = null;
    try {
      const repo = app.github.repo("acme", "stopping");
      const base = app.github.commit(repo, shopFiles({ upstream: upstream.url }), "main");
      const head = app.github.commit(repo, shopFiles({ upstream: upstream.url, products: true }));
      expect((await app.deliver("pull_request", pullRequestEvent("opened", repo, app.github.installationId, { number: 9, headSha: head, baseSha: base }))).status).toBe(200);
      await app.waitFor("the preview serving", async () => (await app.call("acme-stopping-pr-9", "/api/v1/products")).status === 200, 60_000);
      // Six writes at a write a second are not all sent yet when the stop begins.
      expect(app.github.deploymentsOf(repo, "pr-9")).toEqual([]);
      const before = writesOf(app).length;
      const stopping = Date.now();
      code = await app.stop();
      expect(Date.now() - stopping).toBeLessThan(10_000);
      for (const name of ["Gitway / validate", "Gitway / changes", "Gitway / preview"]) expect(app.github.latestCheck(head, name)).toMatchObject({ status: "completed", conclusion: "success" });
      expect(app.github.commentsOf(repo, 9)).toHaveLength(1);
      expect(app.github.deploymentsOf(repo, "pr-9")[0]!.statuses).toMatchObject([{ state: "success" }]);
      // Those sent during the stop kept the pace of one a second (as they arrive here: less the jitter of a loaded machine).
      const times = writesOf(app).map((w) => w.at!);
      expect(times.length).toBeGreaterThan(before);
      for (let i = Math.max(1, before); i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(800);
      expect(app.github.unexpected).toEqual([]);
    } finally {
      if (code === null) await app.stop();
    }
    expect(code).toBe(0);
  }, 120_000);
});
