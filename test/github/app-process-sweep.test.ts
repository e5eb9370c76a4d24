import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startUpstream } from "../gateway/harness.js";
import { startAppProcess, type AppProcess } from "./app-process.js";
import type { FakeRepo } from "./fake-github.js";
import { shopFiles } from "./shop-repo.js";
import { pullRequestEvent } from "./webhooks.js";

let app: AppProcess;
let upstream: Awaited<ReturnType<typeof startUpstream>>;
let repo: FakeRepo;
let base: string;
let head: string;

beforeAll(async () => {
  upstream = await startUpstream();
  // The pull request is open before the app starts: its start-up sweep finds it while its webhook arrives.
  app = await startAppProcess({
    env: { GITWAY_RECONCILE_SECONDS: "300" },
    prepare(github) {
      repo = github.repo("acme", "startup");
      base = github.commit(repo, shopFiles({ upstream: upstream.url }), "main");
      head = github.commit(repo, shopFiles({ upstream: upstream.url, products: true }));
      repo.pulls.set(8, { number: 8, state: "open", head: { sha: head, ref: "feature", fork: false }, base: { sha: base, ref: "main" } });
    },
  });
}, 60_000);

afterAll(async () => {
  expect(await app?.stop()).toBe(0);
  await upstream?.close();
});

describe("the GitHub App as dist/main.js runs it, at start-up", () => {
  it("gives a head that both its start-up sweep and a webhook queue one set of checks, and none says cancelled", async () => {
    expect((await app.deliver("pull_request", pullRequestEvent("opened", repo, app.github.installationId, { number: 8, headSha: head, baseSha: base }))).status).toBe(200);

    await app.waitFor("the preview check", () => app.github.latestCheck(head, "Gitway / preview")?.status === "completed", 60_000);
    await app.waitFor("production deployed by the sweep", () => app.github.deploymentsOf(repo, "production").at(-1)?.statuses.at(-1)?.state === "success", 60_000);
    // Whatever else was queued for this head has run by now: the sweep queued at most one job, before the webhook's.
    await new Promise((r) => setTimeout(r, 1_500));

    const runs = app.github.checkRunsFor(head);
    expect(runs.map((r) => r.name).sort()).toEqual(["Gitway / changes", "Gitway / preview", "Gitway / smoke", "Gitway / validate"]);
    expect(runs.map((r) => r.conclusion)).not.toContain("cancelled");
    expect(app.github.deploymentsOf(repo, "pr-8")).toHaveLength(1);
    expect((await app.call("acme-startup-pr-8", "/api/v1/products")).status).toBe(200);
    expect(app.github.unexpected).toEqual([]);
  }, 90_000);
});
