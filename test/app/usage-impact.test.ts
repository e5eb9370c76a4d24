import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { request } from "undici";
import { afterEach, beforeEach, expect, it } from "vitest";
import { readAppSettings } from "../../src/app/settings.js";
import { startGitway, type Running } from "../../src/app/start.js";
import { startUpstream } from "../gateway/harness.js";
import { shopFiles } from "../github/shop-repo.js";
import { forward, route } from "../config/fixtures/seed.js";
import { describeEachDriver } from "../store/drivers.js";
import { ROOT } from "./start.js";
import { ConfigRepo } from "../config-repo.js";

describeEachDriver("usage and impact through the real gateway", (driver) => {
  let root: string;
  let repo: ConfigRepo;
  let app: Running | undefined;
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let databaseUrl: string | undefined;
  let closeStore: (() => Promise<void>) | undefined;
  const logged: string[] = [];

  // Each test starts the app (one twice) and runs git: on a busy two-core machine that takes a while.
  beforeEach(async () => {
    logged.length = 0;
    root = mkdtempSync(join(tmpdir(), "gitway-usage-"));
    repo = new ConfigRepo(root);
    upstream = await startUpstream();
    if (driver.name === "PostgreSQL") {
      const store = await driver.open();
      databaseUrl = store.url;
      closeStore = () => store.close();
    }
  }, 120_000);

  afterEach(async () => {
    await app?.close();
    app = undefined;
    await upstream.close();
    await closeStore?.();
    rmSync(root, { recursive: true, force: true });
  }, 120_000);

  /** Starts (or starts again, on the same data) the app in Git mode over the test repository. */
  async function start(extra: Record<string, string> = {}) {
    const env: Record<string, string> = { GITWAY_REPOS: repo.dir, PORT: "0", GATEWAY_PORT: "0", GITWAY_UPSTREAM_ALLOW: "127.0.0.1", GITWAY_DATA_DIR: join(root, "data"), GITWAY_POLL_SECONDS: "3600", GITWAY_ADMIN_TOKEN: "test-admin-token-0123456789", LOG_LEVEL: "fatal", ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}), ...extra };
    app = await startGitway(readAppSettings(env), env, { log: (_level, message) => void logged.push(message), workerIdleMs: 10 });
    await settle();
    return app;
  }
  async function settle() {
    await app!.reconciler!.tick();
    await app!.idle(30_000);
  }
  const call = async (path: string, key?: string) => {
    const res = await request(`${app!.gatewayUrl}${path}`, { headers: { host: "local-shop-production.localhost:8787", ...(key ? { authorization: `Bearer ${key}` } : {}) } });
    await res.body.text();
    return res.statusCode;
  };
  /** Orders (behind a key), products and a legacy report nobody calls. */
  const files = (o: { withoutOrders?: boolean; withoutLegacy?: boolean } = {}) =>
    shopFiles({ upstream: upstream.url, products: true, withoutOrders: o.withoutOrders, extraRoutes: o.withoutLegacy ? [] : [{ path: "/api/v1/legacy", operationId: "legacyReport", route: route([], forward(upstream.url)) }] });

  /** Traffic from three consumers: two with keys, one anonymous. */
  async function traffic() {
    const mobile = (await app!.operations.createKey("production", "mobile-app", "test")).key;
    const partner = (await app!.operations.createKey("production", "partner-acme", "test")).key;
    for (let i = 0; i < 6; i++) expect(await call("/api/v1/orders", mobile)).toBe(200);
    for (let i = 0; i < 2; i++) expect(await call("/api/v1/orders", partner)).toBe(200);
    expect(await call("/api/v1/orders")).toBe(401);
    for (let i = 0; i < 3; i++) expect(await call("/api/v1/products")).toBe(200);
    // A path no route has is not an operation: nothing is counted for it.
    expect(await call("/api/v1/nothing-here")).toBe(404);
  }

  it("counts traffic from three consumers per operation, writes it at shutdown, and keeps it across a restart", async () => {
    repo.commit("main", files());
    await start();
    await traffic();
    // No flush asked for: stopping writes what the gateway counted.
    await app!.close();
    app = undefined;

    await start();
    const usage = await app!.operations.usage("production", {});
    expect(usage.total).toBe(12);
    expect(usage.rows).toEqual([
      { operation: "listOrders", route: "GET /api/v1/orders", consumer: "mobile-app", calls: 6, byStatus: { "2xx": 6 } },
      { operation: "listProducts", route: "GET /api/v1/products", consumer: "anonymous", calls: 3, byStatus: { "2xx": 3 } },
      { operation: "listOrders", route: "GET /api/v1/orders", consumer: "partner-acme", calls: 2, byStatus: { "2xx": 2 } },
      { operation: "listOrders", route: "GET /api/v1/orders", consumer: "anonymous", calls: 1, byStatus: { "4xx": 1 } },
    ]);
    // Filtered by operationId or by route, through the admin API the CLI uses.
    const byId = (await (await fetch(`${app!.appUrl}/api/environments/production/usage?operation=listProducts`)).json()) as { usage: { total: number } };
    expect(byId.usage.total).toBe(3);
    const byRoute = (await (await fetch(`${app!.appUrl}/api/environments/production/usage?operation=${encodeURIComponent("GET /api/v1/orders")}&days=7`)).json()) as { usage: { total: number; days: number } };
    expect(byRoute.usage).toMatchObject({ total: 9, days: 7 });
    expect((await fetch(`${app!.appUrl}/api/environments/production/usage?days=soon`)).status).toBe(400);
    // The name calls without a key are counted under is not one a key can be made for.
    await expect(app!.operations.createKey("production", "anonymous", "test")).rejects.toThrow('the consumer name "anonymous" is reserved');

    // The operator's CLI, a separate process over the admin API.
    const cli = (args: string[]) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(process.execPath, ["dist/cli.js", ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? "", GITWAY_URL: app!.appUrl, GITWAY_ADMIN_TOKEN: "test-admin-token-0123456789" }, timeout: 30_000 }, (error, stdout, stderr) =>
          resolve({ status: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
        );
      });
    const text = await cli(["usage", "production"]);
    expect(text.status).toBe(0);
    expect(text.stdout.split("\n")[0]).toMatch(/^OPERATION\s+CONSUMER\s+CALLS\s+BY STATUS$/);
    expect(text.stdout).toMatch(/listOrders\s+mobile-app\s+6\s+2xx 6 {2}3xx 0 {2}4xx 0 {2}5xx 0/);
    expect(text.stdout).toContain("12 calls in the last 30 days on local-shop-production.");
    const json = await cli(["usage", "production", "--operation", "listOrders", "--format", "json"]);
    expect((JSON.parse(json.stdout) as { usage: { total: number; rows: { consumer: string }[] } }).usage).toMatchObject({ total: 9, rows: [{ consumer: "mobile-app" }, { consumer: "partner-acme" }, { consumer: "anonymous" }] });
    expect((await cli(["usage", "production", "--operation", "nobodyCalls"])).stdout).toBe("No calls to nobodyCalls in the last 30 days on local-shop-production.\n");
    expect((await cli(["usage", "production", "--days", "0"])).status).toBe(2);
    expect((await cli(["usage", "nowhere"])).status).toBe(2);
  }, 120_000);

  it("says on a branch's changes check which consumers call the operation it removes, and that nobody calls another", async () => {
    repo.commit("main", files());
    await start();
    await traffic();
    await app!.flushUsage();
    repo.commit("drop-orders", files({ withoutOrders: true }));
    repo.commit("drop-legacy", files({ withoutLegacy: true }));
    await settle();

    const changes = async (env: string) => (await app!.operations.checks(env)).find((c) => c.name === "changes")!;
    const dropOrders = await changes("branch-drop-orders");
    expect(dropOrders.conclusion).toBe("failure");
    expect(dropOrders.summary).toContain("called by 3 consumers in the last 30 days: mobile-app (6 calls), partner-acme (2), anonymous (1)");
    expect(dropOrders.summary).toContain("Breaking changes by production calls in the last 30 days: `GET /api/v1/orders`: 9 calls from 3 consumers.");
    const dropLegacy = await changes("branch-drop-legacy");
    expect(dropLegacy.summary).toContain("no calls in the last 30 days");
    expect(dropLegacy.summary).not.toContain("mobile");
  }, 120_000);

  it("shows counts without names when the trusted settings turn names off, over their window", async () => {
    repo.commit("main", { ...files(), ".github/gitway.yml": "diff:\n  impactNames: false\n  impactDays: 7\n" });
    await start();
    await traffic();
    await app!.flushUsage();
    repo.commit("drop-orders", files({ withoutOrders: true }));
    await settle();
    const check = (await app!.operations.checks("branch-drop-orders")).find((c) => c.name === "changes")!;
    expect(check.summary).toContain("called by 3 consumers in the last 7 days: 9 calls");
    expect(check.summary).not.toMatch(/mobile-app|partner-acme/);
  }, 120_000);

  it("names the shorter window when the operator keeps fewer days of usage than the settings ask for", async () => {
    repo.commit("main", files());
    await start({ GITWAY_USAGE_DAYS: "3" });
    await traffic();
    await app!.flushUsage();
    repo.commit("drop-legacy", files({ withoutLegacy: true }));
    await settle();
    const check = (await app!.operations.checks("branch-drop-legacy")).find((c) => c.name === "changes")!;
    expect(check.summary).toContain("👥 no calls in the last 3 days");
  }, 120_000);

  it.skipIf(driver.name !== "PostgreSQL")("loses no request and no count while the database refuses connections, and writes the counts once it is back", async () => {
    repo.commit("main", files());
    await start();
    const key = (await app!.operations.createKey("production", "mobile-app", "test")).key;
    const database = new URL(databaseUrl!).pathname.slice(1);
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    try {
      // The database goes away: no new connection, and every open one is cut.
      await admin.query(`ALTER DATABASE ${database} ALLOW_CONNECTIONS false`);
      await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [database]);
      let slowest = 0;
      for (let i = 0; i < 40; i++) {
        const began = performance.now();
        expect(await call("/api/v1/orders", key)).toBe(200);
        slowest = Math.max(slowest, performance.now() - began);
        if (i === 20) await app!.flushUsage(); // fails: the counts go back into memory
      }
      await app!.flushUsage();
      expect(logged).toContainEqual(expect.stringMatching(/^usage: counts kept in memory until the store answers/));
      console.log(`40 requests while the database was away: slowest ${slowest.toFixed(1)} ms`);
    } finally {
      await admin.query(`ALTER DATABASE ${database} ALLOW_CONNECTIONS true`);
      await admin.end();
    }
    await app!.flushUsage();
    expect(logged).toContainEqual(expect.stringMatching(/^usage: the store answers again/));
    const usage = await app!.operations.usage("production", {});
    expect(usage.rows).toEqual([expect.objectContaining({ operation: "listOrders", consumer: "mobile-app", calls: 40 })]);
  }, 120_000);
});
