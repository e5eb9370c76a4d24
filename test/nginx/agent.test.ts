import { mkdtempSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { afterEach, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { AGENT_APPLICATION_NAME, ChildNginx, ConfigDir, DEFAULT_NGINX_BIN, NginxAgent, NginxStartError, OperatorNginx, renderAllWith, type RenderAll } from "../../src/nginx/index.js";
import { engineReports, migrateStore, rowsOf, StoreRecords, type Store } from "../../src/store/index.js";
import { shopFiles } from "../github/shop-repo.js";
import { describeEachDriver, pglite, postgres } from "../store/drivers.js";
import { freePort } from "../free-port.js";

/**
 * A tiny real nginx configuration per environment (the agent's file handling, tests and reloads are
 * what is under test here, not the renderer): each host answers with its release hash and the key
 * hashes it knows. A release whose hash starts with "bad" renders a directive nginx refuses.
 */
const tinyRenderer =
  (port: number): RenderAll =>
  (envs) => ({
    files: {
      "nginx.conf": [
        "worker_processes 1;",
        "events { worker_connections 64; }",
        "http {",
        "  access_log off;",
        "  client_body_temp_path client_body_temp; proxy_temp_path proxy_temp; fastcgi_temp_path fastcgi_temp; uwsgi_temp_path uwsgi_temp; scgi_temp_path scgi_temp;",
        "  include servers/*.conf;",
        `  server { listen 127.0.0.1:${port} default_server; return 404; }`,
        "}",
        "",
      ].join("\n"),
      ...Object.fromEntries(
        envs.map((e) => [
          `servers/${e.label}.conf`,
          `server {\n  listen 127.0.0.1:${port};\n  server_name ${e.label}.gitway.test;\n${e.releaseHash.startsWith("bad") ? "  no_such_directive on;\n" : ""}  location / { return 200 "${e.releaseHash} ${e.values.consumers.flatMap((c) => c.keyHashes).join(",")}"; }\n}\n`,
        ]),
      ),
    },
    hybridRoutes: [],
  });

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!().catch(() => {});
});

/** A GET retried (at most twice) when its keep-alive connection closed before any answer, as HTTP allows for an idempotent request. */
async function retryClosed<T>(get: () => Promise<T>, retried: () => void): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await get();
    } catch (e) {
      if (attempt === 2 || !["UND_ERR_SOCKET", "ECONNRESET"].includes((e as { code?: string }).code ?? "")) throw e;
      retried();
    }
  }
}

async function ask(port: number, label: string): Promise<{ status: number; body: string }> {
  // A connection of its own: a reload closes the keep-alive connections idle in the old workers.
  const res = await request(`http://127.0.0.1:${port}/`, { headers: { host: `${label}.gitway.test` }, headersTimeout: 2_000, bodyTimeout: 2_000, reset: true });
  return { status: res.statusCode, body: await res.body.text() };
}

/** Polls until `check` holds, at most `ms`; returns how long it took. */
async function within(ms: number, check: () => Promise<boolean>): Promise<number> {
  const began = Date.now();
  while (Date.now() - began < ms) {
    if (await check().catch(() => false)) return Date.now() - began;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`not within ${ms} ms`);
}

