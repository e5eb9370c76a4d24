import { createServer } from "node:http";
import { migrateStore, openStore } from "../store/index.js";
import { runGatewayWorker } from "./gateway-worker.js";
import { readiness } from "./health.js";
import type { Log } from "./log.js";
import type { AppSettings } from "./settings.js";
import { listen } from "./start.js";

/**
 * GITWAY_ROLE=gateway, the first process: it migrates the store (under the migration lock, as an
 * app process does), serves /healthz and /readyz on PORT for the probes and nothing else there,
 * and serves the gateway port itself, or leaves it to GATEWAY_WORKERS processes the caller forks.
 * It runs no webhook endpoint, no job worker and no poller: app processes deploy, it serves.
 */
export async function runGatewayRole(settings: AppSettings, log: Log, options: { serveGateway: boolean }): Promise<{ close: () => Promise<void> }> {
  const store = await openStore({ databaseUrl: settings.databaseUrl!, poolSize: 1 });
  const closers: (() => Promise<unknown>)[] = [() => store.close()];
  try {
    const migrated = await migrateStore(store);
    if (migrated.applied > 0) log("info", `applied ${migrated.applied} migration(s) on PostgreSQL`);
    const health = createServer((req, res) => {
      void (async () => {
        if (req.url === "/healthz") {
          res.writeHead(200, { "content-type": "application/json" });
          res.end(JSON.stringify({ ok: true, role: "gateway" }));
          return;
        }
        if (req.url === "/readyz") {
          const ready = await readiness(store, undefined);
          res.writeHead(ready.ok ? 200 : 503, { "content-type": "application/json", "cache-control": "no-store" });
          res.end(JSON.stringify(ready));
          return;
        }
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: "not found: a GITWAY_ROLE=gateway process serves only /healthz and /readyz here, and environments on the gateway port" }));
      })();
    });
    const port = await listen(health, settings.port, settings.host);
    closers.unshift(() => new Promise<void>((r) => (health.close(() => r()), health.closeAllConnections())));
    let served = `gateway on port ${settings.gatewayPort} in GATEWAY_WORKERS processes`;
    if (options.serveGateway) {
      const gateway = await runGatewayWorker(settings, log);
      closers.unshift(gateway.close);
      served = `gateway on ${gateway.url}`;
    }
    log("info", `gateway role: health on http://${settings.host}:${port} (/healthz, /readyz); ${served}; no webhooks, no jobs, no polling`);
    return {
      close: async () => {
        for (const c of closers) await c().catch(() => {});
      },
    };
  } catch (e) {
    for (const c of closers) await c().catch(() => {});
    throw e;
  }
}
