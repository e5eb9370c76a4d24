import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readAppSettings } from "../../src/app/settings.js";
import { forward, policiesFile, route, routesFile } from "../config/fixtures/seed.js";
import { startUpstream } from "../gateway/harness.js";
import { POSTGRES_SKIPPED, postgres } from "../store/drivers.js";
import { startProcess, type Started } from "./start.js";
import { freePort } from "../free-port.js";

const GATEWAY_READY = /health on (http:\/\/[^\s;]+)[^\n]*gateway on (http:\/\/[^\s;]+)/;
/** With GATEWAY_WORKERS, the first process answers the probes; its workers listen on the chosen port. */
const GATEWAY_PROBES_READY = /health on (http:\/\/[^\s;]+)[^\n]*()gateway on port \d+ in GATEWAY_WORKERS processes/;
const APP_READY = /app on (http:\/\/[^\s;]+)[^\n]*()served by GITWAY_ROLE=gateway processes/;

describe("GITWAY_ROLE settings", () => {
  it("defaults to all and refuses a role it does not know", () => {
    expect(readAppSettings({}).role).toBe("all");
    expect(() => readAppSettings({ GITWAY_ROLE: "worker" })).toThrow('GITWAY_ROLE: must be one of all, app, gateway, not "worker"');
  });

  it("refuses a gateway role without PostgreSQL, and settings only an app process would act on", () => {
    expect(() => readAppSettings({ GITWAY_ROLE: "gateway" })).toThrow("GITWAY_ROLE: gateway serves what app processes deploy into PostgreSQL: set DATABASE_URL");
    const db = { GITWAY_ROLE: "gateway", DATABASE_URL: "postgres://db/gitway" };
    expect(readAppSettings(db)).toMatchObject({ role: "gateway", example: false });
    expect(() => readAppSettings({ ...db, GITWAY_REPOS: "/srv/shop.git" })).toThrow("GITWAY_REPOS: is read by app processes only");
    expect(() => readAppSettings({ ...db, APP_ID: "1", PRIVATE_KEY: "k", WEBHOOK_SECRET: "s" })).toThrow("APP_ID: is read by app processes only");
  });

  it("refuses an app role without PostgreSQL, where no gateway process could serve what it deploys", () => {
    expect(() => readAppSettings({ GITWAY_ROLE: "app" })).toThrow("GITWAY_ROLE: app deploys into PostgreSQL for GITWAY_ROLE=gateway processes to serve: set DATABASE_URL");
    expect(readAppSettings({ GITWAY_ROLE: "app", DATABASE_URL: "postgres://db/gitway" }).role).toBe("app");
  });

  it("refuses gateway workers in an app-role process, which serves no gateway", () => {
    expect(() => readAppSettings({ GITWAY_ROLE: "app", DATABASE_URL: "postgres://db/gitway", GATEWAY_WORKERS: "2", GATEWAY_PORT: "8787" })).toThrow("GATEWAY_WORKERS: a GITWAY_ROLE=app process serves no gateway");
  });
});