describeEachDriver("the nginx agent", (driver) => {
  async function setup() {
    const store: Store & { url?: string } = await driver.open();
    cleanup.push(() => store.close());
    await migrateStore(store);
    const records = new StoreRecords(store.db, { label: (o, r, e) => `${o}-${r}-${e}`, url: (l) => `http://${l}.gitway.test/` }, undefined);
    const repositoryId = await records.repository("acme", "shop");
    const files = shopFiles({ upstream: "http://127.0.0.1:9" });
    const deploy = async (name: string, kind: "production" | "stage" | "preview", releaseHash: string) => {
      const env = await records.environment(repositoryId, { name, kind, ...(kind === "preview" ? { pullRequest: 1 } : {}) });
      await records.recordDeployment({ environmentId: env.id, commitSha: "a".repeat(40), releaseHash, files, trigger: "push", actor: "test", outcome: "succeeded" });
      return env;
    };
    return { store, records, deploy };
  }

  async function agent(s: Awaited<ReturnType<typeof setup>>, instanceId: string, port: number) {
    const root = mkdtempSync(join(tmpdir(), "gitway-nginx-"));
    const dir = new ConfigDir(root);
    const a = new NginxAgent({ store: s.store, databaseUrl: s.store.url, records: s.records, dir, control: new ChildNginx(DEFAULT_NGINX_BIN, dir, () => {}), render: tinyRenderer(port), kinds: new Set(["stage", "production"]), instanceId, log: () => {} });
    cleanup.push(async () => (await a.close(), rmSync(root, { recursive: true, force: true })));
    await a.start();
    return a;
  }

  it("serves production and stages (not previews), and a swapped release answers within 2 s", async () => {
    const s = await setup();
    await s.deploy("production", "production", "release-one");
    await s.deploy("staging", "stage", "stage-one");
    await s.deploy("pr-1", "preview", "preview-one");
    const port = await freePort();
    await agent(s, "nginx-a", port);
    expect(await ask(port, "acme-shop-production")).toEqual({ status: 200, body: "release-one " });
    expect((await ask(port, "acme-shop-staging")).body).toBe("stage-one ");
    expect((await ask(port, "acme-shop-pr-1")).status).toBe(404);

    await s.deploy("production", "production", "release-two");
    const took = await within(2_000, async () => (await ask(port, "acme-shop-production")).body === "release-two ");
    expect(took).toBeLessThan(2_000);
    await within(2_000, async () => (await engineReports(s.store.db)).get("acme-shop-production")?.[0]?.releaseHash === "release-two");
    expect((await engineReports(s.store.db)).get("acme-shop-production")).toMatchObject([{ instanceId: "nginx-a", engine: "nginx", releaseHash: "release-two", lastError: null }]);
  });

  it("keeps serving the last good release when nginx refuses the new one, and records nginx's own message", async () => {
    const s = await setup();
    await s.deploy("production", "production", "release-one");
    await s.deploy("staging", "stage", "stage-one");
    const port = await freePort();
    await agent(s, "nginx-a", port);

    await s.deploy("production", "production", "bad-release");
    await s.deploy("staging", "stage", "stage-two");
    // The good change beside it is applied; the refused one is not.
    await within(2_000, async () => (await ask(port, "acme-shop-staging")).body === "stage-two ");
    await within(2_000, async () => Boolean((await engineReports(s.store.db)).get("acme-shop-production")?.[0]?.lastError));
    expect((await ask(port, "acme-shop-production")).body).toBe("release-one ");
    const [report] = (await engineReports(s.store.db)).get("acme-shop-production")!;
    expect(report).toMatchObject({ releaseHash: "release-one" });
    expect(report!.lastError).toMatch(/^nginx refused release bad-release: \[emerg\] unknown directive "no_such_directive" in gen\/\d+\/servers\/acme-shop-production\.conf:4$/);

    await s.deploy("production", "production", "release-three");
    await within(2_000, async () => (await ask(port, "acme-shop-production")).body === "release-three ");
    await within(2_000, async () => (await engineReports(s.store.db)).get("acme-shop-production")?.[0]?.lastError === null);
  });

  it("lets two agents, each beside its own nginx, follow the same store and report per instance", async () => {
    const s = await setup();
    await s.deploy("production", "production", "release-one");
    const [portA, portB] = [await freePort(), await freePort()];
    await agent(s, "nginx-a", portA);
    await agent(s, "nginx-b", portB);
    await s.deploy("production", "production", "release-two");
    await within(2_000, async () => (await ask(portA, "acme-shop-production")).body === "release-two " && (await ask(portB, "acme-shop-production")).body === "release-two ");
    await within(2_000, async () => (await engineReports(s.store.db)).get("acme-shop-production")?.every((r) => r.releaseHash === "release-two") === true);
    expect((await engineReports(s.store.db)).get("acme-shop-production")!.map((r) => r.instanceId)).toEqual(["nginx-a", "nginx-b"]);
  });

  it("drops a key from nginx within 2 s of its revocation", async () => {
    const s = await setup();
    const production = await s.deploy("production", "production", "release-one");
    await s.store.db.execute(sql`INSERT INTO api_consumers (environment_id, name) VALUES (${production.id}, 'alice')`);
    const [consumer] = rowsOf<{ id: number }>(await s.store.db.execute(sql`SELECT id FROM api_consumers WHERE name = 'alice'`));
    await s.store.db.execute(sql`INSERT INTO api_keys (consumer_id, key_hash) VALUES (${consumer!.id}, 'hash-of-alices-key')`);
    const port = await freePort();
    await agent(s, "nginx-a", port);
    expect((await ask(port, "acme-shop-production")).body).toBe("release-one hash-of-alices-key");

    // What a revocation does to the store: the key row goes and every gateway hears of it.
    await s.store.db.execute(sql`DELETE FROM api_keys WHERE consumer_id = ${consumer!.id}`);
    if (s.store.driver === "pg") await s.store.db.execute(sql`SELECT pg_notify('gitway_key_revoked', 'hash-of-alices-key')`);
    await within(2_000, async () => (await ask(port, "acme-shop-production")).body === "release-one ");
  });

  it("stops its nginx and forgets its rows when it closes", async () => {
    const s = await setup();
    await s.deploy("production", "production", "release-one");
    const port = await freePort();
    const a = await agent(s, "nginx-a", port);
    expect(a.served()).toEqual(new Map([["acme-shop-production", "release-one"]]));
    await a.close();
    await expect(ask(port, "acme-shop-production")).rejects.toThrow();
    expect((await engineReports(s.store.db)).size).toBe(0);
  });
});

