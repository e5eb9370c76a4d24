#!/usr/bin/env node
/**
 * `npm start`: 1. read the settings; 2. start the store, gateway, app server and worker;
 * 3. stop cleanly on SIGTERM/SIGINT.
 */
import { readAppSettings, SettingsError } from "./app/settings.js";
import { startGitway } from "./app/start.js";

async function main(): Promise<void> {
  const settings = readAppSettings(process.env);
  const running = await startGitway(settings, process.env);
  const stop = () => {
    void running.close().then(() => process.exit(0));
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

main().catch((e: unknown) => {
  // A bad setting is one line naming it; anything else keeps its stack for the operator.
  process.stderr.write(e instanceof SettingsError ? `gitway: ${e.message}\n` : `gitway: cannot start: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