// One gateway process serving the port itself, and the Kubernetes gateway pod's shape: a first process and two workers.
describe.skipIf(POSTGRES_SKIPPED !== undefined).each([1, 2])(`a gateway-role process (GATEWAY_WORKERS=%i) beside an app-role process on one PostgreSQL${POSTGRES_SKIPPED ? ` (skipped: ${POSTGRES_SKIPPED})` : ""}`, (workers) => {
  let root: string;
  let repo: string;
  let databaseUrl: string;
  let gateway: Started | undefined;
  let app: Started | undefined;
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let dropDatabase: () => Promise<void>;
  const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=T", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false", ...args], { cwd: repo });

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "gitway-roles-"));
    repo = join(root, "shop");
    mkdirSync(join(repo, "config"), { recursive: true });
    upstream = await startUpstream();
    writeFileSync(join(repo, "config/routes.oas.json"), routesFile([{ path: "/api/v1/orders", operationId: "listOrders", route: route([], forward(upstream.url)) }]));
    writeFileSync(join(repo, "config/policies.json"), policiesFile([]));
    git("init", "--quiet", "--initial-branch=main");
    git("add", "-A");
    git("commit", "--quiet", "-m", "orders");
    const store = await postgres.open();
    databaseUrl = store.url!;
    dropDatabase = () => store.close();
  }, 60_000);

  afterAll(async () => {
    expect(await app?.stop()).toBe(0);
    expect(await gateway?.stop()).toBe(0);
    await upstream?.close();
    await dropDatabase?.();
    rmSync(root, { recursive: true, force: true });
  });

  it("takes no job, answers only the probes on its app port, and serves the release the app-role process deployed", async () => {
    const common = { DATABASE_URL: databaseUrl, GATEWAY_BASE_DOMAIN: "localhost", GATEWAY_PORT: "0", PORT: "0", LOG_LEVEL: "info" };
    const port = workers > 1 ? await freePort() : 0;
    gateway = await startProcess(["dist/main.js"], { ...common, GITWAY_ROLE: "gateway", GATEWAY_PORT: String(port), GATEWAY_WORKERS: String(workers) }, undefined, 60_000, workers > 1 ? GATEWAY_PROBES_READY : GATEWAY_READY);
    const gatewayUrl = workers > 1 ? `http://127.0.0.1:${port}` : gateway.gatewayUrl;

    // A job queued while only the gateway runs stays queued: it has no worker.
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    try {
      const { rows } = await db.query<{ id: string }>("INSERT INTO jobs (kind, environment_key, payload) VALUES ('git', 'probe', '{}') RETURNING id");
      await new Promise((r) => setTimeout(r, 1_500));
      const { rows: after } = await db.query<{ status: string; attempts: number; lease_owner: string | null }>("SELECT status, attempts, lease_owner FROM jobs WHERE id = $1", [rows[0]!.id]);
      expect(after).toEqual([{ status: "queued", attempts: 0, lease_owner: null }]);
      await db.query("DELETE FROM jobs WHERE id = $1", [rows[0]!.id]);
    } finally {
      await db.end();
    }
    expect([(await fetch(`${gateway.appUrl}/healthz`)).status, await (await fetch(`${gateway.appUrl}/readyz`)).json()]).toEqual([200, { ok: true, store: "ok" }]);
    expect((await fetch(`${gateway.appUrl}/api/environments`)).status).toBe(404);
    expect((await fetch(`${gateway.appUrl}/api/github/webhooks`, { method: "POST", body: "{}" })).status).toBe(404);

    app = await startProcess(["dist/main.js"], { ...common, GITWAY_ROLE: "app", GITWAY_REPOS: repo, GITWAY_DATA_DIR: join(root, "data"), GITWAY_POLL_SECONDS: "1" }, undefined, 60_000, APP_READY);
    expect(app.output()).not.toMatch(/gateway on http/);

    const host = "local-shop-production.localhost";
    // A new connection per request, so every worker process answers in turn.
    const get = () =>
      request(`${gatewayUrl}/api/v1/orders`, { headers: { host, connection: "close" } }).then(
        async (res) => (await res.body.dump(), res.statusCode),
        () => 0,
      );
    const until = Date.now() + 60_000;
    let status = 0;
    while (status !== 200) {
      if (Date.now() > until) throw new Error(`the gateway-role process did not serve the release (last ${status}):\n${gateway.output()}\n${app.output()}`);
      await new Promise((r) => setTimeout(r, 250));
      status = await get();
    }
    const statuses: number[] = [];
    for (let i = 0; i < 4 * workers; i++) statuses.push(await get());
    expect(statuses).toEqual(Array(4 * workers).fill(200));
    expect(upstream.seen.length).toBeGreaterThan(4 * workers);
  }, 120_000);
});