describeEachDriver(
  "the nginx agent driving an operator's nginx",
  (driver) => {
    it("tests each generation with nginx -t, points current at it, then runs the reload command; a refused one never reaches the command", async () => {
      const store = await driver.open();
      cleanup.push(() => store.close());
      await migrateStore(store);
      const records = new StoreRecords(store.db, { label: (o, r, e) => `${o}-${r}-${e}`, url: (l) => `http://${l}.gitway.test/` }, undefined);
      const env = await records.environment(await records.repository("acme", "shop"), { name: "production", kind: "production" });
      const deploy = (releaseHash: string) => records.recordDeployment({ environmentId: env.id, commitSha: "a".repeat(40), releaseHash, files: shopFiles({ upstream: "http://127.0.0.1:9" }), trigger: "push", actor: "test", outcome: "succeeded" });
      await deploy("release-one");
      const root = mkdtempSync(join(tmpdir(), "gitway-nginx-"));
      cleanup.push(async () => rmSync(root, { recursive: true, force: true }));
      const dir = new ConfigDir(root);
      // The "reload" records which generation `current` named when it ran.
      const a = new NginxAgent({ store, databaseUrl: undefined, records, dir, control: new OperatorNginx(DEFAULT_NGINX_BIN, dir, `readlink ${root}/current >> ${root}/reloads`), render: tinyRenderer(await freePort()), kinds: new Set(["production"]), instanceId: "edge", log: () => {}, pollMs: 50 });
      cleanup.push(() => a.close());
      await a.start();
      const reloads = () => readFileSync(join(root, "reloads"), "utf8").trim().split("\n");
      expect(reloads()).toEqual(["gen/1"]);

      await deploy("bad-release");
      await within(2_000, async () => Boolean((await engineReports(store.db)).get("acme-shop-production")?.[0]?.lastError));
      await deploy("release-two");
      await within(2_000, async () => (await engineReports(store.db)).get("acme-shop-production")?.[0]?.releaseHash === "release-two");
      expect(reloads()).toHaveLength(2);
      expect(readFileSync(join(root, "current", "servers", "acme-shop-production.conf"), "utf8")).toContain("release-two");
    });
  },
  [pglite],
);

describeEachDriver(
  "the nginx agent under load",
  (driver) => {
    it("swaps production's release 10 times while clients keep requesting, and no request fails (a GET on a connection closed at a reload retried)", async () => {
      const store: Store & { url?: string } = await driver.open();
      cleanup.push(() => store.close());
      await migrateStore(store);
      // Two upstreams, taken in turn: every swap changes nginx's configuration, so every swap reloads it.
      const upstreamUrls: string[] = [];
      for (let i = 0; i < 2; i++) {
        const upstream = createHttpServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}'));
        await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
        cleanup.push(() => new Promise((r) => upstream.close(r)));
        upstreamUrls.push(`http://127.0.0.1:${(upstream.address() as { port: number }).port}`);
      }
      const records = new StoreRecords(store.db, { label: (o, r, e) => `${o}-${r}-${e}`, url: (l) => `http://${l}.gitway.test/` }, undefined);
      const env = await records.environment(await records.repository("acme", "shop"), { name: "production", kind: "production" });
      const deploy = (n: number) => records.recordDeployment({ environmentId: env.id, commitSha: "a".repeat(40), releaseHash: `release-${n}`, files: shopFiles({ upstream: upstreamUrls[n % 2]!, products: true }), trigger: "push", actor: "test", outcome: "succeeded" });
      await deploy(0);
      const port = await freePort();
      const root = mkdtempSync(join(tmpdir(), "gitway-nginx-"));
      const dir = new ConfigDir(root);
      // The real renderer this time: the files nginx reloads are what production would get.
      const a = new NginxAgent({ store, databaseUrl: store.url, records, dir, control: new ChildNginx(DEFAULT_NGINX_BIN, dir, () => {}), render: renderAllWith({ listen: { port, address: "127.0.0.1" }, nodeGatewayUrl: "http://127.0.0.1:9", baseDomain: "gitway.test" }), kinds: new Set(["production"]), instanceId: "edge", log: () => {} });
      cleanup.push(async () => (await a.close(), rmSync(root, { recursive: true, force: true })));
      await a.start();
      const generation = () => readlinkSync(join(root, "current"));
      const first = generation();

      let ok = 0;
      let retried = 0;
      const failed: string[] = [];
      let loading = true;
      const until = Date.now() + 30_000;
      const get = () => request(`http://127.0.0.1:${port}/api/v1/products`, { headers: { host: "acme-shop-production.gitway.test" }, headersTimeout: 5_000, bodyTimeout: 5_000 });
      const client = async () => {
        while (loading && Date.now() < until) {
          try {
            // A reload closes keep-alive connections idle in the old workers; a GET sent on one at that
            // instant sees it close before any answer, which HTTP lets a client retry (RFC 9112 9.3.1).
            const res = await retryClosed(get, () => retried++);
            await res.body.text();
            if (res.statusCode === 200) ok++;
            else failed.push(String(res.statusCode));
          } catch (e) {
            failed.push((e as Error).message);
          }
        }
      };
      const clients = Array.from({ length: 4 }, client);
      for (let n = 1; n <= 10; n++) {
        await deploy(n);
        await within(5_000, async () => a.served().get("acme-shop-production") === `release-${n}`);
      }
      loading = false;
      await Promise.all(clients);
      expect(failed).toEqual([]);
      expect(ok).toBeGreaterThan(retried);
      expect(Number(generation().split("/")[1]) - Number(first.split("/")[1])).toBeGreaterThanOrEqual(10);
    }, 60_000);
  },
  [pglite],
);

