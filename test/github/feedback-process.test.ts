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

describe("the GitHub writes a job handed over, as dist/main.js runs it with GitHub's pace of a write a second", () => {
  it("are still sent when the process is stopped just after the preview serves: its checks, its comment and its deployment", async () => {
    const app = await startAppProcess();
    let code: number | null = null;
    try {
      const repo = app.github.repo("acme", "stopping");
      const base = app.github.commit(repo, shopFiles({ upstream: upstream.url }), "main");
      const head = app.github.commit(repo, shopFiles({ upstream: upstream.url, products: true }));
      expect((await app.deliver("pull_request", pullRequestEvent("opened", repo, app.github.installationId, { number: 9, headSha: head, baseSha: base }))).status).toBe(200);
      await app.waitFor("the preview serving", async () => (await app.call("acme-stopping-pr-9", "/api/v1/products")).status === 200, 60_000);
      // Six writes at a write a second are not all sent yet when the stop begins.
      expect(app.github.deploymentsOf(repo, "pr-9")).toEqual([]);
      const stopping = Date.now();
      code = await app.stop();
      expect(Date.now() - stopping).toBeLessThan(10_000);
      for (const name of ["Gitway / validate", "Gitway / changes", "Gitway / preview"]) expect(app.github.latestCheck(head, name)).toMatchObject({ status: "completed", conclusion: "success" });
      expect(app.github.commentsOf(repo, 9)).toHaveLength(1);
      expect(app.github.deploymentsOf(repo, "pr-9")[0]!.statuses).toMatchObject([{ state: "success" }]);
      expect(app.github.unexpected).toEqual([]);
    } finally {
      if (code === null) await app.stop();
    }
    expect(code).toBe(0);
  }, 120_000);
});
