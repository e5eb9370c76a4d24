/**
 * npm run bench:nginx — the gateway agent keeping a real nginx (Debian's, with njs) in step:
 *   reload under load: SWAPS releases of production swapped one after another (each waits until the
 *     agent applied it) while CONCURRENCY loopback clients keep requesting; every failed request counted.
 *   1,000 environments: rendered (renderNginx), written as one generation + nginx -t, made current +
 *     reloaded, until the last environment answers with its new release; and the agent's whole sync
 *     (store read included) for all of them.
 * The store is PostgreSQL at DATABASE_URL (a fresh database) or in-memory PGlite. Prints figures;
 * the lead re-measures on a quiet machine. Every loop is bounded in count and in time.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createServer as netServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, request } from "undici";
import { readConfig } from "../src/config/index.js";
import { ChildNginx, ConfigDir, DEFAULT_NGINX_BIN, NginxAgent, renderAllWith, testGeneration, type AgentEnvironment } from "../src/nginx/index.js";
import { migrateStore, openStore, StoreRecords, type Store } from "../src/store/index.js";
import { freshDatabase } from "./fresh-postgres.js";

const SWAPS = Number(process.env.BENCH_SWAPS ?? 50);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const ENVIRONMENTS = Number(process.env.BENCH_ENVIRONMENTS ?? 1000);
const BASE = "bench.test";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = netServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A plain OpenAPI document forwarding GET /items (no policies: nginx serves it itself) to `upstream`. */
function files(upstream: string, version: number): Record<string, string> {
  return {
    "openapi.json": JSON.stringify({
      openapi: "3.1.0",
      info: { title: "bench", version: `1.0.${version}` },
      servers: [{ url: upstream }],
      paths: { "/items": { get: { operationId: "listItems", responses: { "200": { description: "ok" } } } } },
    }),
  };
}

async function openBenchStore(): Promise<Store> {
  if (!process.env.DATABASE_URL) return openStore({ dataDir: "memory://" });
  const db = await freshDatabase();
  const store = await openStore({ databaseUrl: db.url });
  return { ...store, close: async () => (await store.close(), await db.drop()) };
}

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

