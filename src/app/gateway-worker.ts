import { environmentLabel, GatewayDeployer } from "../gateway/index.js";
import { addUsage, openStore, revokedKeyHashes, StoreRecords } from "../store/index.js";
import { UsageFlusher } from "./usage-flusher.js";
import type { Log } from "./log.js";
import { restoreReleases } from "./restore.js";
import { listenToStore } from "./store-notifications.js";
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

  const onNotify = (channel: string, payload: string) => {
    if (channel === "gitway_key_revoked") {
      for (const h of payload.split(",")) if (h) revokedKeys.add(h);
      return;
    }
    void restoreReleases(records, deployer, payload).then(
      ({ restored }) => {
        if (!restored.includes(payload)) gateway.remove(payload);
      },
      (e: unknown) => log("warn", `gateway worker ${process.pid}: ${payload} not reloaded: ${e instanceof Error ? e.message : String(e)}`),
    );
  };

  // Listen before the full load, so no change between the two is missed; after a lost connection, load all again.
  const listening = await listenToStore({ databaseUrl: settings.databaseUrl!, channels: ["gitway_release", "gitway_key_revoked"], applicationName: LISTENER_APPLICATION_NAME, name: `gateway worker ${process.pid}: release`, onNotify, resync: reloadAll, log });
  await reloadAll();
  const port = await listen(gateway.server, settings.gatewayPort, settings.gatewayHost);
  log("info", `gateway worker ${process.pid} on http://${settings.gatewayHost}:${port}`);
  return {
    url: `http://${settings.gatewayHost}:${port}`,
    close: async () => {
      await listening.close();
      await gateway.close();
      await flusher.stop();
      await close();
      await store.close();
    },
  };
}
