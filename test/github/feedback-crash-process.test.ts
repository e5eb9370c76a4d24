import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startUpstream } from "../gateway/harness.js";
import { startAppProcess, type AppProcess } from "./app-process.js";
import { FakeGitHub } from "./fake-github.js";
import { shopFiles } from "./shop-repo.js";
import { pullRequestEvent } from "./webhooks.js";

let upstream: Awaited<ReturnType<typeof startUpstream>>;
const running: AppProcess[] = [];
let dataDir: string;

beforeAll(async () => {
  upstream = await startUpstream();
  dataDir = mkdtempSync(join(tmpdir(), "gitway-crash-"));
});

afterAll(async () => {
  for (const app of running) await app.stop();
  await upstream?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const CHECKS = ["Gitway / changes", "Gitway / preview", "Gitway / validate"];

describe("the GitHub writes of a preview, when dist/main.js is killed before sending them", () => {
  it("are sent once by the next start's sweep: the pull request gets its checks, its comment and its deployment", async () => {
    const github = new FakeGitHub("http://github.test", "/api/v3");
    const repo = github.repo("acme", "crashing");
    const base = github.commit(repo, shopFiles({ upstream: upstream.url }), "main");
    const head = github.commit(repo, shopFiles({ upstream: upstream.url, products: true }));
    // The same store across both starts; the sweep runs at start-up, then every 2 s in the second
    // (which runs the head again once 30 s have passed since its job ended: see UNPUBLISHED_GRACE_MS).
    const env = { GITWAY_DATA_DIR: dataDir, GITWAY_SECRET_KEY: randomBytes(32).toString("base64"), GITWAY_RECONCILE_SECONDS: "300" };

    const first = await startAppProcess({ github, env });
    running.push(first);
    await first.waitFor("production deployed by the start-up sweep", () => github.deploymentsOf(repo, "production").at(-1)?.statuses.at(-1)?.state === "success", 60_000);
    // GitHub holds the first check run write: the others wait behind it, in the process's memory.
    const release = github.hold("POST", /^\/repos\/acme\/crashing\/check-runs$/);
    expect((await first.deliver("pull_request", pullRequestEvent("opened", repo, github.installationId, { number: 9, headSha: head, baseSha: base }))).status).toBe(200);
    await first.waitFor("the preview serving", async () => (await first.call("acme-crashing-pr-9", "/api/v1/products")).status === 200, 60_000);
    await first.waitFor("a check run write on its way", () => github.sent.some((s) => s.method === "POST" && s.path.endsWith("/check-runs") && (s.body as { head_sha?: string }).head_sha === head));
    const exited = new Promise((r) => first.process.child.once("exit", r));
    first.process.child.kill("SIGKILL");
    await exited;
    expect(github.checkRunsFor(head)).toEqual([]);
    expect(github.commentsOf(repo, 9)).toEqual([]);

    const second = await startAppProcess({ github, env: { ...env, GITWAY_RECONCILE_SECONDS: "2" } });
    running.push(second);
    // Released once the killed process's connection is surely closed: its held write never arrives.
    release();
    await second.waitFor("the preview check completed", () => github.latestCheck(head, "Gitway / preview")?.status === "completed", 90_000);
    await second.waitFor("the deployment recorded", () => github.deploymentsOf(repo, "pr-9").at(-1)?.statuses.at(-1)?.state === "success", 30_000);
    // Later sweeps find the answer recorded: nothing is posted again.
    await new Promise((r) => setTimeout(r, 5_000));
    // Each check once (the smoke check too, when the preview is smoke-tested), every one a success.
    const runs = github.checkRunsFor(head).map((r) => `${r.name}: ${r.conclusion}`);
    expect(new Set(runs).size).toBe(runs.length);
    expect(runs).toEqual(expect.arrayContaining(CHECKS.map((name) => `${name}: success`)));
    expect(runs.every((r) => r.endsWith(": success"))).toBe(true);
    for (const name of CHECKS) expect(github.latestCheck(head, name)).toMatchObject({ status: "completed", conclusion: "success" });
    expect(github.commentsOf(repo, 9)).toHaveLength(1);
    expect(github.deploymentsOf(repo, "pr-9")).toHaveLength(1);
    expect((await second.call("acme-crashing-pr-9", "/api/v1/products")).status).toBe(200);
    expect(github.unexpected).toEqual([]);
  }, 180_000);
});
