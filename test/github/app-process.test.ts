import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startUpstream } from "../gateway/harness.js";
import { startAppProcess, type AppProcess } from "./app-process.js";
import { shopFiles } from "./shop-repo.js";
import { pullRequestEvent } from "./webhooks.js";

let app: AppProcess;
let upstream: Awaited<ReturnType<typeof startUpstream>>;

beforeAll(async () => {
  upstream = await startUpstream();
  app = await startAppProcess();
}, 60_000);

afterAll(async () => {
  expect(await app?.stop()).toBe(0);
  await upstream?.close();
});

describe("the GitHub App as dist/main.js runs it, against GitHub's API over HTTP", () => {
  it("checks and previews a pull request: the preview serves the head through the real gateway", async () => {
    const repo = app.github.repo("acme", "shop");
    const base = app.github.commit(repo, shopFiles({ upstream: upstream.url }), "main");
    const head = app.github.commit(repo, shopFiles({ upstream: upstream.url, products: true }));
    repo.pulls.set(3, { number: 3, state: "open", head: { sha: head, ref: "feature", fork: false }, base: { sha: base, ref: "main" } });

    expect((await app.deliver("pull_request", pullRequestEvent("opened", repo, app.github.installationId, { number: 3, headSha: head, baseSha: base }))).status).toBe(200);

    const preview = await app.waitFor("the preview check", () => app.github.latestCheck(head, "Gitway / preview")?.status === "completed" && app.github.latestCheck(head, "Gitway / preview"), 60_000);
    expect(preview.conclusion).toBe("success");
    expect(app.github.latestCheck(head, "Gitway / validate")?.conclusion).toBe("success");
    expect((await app.call("acme-shop-pr-3", "/api/v1/products")).status).toBe(200);
    expect(app.github.unexpected).toEqual([]);
  }, 90_000);
});
