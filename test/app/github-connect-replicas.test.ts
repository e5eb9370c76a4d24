import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readAppSettings } from "../../src/app/settings.js";
import { startGitway, type Running } from "../../src/app/start.js";
import { rowsOf } from "../../src/store/index.js";
import { deliver, example } from "../github/webhooks.js";
import { freshPostgresDatabase, POSTGRES_SKIPPED } from "../store/drivers.js";
import { forward, policiesFile, route, routesFile } from "../config/fixtures/seed.js";
import { githubApi } from "./manifest-github.js";
import { startProcess } from "./start.js";

const ADMIN_TOKEN = "replica-admin-token-0123456789";
const SECRET_KEY = randomBytes(32).toString("base64");
const WEBHOOK_SECRET = "webhook-secret-value-456";

const unescape = (text: string) => text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
const installed = (payload: Record<string, unknown>) => ({ ...payload, installation: { id: 31, node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMzE=" } });

/** Polls until `check` holds (bounded: 10 s), returning how long it took. */
async function within(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<number> {
  const began = Date.now();
  while (!(await check())) {
    if (Date.now() - began > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return Date.now() - began;
}

describe.skipIf(POSTGRES_SKIPPED !== undefined)(`two app processes on one PostgreSQL and the app connected from the page${POSTGRES_SKIPPED ? ` (skipped: ${POSTGRES_SKIPPED})` : ""}`, () => {
  let github: Awaited<ReturnType<typeof githubApi>>;
  let database: Awaited<ReturnType<typeof freshPostgresDatabase>>;
  const running: Running[] = [];

  beforeEach(async () => {
    github = await githubApi();
    database = await freshPostgresDatabase();
  });

  afterEach(async () => {
    for (const r of running.splice(0)) await r.close();
    await github.close();
    await database.drop();
  });

  async function start(githubRecheckMs = 3_600_000, secretKey = SECRET_KEY, log: (level: string, message: string) => void = () => {}): Promise<Running> {
    const env: Record<string, string> = { PORT: "0", GATEWAY_PORT: "0", DATABASE_URL: database.url, GITWAY_DATA_DIR: "memory://", GITWAY_ADMIN_TOKEN: ADMIN_TOKEN, GITWAY_SECRET_KEY: secretKey, GITWAY_POLL_SECONDS: "3600", LOG_LEVEL: "fatal" };
    const r = await startGitway(readAppSettings(env), env, { log, runWorker: false, githubRecheckMs });
    running.push(r);
    return r;
  }

  /** The maintainer's round trip through the Connect GitHub page of one process. */
  async function connectThrough(r: Pick<Running, "appUrl">): Promise<void> {
    const form = new URLSearchParams({ token: ADMIN_TOKEN, public_url: "https://gitway.example.com", name: "Gitway test", organization: "", enterprise: github.url });
    const page = await (await fetch(`${r.appUrl}/github/connect`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: form.toString() })).text();
    const state = new URL(unescape(/<form id="manifest" method="post" action="([^"]+)"/.exec(page)![1]!)).searchParams.get("state")!;
    const callback = await fetch(`${r.appUrl}/github/callback?code=code-from-github&state=${state}`, { redirect: "manual" });
    expect(callback.status).toBe(303);
  }

  const answersWebhooks = async (r: Pick<Running, "appUrl">) => (await deliver(r.appUrl, "pull_request", installed(example("pull_request", "opened")), WEBHOOK_SECRET)).status === 200;
  const statusOf = async (r: Pick<Running, "appUrl">) => ((await (await fetch(`${r.appUrl}/api/github`)).json()) as { from: string; appId?: number }).from;
  const sweeps = async (r: Running) => rowsOf<{ n: number }>(await r.store.db.execute(sql`SELECT count(*)::int AS n FROM jobs WHERE environment_key = 'gh:sweep'`))[0]!.n;

  it("the other process runs as the app connected through the first one, without a restart, and stops when it is disconnected", async () => {
    const a = await start();
    const b = await start();
    expect(await answersWebhooks(b)).toBe(false);

    await connectThrough(a);
    expect(await answersWebhooks(a)).toBe(true);
    // Told by the store's notification (the re-check is an hour away here).
    await within(() => answersWebhooks(b));
    expect(await (await fetch(`${b.appUrl}/api/github`)).json()).toMatchObject({ from: "store", appId: 4242, slug: "gitway-test" });
    expect(await (await fetch(`${b.appUrl}/readyz`)).json()).toEqual({ ok: true, store: "ok", github: "ok" });

    const gone = await fetch(`${a.appUrl}/api/github/disconnect`, { method: "POST", headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(gone.status).toBe(200);
    expect(await answersWebhooks(a)).toBe(false);
    await within(async () => !(await answersWebhooks(b)));
    expect(await statusOf(b)).toBe("none");
    expect(await (await fetch(`${b.appUrl}/readyz`)).json()).toEqual({ ok: true, store: "ok" });
  });

  it("two processes started as npm start runs them: connected through one, the other answers the app's webhooks; disconnected, neither does", async () => {
    const root = mkdtempSync(join(tmpdir(), "gitway-replicas-"));
    const repo = join(root, "shop");
    mkdirSync(join(repo, "config"), { recursive: true });
    writeFileSync(join(repo, "config/routes.oas.json"), routesFile([{ path: "/api/v1/orders", operationId: "listOrders", route: route([], forward("http://127.0.0.1:9")) }]));
    writeFileSync(join(repo, "config/policies.json"), policiesFile([]));
    const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=T", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false", ...args], { cwd: repo });
    git("init", "--quiet", "--initial-branch=main");
    git("add", "-A");
    git("commit", "--quiet", "-m", "orders");
    const env = (name: string) => ({ DATABASE_URL: database.url, PORT: "0", GATEWAY_PORT: "0", GITWAY_REPOS: repo, GITWAY_POLL_SECONDS: "3600", GITWAY_DATA_DIR: join(root, name), GITWAY_ADMIN_TOKEN: ADMIN_TOKEN, GITWAY_SECRET_KEY: SECRET_KEY });
    const a = await startProcess(["dist/main.js"], env("a"));
    const b = await startProcess(["dist/main.js"], env("b")).catch(async (e: unknown) => (await a.stop(), Promise.reject(e)));
    try {
      expect(await answersWebhooks(b)).toBe(false);
      await connectThrough(a);
      await within(() => answersWebhooks(b));
      expect(b.output()).toContain("running as GitHub App 4242 (gitway-test)");
      expect((await fetch(`${a.appUrl}/api/github/disconnect`, { method: "POST", headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(200);
      await within(async () => !(await answersWebhooks(b)));
      expect(await answersWebhooks(a)).toBe(false);
    } finally {
      expect(await b.stop()).toBe(0);
      expect(await a.stop()).toBe(0);
      rmSync(root, { recursive: true, force: true });
    }
  }, 120_000);

  it("a process that missed the notification picks the app up at its next re-check", async () => {
    const a = await start();
    const b = await start(300);
    // The row changes without its trigger: no notification is sent.
    await a.store.db.execute(sql`ALTER TABLE github_app DISABLE TRIGGER github_app_changed`);
    await connectThrough(a);
    await within(() => answersWebhooks(b));
    await fetch(`${a.appUrl}/api/github/disconnect`, { method: "POST", headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    await within(async () => (await statusOf(b)) === "none");
  });

  it("a process whose notification connection was cut re-reads the app once it listens again", async () => {
    const a = await start();
    const b = await start();
    // The app is connected without a notification (the re-check is an hour away): b does not know.
    await a.store.db.execute(sql`ALTER TABLE github_app DISABLE TRIGGER github_app_changed`);
    await connectThrough(a);
    await new Promise((r) => setTimeout(r, 500));
    expect(await answersWebhooks(b)).toBe(false);
    // Every listener of the app processes loses its connection: b listens again and re-reads the row.
    await a.store.db.execute(sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'gitway-app-listener' AND datname = current_database()`);
    await within(() => answersWebhooks(b));
  });

  it("a process with another GITWAY_SECRET_KEY says once that it cannot read the app, and is not ready rather than answering its webhooks 404", async () => {
    const a = await start();
    const said: string[] = [];
    const b = await start(200, randomBytes(32).toString("base64"), (level, message) => level === "error" && said.push(message));
    await connectThrough(a);
    // Told by the notification, then re-checked every 200 ms: one line, however many reads.
    await within(async () => said.length > 0);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(said).toEqual([expect.stringMatching(/^the connected GitHub App cannot be read: /)]);
    expect(said[0]).not.toMatch(/PRIVATE KEY|webhook-secret-value/);
    expect(await answersWebhooks(b)).toBe(false);
    // Not ready: GitHub's deliveries must go to a replica that can answer them.
    const ready = await fetch(`${b.appUrl}/readyz`);
    expect([ready.status, await ready.json(), await statusOf(b)]).toEqual([503, { ok: false, store: "ok", github: "credentials not loaded" }, "none"]);
  });

  it("gitway sync and commit links use the app connected from the page, in every process", async () => {
    const a = await start();
    const b = await start();
    const repositoryId = await b.records.repository("octo-org", "shop");
    const production = await b.records.environment(repositoryId, { name: "production", kind: "production" });
    await b.store.db.execute(sql`UPDATE environments SET deployed_commit_sha = ${"a".repeat(40)} WHERE id = ${production.id}`);

    // No app: nothing to sweep, no link to a commit on GitHub.
    await b.operations.sync(undefined, "max");
    expect(await sweeps(b)).toBe(0);
    expect((await b.operations.environment(production.label)).commit?.url).toBeNull();

    await connectThrough(a);
    await within(async () => (await statusOf(b)) === "store");
    await b.operations.sync(undefined, "max");
    expect(await sweeps(b)).toBe(1);
    expect((await b.operations.environment(production.label)).commit?.url).toBe(`${github.url}/octo-org/shop/commit/${"a".repeat(40)}`);
  });
});
