import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiKeyPolicy, forward, policiesFile, route, routesFile } from "../config/fixtures/seed.js";
import { startUpstream } from "../gateway/harness.js";
import { LISTENER_APPLICATION_NAME } from "../../src/app/gateway-worker.js";
import { POSTGRES_SKIPPED, postgres } from "../store/drivers.js";
import { startProcess, type Started } from "./start.js";
import { freePort } from "../free-port.js";

const ADMIN_TOKEN = "recovery-test-admin-token-0123456789";

describe.skipIf(POSTGRES_SKIPPED !== undefined)(`gateway worker processes after a lost database connection${POSTGRES_SKIPPED ? ` (skipped: ${POSTGRES_SKIPPED})` : ""}`, () => {
  let root: string;
  let repo: string;
  let app: Started;
  let port: number;
  let databaseUrl: string;
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let dropDatabase: () => Promise<void>;
  const label = () => `local-${repo.split("/").at(-1)}-production`;
  const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=T", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false", ...args], { cwd: repo });
  /** A new connection per request, so the kernel spreads them over both gateway processes. */
  const get = async (key: string, path = "/api/v1/orders") => {
    const res = await request(`http://127.0.0.1:${port}${path}`, { headers: { host: `${label()}.localhost`, connection: "close", authorization: `Bearer ${key}` } });
    await res.body.text();
    return res.statusCode;
  };
  const admin = async (method: "POST" | "DELETE" | "PUT", path: string, body?: unknown) => {
    const res = await fetch(`${app.appUrl}/api/environments/${label()}${path}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    const json = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  /** Polls until every one of 10 fresh connections gets `status`; returns how long that took. */
  const allAnswer = async (key: string, status: number, timeoutMs: number, path?: string): Promise<number> => {
    const started = Date.now();
    for (;;) {
      const statuses = await Promise.all(Array.from({ length: 10 }, () => get(key, path).catch(() => 0)));
      if (statuses.every((s) => s === status)) return Date.now() - started;
      if (Date.now() - started > timeoutMs) throw new Error(`after ${timeoutMs} ms the gateway processes still answered ${statuses.join(",")}; the app said:\n${app.output().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "gitway-recovery-"));
    repo = join(root, `shop${process.pid}`);
    mkdirSync(join(repo, "config"), { recursive: true });
    upstream = await startUpstream();
    writeFileSync(join(repo, "config/routes.oas.json"), routesFile([{ path: "/api/v1/orders", operationId: "listOrders", route: route(["api-key-inbound"], forward(upstream.url)) }]));
    writeFileSync(join(repo, "config/policies.json"), policiesFile([apiKeyPolicy()]));
    git("init", "--quiet", "--initial-branch=main");
    git("add", "-A");
    git("commit", "--quiet", "-m", "orders behind a key");
    const store = await postgres.open();
    databaseUrl = store.url!;
    dropDatabase = () => store.close();
    port = await freePort();
    app = await startProcess(["dist/main.js"], { DATABASE_URL: databaseUrl, GATEWAY_WORKERS: "2", GATEWAY_PORT: String(port), PORT: "0", GITWAY_REPOS: repo, GITWAY_DATA_DIR: join(root, "data"), GITWAY_POLL_SECONDS: "1", GITWAY_ADMIN_TOKEN: ADMIN_TOKEN });
    const until = Date.now() + 60_000;
    while ((await get("none").catch(() => 0)) !== 401) {
      if (Date.now() > until) throw new Error(`production was not served:\n${app.output().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 120_000);

  afterAll(async () => {
    expect(await app?.stop()).toBe(0);
    await upstream?.close();
    await dropDatabase?.();
    rmSync(root, { recursive: true, force: true });
  });

  it("reconnect, re-read every release and listen again: a key revoked after pg_terminate_backend stops working in every process within 5 s", async () => {
    const { key } = (await admin("POST", "/keys", { consumer: "alice" })) as { key: string };
    await allAnswer(key, 200, 10_000);

    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    try {
      const killed = await db.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()", [LISTENER_APPLICATION_NAME]);
      expect(killed.rowCount).toBe(2);
    } finally {
      await db.end();
    }

    expect(await admin("DELETE", "/keys/alice")).toMatchObject({ revoked: 1 });
    const tookMs = await allAnswer(key, 401, 5_000);
    expect(tookMs).toBeLessThan(5_000);
    expect(app.output()).toMatch(/release notifications lost/);
  }, 60_000);

  it("refuses a key revoked while they were away even in a release they cannot rebuild when they are back", async () => {
    // Products send $env(UPSTREAM_TOKEN) upstream: a release that cannot be built without it.
    await admin("PUT", "/values/UPSTREAM_TOKEN", { value: "t0ken" });
    const upstreamToken = { name: "upstream-token", policyType: "set-headers-inbound", handler: { export: "SetHeadersInboundPolicy", module: "$import(@zuplo/runtime)", options: { headers: [{ name: "x-upstream-token", value: "$env(UPSTREAM_TOKEN)" }] } } };
    writeFileSync(join(repo, "config/routes.oas.json"), routesFile([{ path: "/api/v1/orders", operationId: "listOrders", route: route(["api-key-inbound"], forward(upstream.url)) }, { path: "/api/v1/products", operationId: "listProducts", route: route(["upstream-token"], forward(upstream.url)) }]));
    writeFileSync(join(repo, "config/policies.json"), policiesFile([apiKeyPolicy(), upstreamToken]));
    git("add", "-A");
    git("commit", "--quiet", "-m", "products send a token upstream");
    await allAnswer("none", 200, 30_000, "/api/v1/products");
    const { key } = (await admin("POST", "/keys", { consumer: "bob" })) as { key: string };
    await allAnswer(key, 200, 10_000);

    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    try {
      expect((await db.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()", [LISTENER_APPLICATION_NAME])).rowCount).toBe(2);
      // The value the release needs is gone: neither the app nor a gateway process can rebuild it now.
      await db.query("DELETE FROM environment_variables WHERE name = 'UPSTREAM_TOKEN'");
    } finally {
      await db.end();
    }

    expect(await admin("DELETE", "/keys/bob")).toMatchObject({ revoked: 1, rebuild: { ok: false } });
    expect(await allAnswer(key, 401, 5_000)).toBeLessThan(5_000);
  }, 60_000);
});
