import { lookup } from "node:dns/promises";
import { hostname } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startUpstream } from "../gateway/harness.js";
import { startAppProcess, type AppProcess } from "./app-process.js";
import { shopFiles } from "./shop-repo.js";
import { pullRequestEvent } from "./webhooks.js";

let app: AppProcess;
/** What production forwards to and the operator allows. */
let allowed: Awaited<ReturnType<typeof startUpstream>>;
/** Something on the operator's loopback that no preview may reach. */
let victim: Awaited<ReturnType<typeof startUpstream>>;
/** This machine's own name, when it resolves to loopback (as /etc/hosts usually says); `localhost` otherwise. */
let loopbackName: string;

beforeAll(async () => {
  allowed = await startUpstream();
  victim = await startUpstream();
  const own = hostname();
  loopbackName = (await lookup(own).catch(() => undefined))?.address.startsWith("127.") ? own : "localhost";
  app = await startAppProcess({ env: { GITWAY_UPSTREAM_ALLOW: `127.0.0.1:${new URL(allowed.url).port}` } });
}, 60_000);

afterAll(async () => {
  expect(await app?.stop()).toBe(0);
  await allowed?.close();
  await victim?.close();
});

describe("a fork's pull request preview, through dist/main.js", () => {
  it("never relays to loopback, the app's port, the metadata address or a name resolving to loopback, and relays to an allowed host", async () => {
    const repo = app.github.repo("acme", "shop");
    // The trusted side (main) previews forks without a maintainer's click, so every fork below is deployed.
    const base = app.github.commit(repo, shopFiles({ upstream: allowed.url, settings: "previews:\n  forks: auto\n" }), "main");
    const victimPort = new URL(victim.url).port;
    const targets: Record<number, string> = {
      11: victim.url,
      12: `http://127.0.0.1:${new URL(app.appUrl).port}`,
      13: "http://169.254.169.254",
      14: `http://${loopbackName}:${victimPort}`,
      15: allowed.url,
    };
    const heads: Record<number, string> = {};
    for (const [n, upstream] of Object.entries(targets)) {
      const number = Number(n);
      heads[number] = app.github.commit(repo, shopFiles({ upstream, products: true, settings: "previews:\n  forks: auto\n" }));
      repo.pulls.set(number, { number, state: "open", head: { sha: heads[number], ref: `fork-${n}`, fork: true }, base: { sha: base, ref: "main" } });
      expect((await app.deliver("pull_request", pullRequestEvent("opened", repo, app.github.installationId, { number, headSha: heads[number], baseSha: base, fork: true }))).status).toBe(200);
    }
    const previews: Record<number, NonNullable<ReturnType<typeof app.github.latestCheck>>> = {};
    for (const n of Object.keys(targets).map(Number)) {
      previews[n] = await app.waitFor(`the preview check of #${n}`, () => app.github.latestCheck(heads[n]!, "Gitway / preview")?.status === "completed" && app.github.latestCheck(heads[n]!, "Gitway / preview"), 60_000);
    }

    for (const n of [11, 12, 13]) {
      expect(previews[n]!.conclusion, `#${n}`).toBe("failure");
      expect(previews[n]!.output.summary, `#${n}`).toContain("upstream-not-allowed");
      expect(previews[n]!.output.summary, `#${n}`).toContain("GITWAY_UPSTREAM_ALLOW");
      expect((await app.call(`acme-shop-pr-${n}`, "/api/v1/products")).status, `#${n}`).toBe(404);
      // Known when the release is built: a validate error at the URL's line, naming the setting.
      const validate = app.github.latestCheck(heads[n]!, "Gitway / validate")!;
      expect(validate.conclusion, `#${n}`).toBe("failure");
      expect(JSON.stringify(validate.output), `#${n}`).toMatch(/config\/routes\.oas\.json:\d+:\d+: error upstream-not-allowed: GET \/api\/v1\/\w+ .*GITWAY\W*_UPSTREAM\W*_ALLOW/);
    }
    // A name is judged when it connects: the preview is served, and the call is refused.
    if (loopbackName === "localhost") expect(previews[14]!.output.summary).toContain("upstream-not-allowed");
    else {
      expect(previews[14]!.conclusion).toBe("success");
      const refused = await app.call("acme-shop-pr-14", "/api/v1/products");
      expect(refused.status).toBe(502);
      expect(JSON.parse(refused.body)).toMatchObject({ type: "https://gitway.dev/problems/upstream-not-allowed", trace: { requestId: expect.any(String) } });
    }
    expect(previews[12]!.output.summary).toContain("Gitway's own ports");
    expect(previews[13]!.output.summary).toContain("metadata");

    expect(previews[15]!.conclusion).toBe("success");
    expect((await app.call("acme-shop-pr-15", "/api/v1/products")).status).toBe(200);
    // Each served preview's smoke test calls it too (as user agent gitway-smoke); the test's own call is the other one.
    expect(allowed.seen.filter((s) => s.headers["user-agent"] !== "gitway-smoke").map((s) => s.url)).toEqual(["/api/v1/products"]);
    expect(allowed.seen.filter((s) => s.headers["user-agent"] === "gitway-smoke").map((s) => s.url).sort()).toEqual(["/api/v1/orders", "/api/v1/products"]);
    // The smoke tests went through the same fence: the victim saw nothing, from them either.
    expect(victim.seen).toHaveLength(0);
  }, 120_000);
});
