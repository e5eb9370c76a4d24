import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiKeyPolicy, forward, policiesFile, rateLimitPolicy, route, routesFile } from "../config/fixtures/seed.js";
import { startUpstream } from "../gateway/harness.js";
import { POSTGRES_SKIPPED, postgres } from "../store/drivers.js";
import { startProcess, type Started } from "./start.js";
import { freePort } from "../free-port.js";

const REDIS_URL = process.env.REDIS_URL;

const files = (upstream: string, products: boolean) => ({
  "config/routes.oas.json": routesFile([
    { path: "/api/v1/orders", operationId: "listOrders", route: route(["limit"], forward(upstream)) },
    ...(products ? [{ path: "/api/v1/products", operationId: "listProducts", route: route([], forward(upstream)) }] : []),
  ]),
  "config/policies.json": policiesFile([apiKeyPolicy(), rateLimitPolicy({ rateLimitBy: "ip", requestsAllowed: 10, timeWindowMinutes: 1 }, "limit")]),
});

describe.skipIf(POSTGRES_SKIPPED !== undefined || !REDIS_URL)(`GATEWAY_WORKERS=2${POSTGRES_SKIPPED !== undefined || !REDIS_URL ? " (skipped: needs DATABASE_URL and REDIS_URL, as in CI)" : ""}`, () => {
  let root: string;
  let repo: string;
  let app: Started;
  let port: number;
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let dropDatabase: () => Promise<void>;
  const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=T", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false", ...args], { cwd: repo });
  const commit = (f: Record<string, string>) => {
    for (const [p, text] of Object.entries(f)) {
      mkdirSync(join(repo, p, ".."), { recursive: true });
      writeFileSync(join(repo, p), text);
    }
    git("add", "-A");
    git("commit", "--quiet", "-m", "change");
    return execFileSync("git", ["rev-parse", "HEAD"], { cwd: repo, encoding: "utf8" }).trim();
  };
  /** A new connection per request, so the kernel spreads them over both processes. */
  const answers: string[] = [];
  const get = async (path: string) => {
    const res = await request(`http://127.0.0.1:${port}${path}`, { headers: { host: `local-${repo.split("/").at(-1)}-production.localhost`, connection: "close" } });
    answers.push(await res.body.text());
    return res.statusCode;
  };
  const synced = async (sha: string) => {
    const until = Date.now() + 60_000;
    for (;;) {
      const { environments } = (await (await fetch(`${app.appUrl}/api/environments`)).json()) as { environments: { status: string; commit: { sha: string } | null }[] };
      if (environments[0]?.status === "synced" && environments[0].commit?.sha === sha) return;
      if (Date.now() > until) throw new Error(`not synced: ${JSON.stringify(environments)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "gitway-workers-"));
    // A name of its own: Redis keeps counters by environment, and outlives this test.
    repo = join(root, `shop${process.pid}${Date.now() % 100000}`);
    mkdirSync(repo);
    git("init", "--quiet", "--initial-branch=main");
    upstream = await startUpstream();
    const store = await postgres.open();
    dropDatabase = () => store.close();
    port = await freePort();
    const first = commit(files(upstream.url, false));
    app = await startProcess(["dist/main.js"], { DATABASE_URL: store.url!, REDIS_URL: REDIS_URL!, GATEWAY_WORKERS: "2", GATEWAY_PORT: String(port), PORT: "0", GITWAY_REPOS: repo, GITWAY_DATA_DIR: join(root, "data"), GITWAY_POLL_SECONDS: "1" });
    await synced(first);
  }, 120_000);

  afterAll(async () => {
    expect(await app?.stop()).toBe(0);
    await upstream?.close();
    await dropDatabase?.();
    rmSync(root, { recursive: true, force: true });
  });

  it("holds a limit of 10 across both gateway processes (counters in Redis)", async () => {
    // Wait for the gateway processes to listen and load the release (this spends one request of the limit).
    const until = Date.now() + 30_000;
    while ((await get("/api/v1/orders").catch(() => 0)) !== 200) {
      if (Date.now() > until) throw new Error("the gateway processes did not serve the release");
      await new Promise((r) => setTimeout(r, 200));
    }
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push(await get("/api/v1/orders"));
    // One request was spent above, waiting for the release.
    expect(statuses.filter((s) => s === 200).length).toBe(9);
    expect(statuses.filter((s) => s === 429).length).toBe(11);
    // Both processes answered: a gateway's request ids start with its pid (base 36).
    const processes = new Set(answers.flatMap((a) => (a.includes("requestId") ? [(JSON.parse(a) as { trace: { requestId: string } }).trace.requestId.split("-")[0]] : [])));
    expect(processes.size).toBe(2);
  });

  it("swaps a new release into every gateway process", async () => {
    const next = commit(files(upstream.url, true));
    await synced(next);
    const until = Date.now() + 10_000;
    let statuses: number[] = [];
    do {
      statuses = [];
      for (let i = 0; i < 10; i++) statuses.push(await get("/api/v1/products"));
    } while (statuses.some((s) => s !== 200) && Date.now() < until);
    expect(statuses).toEqual(Array(10).fill(200));
  });

  it("adds up the usage each gateway process counted and wrote on its own", async () => {
    for (let i = 0; i < 30; i++) expect(await get("/api/v1/products")).toBe(200);
    // Both processes answered (the upstream's answer carries no request id; the 429s above did).
    expect(app.output()).not.toContain("usage: counts kept in memory");
    // Every answer of the route in this file (the swap test's too) is a counted call, whichever process gave it.
    const before = answers.filter((a) => a.includes('"path":"/api/v1/products"')).length;
    expect(before).toBeGreaterThanOrEqual(30);
    // Each process writes every 10 s: wait for both processes' counts to arrive.
    const until = Date.now() + 30_000;
    let total = 0;
    while (Date.now() < until) {
      const body = (await (await fetch(`${app.appUrl}/api/environments/production/usage?operation=listProducts`)).json()) as { usage: { total: number } };
      total = body.usage.total;
      if (total >= before) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(total).toBe(before);
  }, 60_000);
});
