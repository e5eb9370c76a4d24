import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { openStore, rowsOf } from "../../src/store/index.js";
import { startUpstream } from "../gateway/harness.js";
import { freshPostgresDatabase, POSTGRES_SKIPPED } from "../store/drivers.js";
import { startAppProcess, type AppProcess } from "./app-process.js";
import { FakeGitHub, type FakeRepo } from "./fake-github.js";
import { shopFiles } from "./shop-repo.js";
import { pullRequestEvent } from "./webhooks.js";

let upstream: Awaited<ReturnType<typeof startUpstream>>;
const apps: AppProcess[] = [];
const releases: (() => void)[] = [];

beforeAll(async () => {
  upstream = await startUpstream();
});
afterEach(async () => {
  for (const release of releases.splice(0)) release();
  for (const app of apps.splice(0)) await app.stop();
});
afterAll(async () => {
  await upstream?.close();
});

async function start(options: Parameters<typeof startAppProcess>[0] = {}): Promise<AppProcess> {
  const app = await startAppProcess(options);
  apps.push(app);
  return app;
}

/** A repository with a pull request whose head adds /api/v1/products; returns its head. */
function pullRequest(github: FakeGitHub, repoName: string, number: number): { repo: FakeRepo; head: string; base: string } {
  const repo = github.repo("acme", repoName);
  const base = github.commit(repo, shopFiles({ upstream: upstream.url }), "main");
  const head = github.commit(repo, shopFiles({ upstream: upstream.url, products: true }));
  repo.pulls.set(number, { number, state: "open", head: { sha: head, ref: `feature-${number}`, fork: false }, base: { sha: base, ref: "main" } });
  return { repo, head, base };
}

async function open(app: AppProcess, pr: { repo: FakeRepo; head: string; base: string }, number: number): Promise<void> {
  const res = await app.deliver("pull_request", pullRequestEvent("opened", pr.repo, app.github.installationId, { number, headSha: pr.head, baseSha: pr.base }));
  expect(res.status).toBe(200);
}

const exited = (app: AppProcess) => new Promise<number | null>((resolve) => (app.process.child.exitCode !== null ? resolve(app.process.child.exitCode) : app.process.child.once("exit", (code) => resolve(code))));

