import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { afterEach, beforeEach, expect, it } from "vitest";
import { readAppSettings } from "../../src/app/settings.js";
import { startGitway, type Running } from "../../src/app/start.js";
import { startUpstream } from "../gateway/harness.js";
import { shopFiles } from "../github/shop-repo.js";
import { describeEachDriver } from "../store/drivers.js";
import { ROOT } from "./start.js";
import { ConfigRepo } from "../config-repo.js";

describeEachDriver("the Git mode", (driver) => {
  let root: string;
  let repo: ConfigRepo;
  let app: Running;
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let closeStore: (() => Promise<void>) | undefined;

  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), "gitway-git-"));
    repo = new ConfigRepo(root);
    upstream = await startUpstream();
  });

  afterEach(async () => {
    await app?.close();
    await upstream.close();
    await closeStore?.();
    rmSync(root, { recursive: true, force: true });
  });

  async function start(extra: Record<string, string> = {}) {
    let databaseUrl: string | undefined;
    if (driver.name === "PostgreSQL") {
      const store = await driver.open();
      databaseUrl = store.url;
      // The app opens its own pool; this handle only drops the database afterwards.
      closeStore = () => store.close();
    }
    const env: Record<string, string> = { GITWAY_REPOS: repo.dir, PORT: "0", GATEWAY_PORT: "0", GITWAY_UPSTREAM_ALLOW: "127.0.0.1", GITWAY_DATA_DIR: join(root, "data"), GITWAY_POLL_SECONDS: "3600", GITWAY_ADMIN_TOKEN: "test-admin-token-0123456789", LOG_LEVEL: "fatal", ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}), ...extra };
    app = await startGitway(readAppSettings(env), env, { log: () => {}, workerIdleMs: 10 });
    await settle();
  }

  /** One poll, and every job it queued done. */
  async function settle() {
    await app.reconciler!.tick();
    await app.idle();
  }

  const environments = async () => Object.fromEntries((await app.operations.environments()).map((e) => [e.name, e]));
  const get = async (env: string, path: string, headers: Record<string, string> = {}) => {
    const res = await request(`${app.gatewayUrl}${path}`, { headers: { host: `local-shop-${env}.localhost:8787`, ...headers } });
    return { status: res.statusCode, body: await res.body.text() };
  };

  it("gives every branch an environment, synced and served", async () => {
    const main = repo.commit("main", shopFiles({ upstream: upstream.url }));
    const feature = repo.commit("feature/products", shopFiles({ upstream: upstream.url, products: true }));
    await start();
    const envs = await environments();
    expect(Object.keys(envs).sort()).toEqual(["branch-feature-products", "production"]);
    expect(envs.production).toMatchObject({ kind: "production", status: "synced", commit: { sha: main, message: "change" }, desiredCommit: main, url: `http://local-shop-production.localhost:${new URL(app.gatewayUrl).port}/` });
    expect(envs["branch-feature-products"]).toMatchObject({ kind: "preview", status: "synced", branch: "feature/products", commit: { sha: feature } });
    expect(envs.production!.runningRelease).toBe(envs.production!.desiredRelease);
    expect((await get("production", "/api/v1/products")).status).toBe(404);
    expect((await get("branch-feature-products", "/api/v1/products")).status).toBe(200);
  });

  it("never lets a branch promote itself: one whose settings name it production is only a preview", async () => {
    const main = repo.commit("main", shopFiles({ upstream: upstream.url }));
    const evil = repo.commit("evil", shopFiles({ upstream: upstream.url, ordersOpen: true, settings: "production:\n  branch: evil\n" }));
    await start();
    const envs = await environments();
    expect(envs.production).toMatchObject({ kind: "production", commit: { sha: main } });
    expect(envs["branch-evil"]).toMatchObject({ kind: "preview", commit: { sha: evil } });
    expect((await get("production", "/api/v1/orders")).status).toBe(401);
  });

  it("never moves production back when its branch is force-pushed to an older commit", async () => {
    const older = repo.commit("main", shopFiles({ upstream: upstream.url }));
    await start();
    const newer = repo.commit("main", shopFiles({ upstream: upstream.url, products: true }));
    await settle();
    expect((await environments()).production).toMatchObject({ commit: { sha: newer } });
    repo.git("reset", "--quiet", "--hard", older);
    await settle();
    const production = (await environments()).production!;
    expect(production).toMatchObject({ commit: { sha: newer }, desiredCommit: older, status: "out-of-sync" });
    expect((await get("production", "/api/v1/products")).status).toBe(200);
    const deploy = (await app.operations.checks("production")).find((c) => c.name === "deploy" && c.commit === older);
    expect(deploy?.summary).toMatch(/older than the commit it runs/);
  });

  it("deploys a new commit at the next poll, without a restart", async () => {
    repo.commit("main", shopFiles({ upstream: upstream.url }));
    await start();
    expect((await get("production", "/api/v1/products")).status).toBe(404);
    const next = repo.commit("main", shopFiles({ upstream: upstream.url, products: true }));
    await settle();
    expect((await get("production", "/api/v1/products")).status).toBe(200);
    expect((await environments()).production).toMatchObject({ status: "synced", commit: { sha: next } });
  });

  it("gives a new branch an environment and takes a deleted branch's away", async () => {
    repo.commit("main", shopFiles({ upstream: upstream.url }));
    await start();
    repo.commit("experiment", shopFiles({ upstream: upstream.url, products: true }));
    await settle();
    expect((await get("branch-experiment", "/api/v1/products")).status).toBe(200);
    repo.git("branch", "--quiet", "-D", "experiment");
    await settle();
    expect(Object.keys(await environments())).toEqual(["production"]);
    expect((await get("branch-experiment", "/api/v1/products")).status).toBe(404);
  });

  it("reports a deploy outside Git as out-of-sync, then corrects it at the next poll", async () => {
    const main = repo.commit("main", shopFiles({ upstream: upstream.url }));
    await start();
    await app.operations.deployFiles("production", shopFiles({ upstream: upstream.url, products: true }), "operator-olga");
    expect((await get("production", "/api/v1/products")).status).toBe(200);
    expect((await environments()).production).toMatchObject({ status: "out-of-sync", reason: "serves a config deployed outside Git by an operator" });
    await settle();
    expect((await get("production", "/api/v1/products")).status).toBe(404);
    expect((await environments()).production).toMatchObject({ status: "synced", commit: { sha: main } });
  });

  it("leaves drift in place, reported, when the environment reports only", async () => {
    repo.commit("main", shopFiles({ upstream: upstream.url }));
    await start();
    await app.operations.setReportOnly("production", true, "operator-olga");
    await app.operations.deployFiles("production", shopFiles({ upstream: upstream.url, products: true }), "operator-olga");
    await settle();
    expect((await get("production", "/api/v1/products")).status).toBe(200);
    expect((await environments()).production!.status).toBe("out-of-sync");
  });

  it("keeps a pinned rollback through the next commit, until it is unpinned", async () => {
    const first = repo.commit("main", shopFiles({ upstream: upstream.url }));
    await start();
    repo.commit("main", shopFiles({ upstream: upstream.url, products: true }));
    await settle();
    expect((await get("production", "/api/v1/products")).status).toBe(200);

    const pinned = await app.operations.rollback("production", first.slice(0, 8), "operator-olga");
    expect(pinned.commit).toBe(first);
    expect((await get("production", "/api/v1/products")).status).toBe(404);
    const third = repo.commit("main", shopFiles({ upstream: upstream.url, products: true, ordersOpen: true }));
    await settle();
    expect((await get("production", "/api/v1/products")).status).toBe(404);
    expect((await environments()).production).toMatchObject({ status: "out-of-sync", pinned: true, desiredCommit: first });

    await app.operations.unpin("production", "operator-olga");
    await app.idle();
    expect((await get("production", "/api/v1/orders")).status).toBe(200);
    expect((await environments()).production).toMatchObject({ status: "synced", pinned: false, commit: { sha: third } });
    const audit = await app.operations.audit({ actor: "operator-olga" }, { limit: 10, offset: 0 });
    expect(audit.entries.map((e) => e.action)).toEqual(["environment.unpinned", "environment.pinned", "deployment.succeeded"]);
  });

  it("keeps serving the last good release when a new commit is invalid, and says why", async () => {
    repo.commit("main", shopFiles({ upstream: upstream.url }));
    await start();
    repo.commit("main", { "config/policies.json": "{ broken" });
    await settle();
    expect((await get("production", "/api/v1/orders")).status).toBe(401);
    const checks = await app.operations.checks("production");
    expect(checks.find((c) => c.name === "validate")).toMatchObject({ conclusion: "failure" });
    expect((await environments()).production).toMatchObject({ status: "failed", lastError: expect.stringContaining("config/policies.json:1:") });
  });

  it.skipIf(driver.name !== "PGlite")("serves the admin API and the CLI: reading is open, changes need the token, keys work at once (once, on PGlite: the API does not depend on the database)", async () => {
    repo.commit("main", shopFiles({ upstream: upstream.url }));
    await start();
    const listed = (await (await fetch(`${app.appUrl}/api/environments`)).json()) as { environments: { name: string; status: string; runningRelease: string; desiredRelease: string; pinned: boolean }[] };
    expect(listed.environments).toEqual([expect.objectContaining({ name: "production", status: "synced", pinned: false })]);
    expect((await fetch(`${app.appUrl}/api/environments/production/keys`, { method: "POST", body: "{}" })).status).toBe(401);
    expect((await fetch(`${app.appUrl}/api/environments/nope`)).status).toBe(404);

    // Run as a separate process, as an operator would; asynchronously, since this process serves the API.
    const cli = (args: string[], token = "test-admin-token-0123456789") =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(process.execPath, ["dist/cli.js", ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? "", GITWAY_URL: app.appUrl, GITWAY_ADMIN_TOKEN: token }, timeout: 30_000 }, (error, stdout, stderr) =>
          resolve({ status: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
        );
      });
    const created = await cli(["keys", "create", "--env", "production", "--consumer", "carol", "--format", "json"]);
    expect(created.status).toBe(0);
    const { key } = JSON.parse(created.stdout) as { key: string };
    expect((await get("production", "/api/v1/orders", { authorization: `Bearer ${key}` })).status).toBe(200);
    expect(upstream.seen.at(-1)!.headers["x-consumer-name"]).toBe("carol");
    expect((await cli(["keys", "list", "--env", "production"])).stdout).toContain("carol");
    expect((await cli(["keys", "list", "--env", "production"])).stdout).not.toContain(key);
    expect((await cli(["keys", "revoke", "--env", "production", "--consumer", "carol"])).status).toBe(0);
    expect((await get("production", "/api/v1/orders", { authorization: `Bearer ${key}` })).status).toBe(401);

    const status = await cli(["status", "--format", "json"]);
    expect(JSON.parse(status.stdout).environments[0]).toMatchObject({ name: "production", status: "synced" });
    const wrong = await cli(["sync", "production"], "wrong-token-wrong-token");
    expect([wrong.status, wrong.stderr.slice(0, 35)]).toEqual([2, "gitway: the admin token is wrong: t"]);
    const unknown = await cli(["unpin", "staging"]);
    expect([unknown.status, unknown.stderr]).toEqual([2, "gitway: no environment staging\n"]);
    const set = await cli(["env", "set", "production", "UPSTREAM_TOKEN=abc123", "--secret"]);
    expect(set.status).toBe(2);
    expect(set.stderr).toContain("GITWAY_SECRET_KEY is not set");
  }, 120_000);
});
