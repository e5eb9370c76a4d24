import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { engineReports, migrateStore, openStore, rowsOf, StoreRecords } from "../../src/store/index.js";
import { shopFiles } from "../github/shop-repo.js";
import { freePort } from "../free-port.js";
import { freshPostgresDatabase, POSTGRES_SKIPPED } from "../store/drivers.js";
import { CLI, gitway } from "./run-cli.js";

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!().catch(() => {});
});

/** A loopback upstream that answers every request with its own name. */
async function upstream(name: string): Promise<string> {
  const server: Server = createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ from: name })));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cleanup.push(() => new Promise((r) => server.close(r)));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

describe("gitway gateway-agent", () => {
  it("refuses to start without the PostgreSQL it follows, naming DATABASE_URL", () => {
    const dir = mkdtempSync(join(tmpdir(), "gitway-agent-"));
    const r = gitway(["gateway-agent", "--engine", "nginx", "--config-dir", dir], { env: { DATABASE_URL: "" } });
    rmSync(dir, { recursive: true, force: true });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^gitway: DATABASE_URL: a gateway agent follows the PostgreSQL/);
  });

  it("knows no engine but nginx", () => {
    const r = gitway(["gateway-agent", "--engine", "node", "--config-dir", "/tmp/x"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("must be nginx");
  });

  it.skipIf(POSTGRES_SKIPPED !== undefined)("serves production through its nginx, follows a new release within 2 s, counts the calls its nginx served in usage, and forgets its instance when stopped", async () => {
    const db = await freshPostgresDatabase();
    cleanup.push(() => db.drop());
    const store = await openStore({ databaseUrl: db.url });
    cleanup.push(() => store.close());
    await migrateStore(store);
    const records = new StoreRecords(store.db, { label: (o, r, e) => `${o}-${r}-${e}`, url: (l) => `http://${l}.gitway.test/` }, undefined);
    const production = await records.environment(await records.repository("acme", "shop"), { name: "production", kind: "production" });
    const deploy = async (hash: string, url: string) => records.recordDeployment({ environmentId: production.id, commitSha: "a".repeat(40), releaseHash: hash, files: shopFiles({ upstream: url, products: true }), trigger: "push", actor: "test", outcome: "succeeded" });
    await deploy("release-one", await upstream("one"));

    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), "gitway-agent-"));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    const child = spawn(process.execPath, [CLI, "gateway-agent", "--engine", "nginx", "--config-dir", dir, "--listen", `127.0.0.1:${port}`, "--node-gateway", "http://127.0.0.1:9", "--instance-id", "edge-1"], {
      env: { ...process.env, DATABASE_URL: db.url, GATEWAY_BASE_DOMAIN: "gitway.test" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((r) => child.once("exit", r));
    cleanup.push(async () => (child.exitCode === null ? (child.kill("SIGKILL"), await exited) : undefined));

    const products = async () => {
      // A connection of its own: a reload closes the keep-alive connections idle in the old workers.
      const res = await request(`http://127.0.0.1:${port}/api/v1/products`, { headers: { host: "acme-shop-production.gitway.test" }, headersTimeout: 2_000, bodyTimeout: 2_000, reset: true });
      return res.statusCode === 200 ? ((await res.body.json()) as { from: string }).from : (await res.body.text(), undefined);
    };
    const within = async (ms: number, check: () => Promise<boolean>) => {
      const until = Date.now() + ms;
      while (!(await check().catch(() => false))) {
        if (Date.now() > until) throw new Error(`not within ${ms} ms; the agent said:\n${err}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    await within(20_000, async () => (await products()) === "one");
    let answered = 0;
    for (let i = 0; i < 5; i++) if ((await products()) === "one") answered++;

    await deploy("release-two", await upstream("two"));
    const began = Date.now();
    await within(2_000, async () => (await products()) === "two");
    expect(Date.now() - began).toBeLessThan(2_000);
    await within(2_000, async () => (await engineReports(store.db)).get("acme-shop-production")?.[0]?.releaseHash === "release-two");
    expect((await engineReports(store.db)).get("acme-shop-production")).toMatchObject([{ instanceId: "edge-1", engine: "nginx" }]);

    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect((await engineReports(store.db)).size).toBe(0);
    // The agent's own flusher wrote, at its stop, what its nginx logged: at least the five calls answered above.
    const [counted] = rowsOf<{ calls: string | null }>(await store.db.execute(sql`SELECT sum(calls) AS calls FROM usage WHERE environment = 'acme-shop-production' AND operation = 'listProducts' AND consumer = 'anonymous' AND status_class = '2xx'`));
    expect(answered).toBe(5);
    expect(Number(counted?.calls ?? 0)).toBeGreaterThanOrEqual(5);
    await expect(products()).rejects.toThrow();
  });
});