describe("the queue as dist/main.js runs it, GitHub faked over HTTP", () => {
  it("previews one repository within seconds while another's reads never answer, and gives the stuck one failing checks saying why once its attempts are spent", async () => {
    // Checks are created with their result, so the stuck job shows none until its last attempt (5, with backoff).
    const app = await start({ env: { GITWAY_JOB_TIMEOUT_SECONDS: "8" } });
    releases.push(app.github.hold("GET", /\/repos\/acme\/stuck\/git\/trees\//));
    const stuck = pullRequest(app.github, "stuck", 7);
    const shop = pullRequest(app.github, "shop", 3);
    await open(app, stuck, 7);
    await app.waitFor("the stuck job to read its tree", () => app.github.sent.some((r) => r.method === "GET" && r.path.startsWith("/repos/acme/stuck/git/trees/")), 20_000);

    const delivered = Date.now();
    await open(app, shop, 3);
    await app.waitFor("the other repository's preview to serve", async () => (await app.call("acme-shop-pr-3", "/api/v1/products")).status === 200, 15_000);
    const servedMs = Date.now() - delivered;
    expect(servedMs).toBeLessThan(15_000);

    const validate = await app.waitFor("the stuck checks to end", () => {
      const run = app.github.latestCheck(stuck.head, "Gitway / validate");
      return run?.status === "completed" && run;
    }, 120_000);
    expect(validate.conclusion).toBe("failure");
    expect(validate.output.summary).toContain("the job did not finish within its deadline of 8 s");
    const preview = await app.waitFor("the other repository's checks to complete", () => app.github.latestCheck(shop.head, "Gitway / preview")?.status === "completed" && app.github.latestCheck(shop.head, "Gitway / preview"), 30_000);
    expect(preview.conclusion).toBe("success");
  }, 240_000);

  it("on SIGTERM stops taking jobs, hands the lease of a job that cannot finish back within 10 s, and exits 0", async () => {
    const app = await start();
    releases.push(app.github.hold("GET", /\/repos\/acme\/stuck\/git\/trees\//));
    const stuck = pullRequest(app.github, "stuck", 7);
    await open(app, stuck, 7);
    await app.waitFor("the stuck job to read its tree", () => app.github.sent.some((r) => r.method === "GET" && r.path.startsWith("/repos/acme/stuck/git/trees/")), 20_000);

    const signalled = Date.now();
    app.process.child.kill("SIGTERM");
    expect(await exited(app)).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(10_000);

    const store = await openStore({ dataDir: app.env.GITWAY_DATA_DIR! });
    try {
      const jobs = rowsOf<{ status: string; lease_owner: string | null; attempts: number }>(await store.db.execute(sql`SELECT status, lease_owner, attempts FROM jobs WHERE kind <> 'sweep' ORDER BY id`));
      expect(jobs).toEqual([{ status: "queued", lease_owner: null, attempts: 1 }]);
    } finally {
      await store.close();
    }
  }, 120_000);

  it("exits at once on a second signal", async () => {
    const app = await start();
    releases.push(app.github.hold("GET", /\/repos\/acme\/stuck\/git\/trees\//));
    const stuck = pullRequest(app.github, "stuck", 7);
    await open(app, stuck, 7);
    await app.waitFor("the stuck job to read its tree", () => app.github.sent.some((r) => r.method === "GET" && r.path.startsWith("/repos/acme/stuck/git/trees/")), 20_000);

    const signalled = Date.now();
    app.process.child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 300));
    app.process.child.kill("SIGINT");
    expect(await exited(app)).toBe(130);
    expect(Date.now() - signalled).toBeLessThan(3_000);
  }, 120_000);
});

describe.skipIf(POSTGRES_SKIPPED !== undefined)(`two app processes on one PostgreSQL${POSTGRES_SKIPPED ? ` (skipped: ${POSTGRES_SKIPPED})` : ""}`, () => {
  it("share the queue: every pull request is previewed, and no job runs twice", async () => {
    const db = await freshPostgresDatabase();
    try {
      const github = new FakeGitHub("http://github.test", "/api/v3");
      const env = { DATABASE_URL: db.url, GITWAY_WORKER_CONCURRENCY: "2" };
      const first = await start({ github, env });
      const second = await start({ github, env });
      const prs = Array.from({ length: 6 }, (_, i) => ({ n: i + 1, ...pullRequest(github, `repo${i + 1}`, i + 1) }));
      // Webhooks arrive at either process; each job may be taken by either.
      for (const pr of prs) await open(pr.n % 2 ? first : second, pr, pr.n);
      for (const pr of prs) {
        await first.waitFor(`repo${pr.n}'s preview check`, () => github.latestCheck(pr.head, "Gitway / preview")?.status === "completed", 90_000);
      }
      for (const pr of prs) {
        expect(github.checkRunsFor(pr.head, "Gitway / validate")).toHaveLength(1);
        expect(github.checkRunsFor(pr.head, "Gitway / preview")).toHaveLength(1);
        expect(github.latestCheck(pr.head, "Gitway / preview")?.conclusion).toBe("success");
      }
      const store = await openStore({ databaseUrl: db.url, poolSize: 1 });
      try {
        // The comment and deployment statuses follow the checks: wait for every job to end.
        const jobs = () => store.db.execute(sql`SELECT status, attempts FROM jobs WHERE kind <> 'sweep'`).then((r) => rowsOf<{ status: string; attempts: number }>(r));
        await first.waitFor("every job to end", async () => (await jobs()).every((j) => j.status !== "running" && j.status !== "queued"), 60_000);
        expect(await jobs()).toEqual(Array(6).fill({ status: "done", attempts: 1 }));
      } finally {
        await store.close();
      }
    } finally {
      for (const app of apps.splice(0)) await app.stop();
      await db.drop();
    }
  }, 240_000);
});
