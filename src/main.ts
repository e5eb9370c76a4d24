#!/usr/bin/env node
/**
 * `npm start`: 1. read the settings; 2. start the store, gateway, app server and worker (with
 * GATEWAY_WORKERS, gateway processes share the gateway port; GITWAY_ROLE=app leaves the gateway
 * out, GITWAY_ROLE=gateway runs only it); 3. stop cleanly on SIGTERM/SIGINT.
 */
import cluster from "node:cluster";
import { runGatewayRole } from "./app/gateway-role.js";
import { runGatewayWorker } from "./app/gateway-worker.js";
import { createLogger } from "./app/log.js";
import { readAppSettings, SettingsError } from "./app/settings.js";
import { startGitway } from "./app/start.js";
import { startCluster } from "./gateway/index.js";

async function main(): Promise<void> {
  const settings = readAppSettings(process.env);
  const log = createLogger(settings.logLevel);
  const stops: (() => Promise<unknown>)[] = [];
  if (settings.gatewayWorkers > 1 && !cluster.isPrimary) {
    stops.push((await runGatewayWorker(settings, log)).close);
  } else if (settings.role === "gateway") {
    // Only the gateway: the first process migrates and answers the probes; it or its workers serve.
    const workers = settings.gatewayWorkers > 1;
    stops.push((await runGatewayRole(settings, log, { serveGateway: !workers })).close);
    if (workers) {
      const handle = await startCluster({ workers: settings.gatewayWorkers, runWorker: async () => {}, log });
      if (handle) stops.unshift(() => handle.stop());
      log("info", `${settings.gatewayWorkers} gateway processes share port ${settings.gatewayPort}`);
    }
  } else {
    const workers = settings.gatewayWorkers > 1;
    // The app migrates before any gateway worker opens the database. GITWAY_ROLE=app serves no gateway port.
    const running = await startGitway(settings, process.env, { log, listenGateway: !workers && settings.role !== "app" });
    stops.push(() => running.close());
    if (workers) {
      const handle = await startCluster({ workers: settings.gatewayWorkers, runWorker: async () => {}, log });
      if (handle) stops.unshift(() => handle.stop());
      log("info", `${settings.gatewayWorkers} gateway processes share port ${settings.gatewayPort}`);
    }
  }
  // The first signal stops taking jobs and lets the running ones finish or hands their leases back
  // (within 10 s); a second one means "now".
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      log("warn", `${signal} again: exiting at once`);
      process.exit(signal === "SIGINT" ? 130 : 143);
    }
    stopping = true;
    log("info", `${signal}: stopping (running jobs get up to 8 s to finish)`);
    void Promise.all(stops.map((s) => s().catch(() => {}))).then(() => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((e: unknown) => {
  // A bad setting or a data folder in use is one line saying what to do; anything else keeps its stack for the operator.
  const told = e instanceof SettingsError || ["STORE_LOCKED", "NGINX_START"].includes(String((e as { code?: unknown } | null)?.code));
  process.stderr.write(told ? `gitway: ${(e as Error).message}\n` : `gitway: cannot start: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