async function main(): Promise<void> {
  // Two upstreams taken in turn: every swap changes nginx's configuration, so every swap is a reload.
  const upstreams: Server[] = [];
  const urls: string[] = [];
  for (let i = 0; i < 2; i++) {
    const upstream: Server = createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}'));
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    upstreams.push(upstream);
    urls.push(`http://127.0.0.1:${(upstream.address() as { port: number }).port}`);
  }
  const store = await openBenchStore();
  await migrateStore(store);
  const records = new StoreRecords(store.db, { label: (o, r, e) => `${o}-${r}-${e}`, url: (l) => `http://${l}.${BASE}/` }, undefined);
  const repositoryId = await records.repository("bench", "api");
  const production = await records.environment(repositoryId, { name: "production", kind: "production" });
  const deploy = (environmentId: number, hash: string, version: number) => records.recordDeployment({ environmentId, commitSha: "b".repeat(40), releaseHash: hash, files: files(urls[version % 2]!, version), trigger: "bench", actor: "bench", outcome: "succeeded" });
  await deploy(production.id, "swap-0", 0);

  const port = await freePort();
  const root = mkdtempSync(join(tmpdir(), "gitway-bench-nginx-"));
  const dir = new ConfigDir(root);
  const layout = { listen: { port, address: "127.0.0.1" }, nodeGatewayUrl: "http://127.0.0.1:9", baseDomain: BASE };
  const control = new ChildNginx(DEFAULT_NGINX_BIN, dir, (l, m) => process.stderr.write(`${l}: ${m}\n`));
  const agent = new NginxAgent({ store, databaseUrl: undefined, records, dir, control, render: renderAllWith(layout), kinds: new Set(["production", "stage"]), instanceId: "bench", log: (l, m) => l !== "info" && process.stderr.write(`${l}: ${m.slice(0, 300)}\n`), pollMs: 600_000 });
  try {
    await agent.start();

    // 1. Reload under load.
    const dispatcher = new Agent({ connections: CONCURRENCY, keepAliveTimeout: 1_000 });
    let ok = 0;
    let failed = 0;
    let retried = 0;
    const failures = new Map<string, number>();
    let loading = true;
    const deadline = Date.now() + 120_000;
    const client = async () => {
      while (loading && Date.now() < deadline) {
        try {
          const get = () => request(`http://127.0.0.1:${port}/items`, { headers: { host: `bench-api-production.${BASE}` }, dispatcher, headersTimeout: 5_000, bodyTimeout: 5_000 });
          // A reload closes keep-alive connections idle in the old workers; a GET sent on one at that
          // instant sees it close before any answer, which HTTP lets a client retry (counted apart).
          const res = await retryClosed(get, () => retried++);
          await res.body.text();
          if (res.statusCode === 200) ok++;
          else {
            failed++;
            failures.set(String(res.statusCode), (failures.get(String(res.statusCode)) ?? 0) + 1);
          }
        } catch (e) {
          failed++;
          const why = (e as { code?: string }).code ?? (e as Error).message;
          failures.set(why, (failures.get(why) ?? 0) + 1);
        }
      }
    };
    const clients = Array.from({ length: CONCURRENCY }, client);
    const swapTimes: number[] = [];
    const began = Date.now();
    for (let i = 1; i <= SWAPS && Date.now() < deadline; i++) {
      const t = performance.now();
      await deploy(production.id, `swap-${i}`, i);
      // The agent is told at once (as LISTEN would tell it); polling is off here so each sync is timed alone.
      await agent.sync();
      if (agent.served().get("bench-api-production") !== `swap-${i}`) throw new Error(`swap ${i} was not applied`);
      swapTimes.push(performance.now() - t);
    }
    loading = false;
    await Promise.all(clients);
    await dispatcher.close();
    const seconds = (Date.now() - began) / 1000;
    swapTimes.sort((a, b) => a - b);
    const pct = (p: number) => swapTimes[Math.min(swapTimes.length - 1, Math.floor(p * swapTimes.length))]!.toFixed(0);
    process.stdout.write(`reload under load: ${swapTimes.length} swaps in ${seconds.toFixed(1)} s, ${ok} requests answered 200 (${(ok / seconds).toFixed(0)}/s, ${CONCURRENCY} clients), ${failed} failed, ${retried} GET retries on keep-alive connections closed at a reload${failures.size ? ` (${[...failures].map(([k, v]) => `${k}: ${v}`).join(", ")})` : ""}\n`);
    process.stdout.write(`  deploy recorded -> rendered, tested, reloaded: p50 ${pct(0.5)} ms, p95 ${pct(0.95)} ms, max ${pct(1)} ms\n`);

    // 2. 1,000 environments.
    const ids: number[] = [];
    for (let i = 0; i < ENVIRONMENTS; i++) ids.push((await records.environment(repositoryId, { name: `stage-${i}`, kind: "stage" })).id);
    for (let i = 0; i < ENVIRONMENTS; i++) await deploy(ids[i]!, `many-1-${i}`, 1);
    const config = readConfig(new Map(Object.entries(files(urls[0]!, 2)))).config!;
    const envs: AgentEnvironment[] = Array.from({ length: ENVIRONMENTS }, (_, i) => ({ label: `bench-api-stage-${i}`, kind: "stage", releaseHash: `x-${i}`, config, values: { name: `stage-${i}`, vars: {}, secretNames: [], consumers: [] } }));
    const render = renderAllWith(layout);
    let t = performance.now();
    const rendered = render(envs);
    const renderMs = performance.now() - t;
    const scratch = new ConfigDir(mkdtempSync(join(tmpdir(), "gitway-bench-nginx-check-")));
    t = performance.now();
    const generation = scratch.write(rendered.files);
    const writeMs = performance.now() - t;
    t = performance.now();
    const refused = await testGeneration(DEFAULT_NGINX_BIN, scratch, generation);
    const testMs = performance.now() - t;
    rmSync(scratch.root, { recursive: true, force: true });
    if (refused) throw new Error(`nginx refused 1,000 environments: ${refused}`);

    // The whole path the agent takes for them: store read, render, write, nginx -t, swap, reload, served.
    t = performance.now();
    await agent.sync();
    const syncMs = performance.now() - t;
    const last = `bench-api-stage-${ENVIRONMENTS - 1}`;
    for (let i = 0; i < ENVIRONMENTS; i++) await deploy(ids[i]!, `many-2-${i}`, 2);
    t = performance.now();
    await agent.sync();
    const until = Date.now() + 30_000;
    let answered = false;
    while (!answered && Date.now() < until) {
      const res = await request(`http://127.0.0.1:${port}/items`, { headers: { host: `${last}.${BASE}` } }).catch(() => undefined);
      answered = res?.statusCode === 200;
      await res?.body.text();
    }
    const resyncMs = performance.now() - t;
    // One release swapped among them, as a notification names it: what "within 2 s" means for a big fleet.
    await deploy(ids[0]!, "one-of-many", 3);
    t = performance.now();
    await agent.sync([`bench-api-stage-0`]);
    const oneMs = performance.now() - t;
    process.stdout.write(`${ENVIRONMENTS} environments: render ${renderMs.toFixed(0)} ms (${(Object.values(rendered.files).join("").length / 1024).toFixed(0)} KiB), write ${writeMs.toFixed(0)} ms, nginx -t ${testMs.toFixed(0)} ms; render + write + test + swap + reload: ${(renderMs + writeMs + testMs).toFixed(0)} ms before the reload signal\n`);
    process.stdout.write(`  agent sync with every one new (store read included): ${syncMs.toFixed(0)} ms; again after a new release of each, to the last one answering: ${resyncMs.toFixed(0)} ms (target 2,000 ms)\n`);
    process.stdout.write(`  one release swapped among them (its label re-read, the whole configuration rendered, tested, reloaded): ${oneMs.toFixed(0)} ms\n`);
  } finally {
    await agent.close();
    await store.close();
    for (const u of upstreams) u.close();
    rmSync(root, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench:nginx failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
