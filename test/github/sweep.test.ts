import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startUpstream } from "../gateway/harness.js";
import { startApp, WEBHOOK_SECRET, type AppUnderTest } from "./app-harness.js";
import { shopFiles } from "./shop-repo.js";
import { deliver, pullRequestEvent } from "./webhooks.js";

let t: AppUnderTest;
let upstream: Awaited<ReturnType<typeof startUpstream>>;

beforeAll(async () => {
  upstream = await startUpstream();
  t = await startApp();
});

afterAll(async () => {
  await t?.close();
  await upstream?.close();
});

describe("the catch-up sweep (GitHub does not redeliver a failed delivery by itself)", () => {
  it("previews an open pull request and deploys a production head whose deliveries were lost, and removes the preview of a pull request closed meanwhile", async () => {
    const repo = t.github.repo("acme", "lost");
    const main = t.github.commit(repo, shopFiles({ upstream: upstream.url }), "main");
    const head = t.github.commit(repo, shopFiles({ upstream: upstream.url, products: true }));
    const closedHead = t.github.commit(repo, shopFiles({ upstream: upstream.url, ordersOpen: true }));
    // Pull request 2 was previewed; its "closed" delivery never arrived.
    await deliver(t.app.appUrl, "pull_request", pullRequestEvent("opened", repo, t.github.installationId, { number: 2, headSha: closedHead, baseSha: main }), WEBHOOK_SECRET);
    await t.app.idle();
    expect((await t.call("acme-lost-pr-2", "/api/v1/orders")).status).toBe(200);
    repo.pulls.get(2)!.state = "closed";
    // Pull request 1 was opened while the app was away.
    repo.pulls.set(1, { number: 1, state: "open", head: { sha: head, ref: "feature", fork: false }, base: { sha: main, ref: "main" } });

    await t.app.operations.sync(undefined, "test");
    await t.app.idle();

    expect(t.github.latestCheck(head, "Gitway / preview")!.conclusion).toBe("success");
    expect((await t.call("acme-lost-pr-1", "/api/v1/products")).status).toBe(200);
    expect(t.github.deploymentsOf(repo, "production").map((d) => d.ref)).toEqual([main]);
    expect((await t.call("acme-lost-pr-2", "/api/v1/orders")).status).toBe(404);

    // A second sweep finds nothing left to do: it writes nothing to GitHub.
    const writes = () => t.github.sent.filter((s) => s.method !== "GET" && !s.path.endsWith("/access_tokens")).length;
    const before = writes();
    await t.app.operations.sync(undefined, "test");
    await t.app.idle();
    expect(writes()).toBe(before);
    expect(t.github.unexpected).toEqual([]);
  });
});
