import pg from "pg";
import { environmentLabel, GatewayDeployer } from "../gateway/index.js";
import { addUsage, openStore, revokedKeyHashes, StoreRecords } from "../store/index.js";
import { UsageFlusher } from "./usage-flusher.js";
import type { Log } from "./log.js";
import { restoreReleases } from "./restore.js";
import { environmentUrl, type AppSettings } from "./settings.js";
import { buildGateway, listen, pipelineDeployer, secretKeyFromSetting } from "./start.js";

/** The application_name of a gateway worker's LISTEN connection (operators, and a test, find it by this). */
export const LISTENER_APPLICATION_NAME = "gitway-gateway-listener";

/**
 * One of GATEWAY_WORKERS gateway processes sharing the gateway port: it serves every deployed
 * release, rebuilt from PostgreSQL, and learns of each change through LISTEN gitway_release (a
 * trigger announces every environment whose deployed release changes). Rate limits are shared
 * through Redis; the app process does the deploying. When the LISTEN connection is lost, changes
 * made meanwhile were never announced: the worker reconnects (backing off up to 5 s), listens
 * again and then re-reads every release, so none is served stale for longer than the outage.
 */
export async function runGatewayWorker(settings: AppSettings, log: Log): Promise<{ url: string; close: () => Promise<void> }> {
  const store = await openStore({ databaseUrl: settings.databaseUrl!, poolSize: 2 });
  const { gateway, services, revokedKeys, usage, close } = await buildGateway(settings, log);
  // Each process writes its own counts; the store adds them up.
  const flusher = new UsageFlusher({ counter: usage, write: (rows) => addUsage(store.db, rows), log });
  flusher.start();
  const secretKey = settings.secretKey ? secretKeyFromSetting(settings.secretKey) : undefined;
  const records = new StoreRecords(store.db, { label: environmentLabel, url: (label) => environmentUrl(settings, label) }, secretKey);
  const deployer = pipelineDeployer(new GatewayDeployer(gateway, services), log);
  let closed = false;
  let listener: pg.Client | undefined;

  /**
   * Rebuilds every release the store says is deployed and drops what it no longer lists. Revoked
   * keys are read first: one revoked while this process was not listening stays refused even in a
   * release that cannot be rebuilt now (and so keeps serving as it was built).
   */
  const reloadAll = async () => {
    for (const h of await revokedKeyHashes(store.db)) revokedKeys.add(h);
    const { restored, failed } = await restoreReleases(records, deployer);
    for (const f of failed) log("warn", `environment ${f.label} could not be restored: ${f.reason}`);
    const keep = new Set([...restored, ...failed.map((f) => f.label)]);
    for (const label of gateway.labels()) if (!keep.has(label)) gateway.remove(label);
  };

  // Listen before each full load, so no change between the two is missed.
  const connect = async (): Promise<void> => {
    const client = new pg.Client({ connectionString: settings.databaseUrl, application_name: LISTENER_APPLICATION_NAME, connectionTimeoutMillis: 5_000 });
    let lost = false;
    const onLost = (why: string) => {
      if (lost || closed) return;
      lost = true;
      log("warn", `gateway worker ${process.pid}: release notifications lost (${why}); reconnecting`);
      client.end().catch(() => {});
      void reconnect();
    };
    client.on("error", (e) => onLost(e.message));
    client.on("end", () => onLost("connection ended"));
    client.on("notification", (n) => {
      if (n.channel === "gitway_key_revoked") {
        for (const h of (n.payload ?? "").split(",")) if (h) revokedKeys.add(h);
        return;
      }
      const label = n.payload ?? "";
      void restoreReleases(records, deployer, label).then(
        ({ restored }) => {
          if (!restored.includes(label)) gateway.remove(label);
        },
        (e: unknown) => log("warn", `gateway worker ${process.pid}: ${label} not reloaded: ${e instanceof Error ? e.message : String(e)}`),
      );
    });
    try {
      await client.connect();
      await client.query("LISTEN gitway_release");
      await client.query("LISTEN gitway_key_revoked");
    } catch (e) {
      lost = true;
      client.end().catch(() => {});
      throw e;
    }
    listener = client;
  };

  let reconnecting = false;
  const reconnect = async () => {
    if (reconnecting) return;
    reconnecting = true;
    for (let delay = 100; !closed; delay = Math.min(5_000, delay * 2)) {
      await new Promise((r) => setTimeout(r, delay));
      if (closed) break;
      try {
        await connect();
        await reloadAll();
        log("info", `gateway worker ${process.pid}: listening for releases again; every release re-read`);
        break;
      } catch (e) {
        const half = listener;
        listener = undefined;
        await half?.end().catch(() => {});
        log("warn", `gateway worker ${process.pid}: reconnecting failed (${e instanceof Error ? e.message : String(e)}); trying again`);
      }
    }
    reconnecting = false;
  };

  await connect();
  await reloadAll();
  const port = await listen(gateway.server, settings.gatewayPort, settings.gatewayHost);
  log("info", `gateway worker ${process.pid} on http://${settings.gatewayHost}:${port}`);
  return {
    url: `http://${settings.gatewayHost}:${port}`,
    close: async () => {
      closed = true;
      await gateway.close();
      await flusher.stop();
      await listener?.end().catch(() => {});
      await close();
      await store.close();
    },
  };
}