describeEachDriver(
  "the nginx agent after a lost database connection",
  (driver) => {
    it("listens again and re-reads every release, so a change made while it was away is served", async () => {
      const store: Store & { url?: string } = await driver.open();
      cleanup.push(() => store.close());
      await migrateStore(store);
      const records = new StoreRecords(store.db, { label: (o, r, e) => `${o}-${r}-${e}`, url: (l) => `http://${l}.gitway.test/` }, undefined);
      const env = await records.environment(await records.repository("acme", "shop"), { name: "production", kind: "production" });
      const deploy = (releaseHash: string) => records.recordDeployment({ environmentId: env.id, commitSha: "a".repeat(40), releaseHash, files: shopFiles({ upstream: "http://127.0.0.1:9" }), trigger: "push", actor: "test", outcome: "succeeded" });
      await deploy("release-one");
      const port = await freePort();
      const root = mkdtempSync(join(tmpdir(), "gitway-nginx-"));
      const dir = new ConfigDir(root);
      // Polling off: only LISTEN, and the re-read after reconnecting, can bring the change.
      const a = new NginxAgent({ store, databaseUrl: store.url, records, dir, control: new ChildNginx(DEFAULT_NGINX_BIN, dir, () => {}), render: tinyRenderer(port), kinds: new Set(["production"]), instanceId: "edge", log: () => {}, pollMs: 600_000 });
      cleanup.push(async () => (await a.close(), rmSync(root, { recursive: true, force: true })));
      await a.start();

      await store.db.execute(sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ${AGENT_APPLICATION_NAME} AND datname = current_database()`);
      await deploy("release-two");
      await within(5_000, async () => (await ask(port, "acme-shop-production")).body === "release-two ");
      // And it listens again: the next change arrives by notification.
      await within(5_000, async () => rowsOf<{ n: number }>(await store.db.execute(sql`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = ${AGENT_APPLICATION_NAME} AND datname = current_database()`))[0]!.n === 1);
      await deploy("release-three");
      await within(2_000, async () => (await ask(port, "acme-shop-production")).body === "release-three ");
    });
  },
  [postgres],
);

describeEachDriver(
  "the nginx agent when nginx cannot start",
  (driver) => {
    it("fails its start with nginx's own message (a port in use), and leaves no nginx behind", async () => {
      const store = await driver.open();
      cleanup.push(() => store.close());
      await migrateStore(store);
      const records = new StoreRecords(store.db, { label: (o, r, e) => `${o}-${r}-${e}`, url: (l) => `http://${l}.gitway.test/` }, undefined);
      const taken = createNetServer();
      await new Promise<void>((r) => taken.listen(0, "127.0.0.1", r));
      cleanup.push(() => new Promise((r) => taken.close(r)));
      const root = mkdtempSync(join(tmpdir(), "gitway-nginx-"));
      cleanup.push(async () => rmSync(root, { recursive: true, force: true }));
      const dir = new ConfigDir(root);
      const a = new NginxAgent({ store, databaseUrl: undefined, records, dir, control: new ChildNginx(DEFAULT_NGINX_BIN, dir, () => {}), render: tinyRenderer((taken.address() as { port: number }).port), kinds: new Set(["production"]), instanceId: "edge", log: () => {} });
      const failure = await a.start().then(() => undefined, (e: unknown) => e);
      expect(failure).toBeInstanceOf(NginxStartError);
      expect((failure as Error).message).toMatch(/^nginx did not start: .*\[emerg\] bind\(\) to 127\.0\.0\.1:\d+ failed \(98: Address already in use\)/);
      await a.close();
    });
  },
  [pglite],
);
