import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { afterEach, beforeEach, expect, it } from "vitest";
import type { DeploymentView, EnvironmentView, KeyView } from "../../src/admin/types.js";
import { readAppSettings } from "../../src/app/settings.js";
import { startGitway, type Running } from "../../src/app/start.js";
import { startUpstream } from "../gateway/harness.js";
import { shopFiles } from "../github/shop-repo.js";
import { describeEachDriver } from "../store/drivers.js";
import { ROOT } from "./start.js";
import { ConfigRepo } from "../config-repo.js";

/**
 * What the operator sees tells what is true (issue 19): the Git mode started as the app does,
 * read through the admin API, the dashboard's HTML and the `gitway` CLI run as its own process.
 */

const TOKEN = "test-admin-token-0123456789";
const INHERIT = "previews:\n  inherit: production\n";

describeEachDriver("the operator's view", (driver) => {
  let root: string;
  let repo: ConfigRepo;
  let app: Running;
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let closeStore: (() => Promise<void>) | undefined;

  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), "gitway-view-"));
    repo = new ConfigRepo(root);
    upstream = await startUpstream();
  });

  afterEach(async () => {
    await app?.close();
    await upstream.close();
    await closeStore?.();
    rmSync(root, { recursive: true, force: true });
  });

  async function start() {
    let databaseUrl: string | undefined;
    if (driver.name === "PostgreSQL") {
      const store = await driver.open();
      databaseUrl = store.url;
      closeStore = () => store.close();
    }
    const env: Record<string, string> = { GITWAY_REPOS: repo.dir, PORT: "0", GATEWAY_PORT: "0", GITWAY_UPSTREAM_ALLOW: "127.0.0.1", GITWAY_DATA_DIR: join(root, "data"), GITWAY_POLL_SECONDS: "3600", GITWAY_ADMIN_TOKEN: TOKEN, LOG_LEVEL: "fatal", ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) };
    app = await startGitway(readAppSettings(env), env, { log: () => {}, workerIdleMs: 10 });
    await poll();
  }

  /** One poll, and every job it queued done. */
  async function poll() {
    await app.reconciler!.tick();
    await app.idle();
  }

  /** `gitway` as an operator runs it, against this app (asynchronously: this process serves the API). */
  const cli = (args: string[], token = TOKEN) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, ["dist/cli.js", ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? "", GITWAY_URL: app.appUrl, GITWAY_ADMIN_TOKEN: token }, timeout: 30_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
      );
    });
  const api = async <T>(path: string): Promise<T> => (await (await fetch(`${app.appUrl}${path}`)).json()) as T;
  const environment = async (name: string) => (await api<{ environment: EnvironmentView }>(`/api/environments/${name}`)).environment;
  const dashboard = async (path: string) => (await fetch(`${app.appUrl}${path}`)).text();
  /** A GET to the gateway at a URL Gitway printed, with the Host the URL names. */
  const open = async (url: string, headers: Record<string, string> = {}) => {
    const u = new URL(url);
    const res = await request(`${app.gatewayUrl}${u.pathname}`, { headers: { host: u.host, ...headers } });
    await res.body.dump();
    return res.statusCode;
  };

  it("makes an environment whose newest commit cannot be read failed at once, with its first error, while the last good release keeps serving; status exits 1", async () => {
    repo.commit("main", shopFiles({ upstream: upstream.url }));
    await start();
    const good = await environment("production");
    repo.commit("main", { "config/routes.oas.json": '{\n  "openapi": "3.1.0",\n  "paths": {\n    "/api/v1/orders": {\n      "get": {\n        "operationId": "listOrders",\n        "x-zuplo-route": {\n          oops\n' });
    await poll();

    const failed = await environment("production");
    expect(failed.status).toBe("failed");
    expect(failed.lastError).toMatch(/^the config at this commit has errors; first: config\/routes\.oas\.json:8:\d+: error json-syntax/);
    expect(failed.reason).toContain(`the last good release (${good.runningRelease}) keeps serving`);
    expect(failed.runningRelease).toBe(good.runningRelease);
    expect(await open(good.tryUrl)).toBe(401);

    const status = await cli(["status"]);
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/production: failed: the config at this commit has errors; first: config\/routes\.oas\.json:8:\d+: error json-syntax/);
    const json = await cli(["status", "--format", "json"]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).environments[0]).toMatchObject({ status: "failed", lastError: failed.lastError });

    // The one real error leads the validate check; the notes it caused are not listed as problems of their own.
    const validate = (await app.operations.checks("production")).find((c) => c.name === "validate")!;
    expect(validate.summary.split("\n")[2]).toContain("error json-syntax");
    expect(validate.summary).not.toContain("policy-unused");

    const page = await dashboard("/environments/local-shop-production");
    expect(page).toContain('<span class="badge status-failed">failed</span>');
    expect(page).toContain("error json-syntax");

    // A fixed commit settles it.
    repo.commit("main", shopFiles({ upstream: upstream.url, products: true }));
    await poll();
    expect((await environment("production")).status).toBe("synced");
    expect((await cli(["status"])).code).toBe(0);
  }, 120_000);

  it("makes a route naming an unknown policy failed too, and a branch preview of it gets no change report", async () => {
    repo.commit("main", shopFiles({ upstream: upstream.url }));
    await start();
    repo.commit("broken", shopFiles({ upstream: upstream.url, products: true, productsInbound: ["rate-limit2"] }));
    await poll();
    const preview = await environment("branch-broken");
    expect(preview.status).toBe("failed");
    expect(preview.lastError).toMatch(/config\/routes\.oas\.json:\d+:\d+: error policy-undefined/);
    const changes = (await app.operations.checks("branch-broken")).find((c) => c.name === "changes")!;
    expect(changes).toMatchObject({ conclusion: "neutral", title: "No comparison" });
    expect(changes.summary).toContain("could not be read");
    expect(changes.summary).not.toContain("breaking");
  }, 120_000);

  it("shows a running security break in red on the overview, first among the healthy, and tells a branch how to accept it", async () => {
    repo.commit("main", shopFiles({ upstream: upstream.url }));
    repo.commit("feature/open-orders", shopFiles({ upstream: upstream.url, ordersOpen: true }));
    await start();
    const open = await environment("branch-feature-open-orders");
    expect(open).toMatchObject({ status: "synced", risk: { breaking: 1, security: 1 } });
    expect((await environment("production")).risk).toEqual({ breaking: 0, security: 0 });

    const overview = await dashboard("/");
    const openRow = overview.indexOf('data-label="local-shop-branch-feature-open-orders"');
    expect(openRow).toBeGreaterThan(0);
    expect(openRow).toBeLessThan(overview.indexOf('data-label="local-shop-production"'));
    expect(overview.slice(openRow, overview.indexOf("</tr>", openRow))).toContain('<span class="badge risk" title="1 unapproved breaking change, 1 of them security in the running commit">breaking · security</span>');
    expect(overview.slice(overview.indexOf('data-label="local-shop-production"'))).not.toContain("badge risk");

    const changes = (await app.operations.checks("branch-feature-open-orders")).find((c) => c.name === "changes")!;
    expect(changes.summary).toContain("a branch has no approval button");
    expect(changes.summary).not.toContain("Approve breaking");
  }, 120_000);

  it("names a release by one 16-character id everywhere, takes any unique prefix of 7 or more among the environment's own releases, and keeps running and desired equal", async () => {
    const first = repo.commit("main", shopFiles({ upstream: upstream.url, settings: INHERIT }));
    await start();
    const firstRelease = (await environment("production")).runningRelease!;
    expect(firstRelease).toMatch(/^[0-9a-f]{16}$/);
    repo.commit("main", shopFiles({ upstream: upstream.url, products: true, settings: INHERIT }));
    repo.commit("other", shopFiles({ upstream: upstream.url, withoutOrders: true, products: true, settings: INHERIT }));
    await poll();

    // The id the dashboard shows is the id the CLI takes.
    const page = await dashboard("/environments/local-shop-production");
    expect(page).toContain(`<code>${firstRelease}</code>`);
    const tooShort = await cli(["rollback", "production", firstRelease.slice(0, 6)]);
    expect([tooShort.code, tooShort.stderr]).toEqual([2, "gitway: roll back to a release id or a commit SHA: at least 7 hex characters of it\n"]);
    const otherRelease = (await environment("branch-other")).runningRelease!;
    const foreign = await cli(["rollback", "production", otherRelease.slice(0, 7)]);
    expect(foreign.code).toBe(2);
    expect(foreign.stderr).toContain(`local-shop-production never ran a release or commit starting with ${otherRelease.slice(0, 7)}`);

    const rolled = await cli(["rollback", "production", firstRelease.slice(0, 7), "--format", "json"]);
    expect(rolled.code).toBe(0);
    expect(JSON.parse(rolled.stdout)).toEqual({ release: firstRelease, commit: first, from: firstRelease });
    let env = await environment("production");
    expect([env.runningRelease, env.desiredRelease]).toEqual([firstRelease, firstRelease]);

    // A key changes the release; running, desired, the pin and the deployments follow.
    expect((await cli(["keys", "create", "--env", "production", "--consumer", "carol"])).code).toBe(0);
    env = await environment("production");
    expect(env.runningRelease).not.toBe(firstRelease);
    expect(env.desiredRelease).toBe(env.runningRelease);
    const { deployments } = await api<{ deployments: DeploymentView[] }>("/api/environments/production/deployments");
    expect(deployments[0]).toMatchObject({ release: env.runningRelease, outcome: "succeeded" });
    const audit = await app.operations.audit({ environment: "production" }, { limit: 20, offset: 0 });
    const pinned = audit.entries.find((e) => e.action === "environment.pinned")!;
    expect(pinned.details.release).toBe(firstRelease);
  }, 180_000);

  it("prints and links URLs that answer, and the key's curl line opens the environment", async () => {
    repo.commit("main", shopFiles({ upstream: upstream.url, settings: INHERIT }));
    repo.commit("feature/products", shopFiles({ upstream: upstream.url, products: true, settings: INHERIT }));
    await start();
    const envs = (await api<{ environments: EnvironmentView[] }>("/api/environments")).environments;
    for (const e of envs) {
      expect(new URL(e.tryUrl).pathname).toBe("/api/v1/orders");
      expect([200, 401]).toContain(await open(e.tryUrl));
    }
    const created = await cli(["keys", "create", "--env", "production", "--consumer", "dora"]);
    const curl = /curl -H "Authorization: Bearer (\S+)" (\S+)/.exec(created.stdout)!;
    expect(await open(curl[2]!, { authorization: `Bearer ${curl[1]}` })).toBe(200);
    const table = (await cli(["status"])).stdout;
    for (const e of envs) expect(table).toContain(e.tryUrl);
    const overview = await dashboard("/");
    for (const e of envs) expect(overview).toContain(`href="${e.tryUrl}"`);
  }, 120_000);

  it("lists the keys a preview inherits as such, with where to revoke them", async () => {
    repo.commit("main", shopFiles({ upstream: upstream.url, settings: INHERIT }));
    repo.commit("feature/products", shopFiles({ upstream: upstream.url, products: true, settings: INHERIT }));
    await start();
    const created = await cli(["keys", "create", "--env", "production", "--consumer", "erin", "--format", "json"]);
    const { key } = JSON.parse(created.stdout) as { key: string };
    const preview = await environment("branch-feature-products");
    expect(await open(preview.tryUrl, { authorization: `Bearer ${key}` })).toBe(200);

    const { keys } = await api<{ keys: KeyView[] }>("/api/environments/branch-feature-products/keys");
    expect(keys).toEqual([expect.objectContaining({ consumer: "erin", inheritedFrom: "production", inheritedFromLabel: "local-shop-production" })]);
    const listed = await cli(["keys", "list", "--env", "branch-feature-products"]);
    expect(listed.stdout).toContain("production, inherited (revoke with gitway keys revoke --env production --consumer erin)");
    const page = await dashboard("/environments/local-shop-branch-feature-products");
    expect(page).toContain('<th scope="row">erin</th><td>from <a href="/environments/local-shop-production">production</a>, inherited</td>');
  }, 120_000);

  it.skipIf(driver.name !== "PGlite")("refuses a format it does not print with exit 2, and says a wrong token is wrong", async () => {
    repo.commit("main", shopFiles({ upstream: upstream.url }));
    await start();
    for (const args of [["status"], ["env", "list"], ["keys", "list", "--env", "production"]]) {
      const r = await cli([...args, "--format", "xml"]);
      expect([r.code, r.stdout]).toEqual([2, ""]);
      expect(r.stderr).toContain('must be text or json, not "xml"');
    }
    const wrong = await cli(["sync", "production"], "wrong-token-wrong-token");
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/^gitway: the admin token is wrong: the server at http:\/\/127\.0\.0\.1:\d+ refused it/);
  }, 120_000);
});
