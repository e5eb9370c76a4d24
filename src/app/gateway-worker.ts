import pg from "pg";
import { environmentLabel, GatewayDeployer } from "../gateway/index.js";
import { openStore, StoreRecords } from "../store/index.js";
import type { Log } from "./log.js";
import { restoreReleases } from "./restore.js";
import { environmentUrl, type AppSettings } from "./settings.js";
import { buildGateway, listen, pipelineDeployer, secretKeyFromSetting } from "./start.js";

/**
 * One of GATEWAY_WORKERS gateway processes sharing the gateway port: it serves every deployed
 * release, rebuilt from PostgreSQL, and learns of each change through LISTEN gitway_release (a
 * trigger announces every environment whose deployed release changes). Rate limits are shared
 * through Redis; the app process does the deploying.
 */
export async function runGatewayWorker(settings: AppSettings, log: Log): Promise<{ close: () => Promise<void> }> {
  const store = await openStore({ databaseUrl: settings.databaseUrl!, poolSize: 2 });
  const { gateway, services, revokedKeys, close } = await buildGateway(settings, log);
  const secretKey = settings.secretKey ? secretKeyFromSetting(settings.secretKey) : undefined;
  const records = new StoreRecords(store.db, { label: environmentLabel, url: (label) => environmentUrl(settings, label) }, secretKey);
  const deployer = pipelineDeployer(new GatewayDeployer(gateway, services), log);

  // Listen before the first load, so no change between the two is missed.
  const listener = new pg.Client({ connectionString: settings.databaseUrl });
  listener.on("error", (e) => log("warn", `gateway worker ${process.pid}: release notifications lost: ${e.message}`));
  await listener.connect();
  await listener.query("LISTEN gitway_release");
  await listener.query("LISTEN gitway_key_revoked");
  listener.on("notification", (n) => {
    if (n.channel === "gitway_key_revoked") {
      for (const h of (n.payload ?? "").split(",")) if (h) revokedKeys.add(h);
      return;
    }
    const label = n.payload ?? "";
    void restoreReleases(records, deployer, label).then(({ restored }) => {
      if (!restored.includes(label)) gateway.remove(label);
    });
  });
  for (const f of (await restoreReleases(records, deployer)).failed) log("warn", `environment ${f.label} could not be restored: ${f.reason}`);
  const port = await listen(gateway.server, settings.gatewayPort, settings.gatewayHost);
  log("info", `gateway worker ${process.pid} on http://${settings.gatewayHost}:${port}`);
  return {
    close: async () => {
      await gateway.close();
      await listener.end().catch(() => {});
      await close();
      await store.close();
    },
  };
}
