import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startUpstream } from "../gateway/harness.js";
import { startApp, WEBHOOK_SECRET, type AppUnderTest } from "./app-harness.js";
import { shopFiles } from "./shop-repo.js";
import { deliver, pullRequestEvent } from "./webhooks.js";

let t: AppUnderTest;
let upstream: Awaited<ReturnType<typeof startUpstream>>;

beforeAll(async () => {
  upstream = await startUpstream();
  t = await startApp({ ghe: true });
});

afterAll(async () => {
  await t?.close();
  await upstream?.close();
});

describe("against GitHub Enterprise Server (GHE_HOST, GHE_PROTOCOL=http)", () => {
  it("reads, checks and previews a pull request through the API at that host's /api/v3", async () => {
    const repo = t.github.repo("acme", "shop");
    const baseSha = t.github.commit(repo, shopFiles({ upstream: upstream.url }), "main");
    const head = t.github.commit(repo, shopFiles({ upstream: upstream.url, products: true }));
    const r = await deliver(t.app.appUrl, "pull_request", pullRequestEvent("opened", repo, t.github.installationId, { number: 1, headSha: head, baseSha }), WEBHOOK_SECRET);
    expect(r.status).toBe(200);
    await t.app.idle();
    expect(t.github.unexpected).toEqual([]);
    expect(t.github.sent.length).toBeGreaterThan(5);
    expect(t.github.latestCheck(head, "Gitway / preview")!.conclusion).toBe("success");
    expect((await t.call("acme-shop-pr-1", "/api/v1/products")).status).toBe(200);
  });
});
