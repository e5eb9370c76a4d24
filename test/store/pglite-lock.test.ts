import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/index.js";
import { gitway } from "../cli/run-cli.js";

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

/** Another process holding the folder open; resolves with its pid once it has. */
async function holder(dir: string): Promise<{ pid: number; kill: () => Promise<void> }> {
  const script = fileURLToPath(new URL("./fixtures/hold-pglite.ts", import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", script, dir], { stdio: ["ignore", "pipe", "inherit"] });
  const kill = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGKILL");
    });
  cleanup.push(kill);
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", (c: Buffer) => resolve(c.toString().trim()));
    child.once("exit", (code) => reject(new Error(`holder exited ${code}`)));
  });
  expect(line).toBe(`open ${child.pid}`);
  return { pid: child.pid!, kill };
}

describe("a PGlite data folder", () => {
  it("refuses a second process with an error naming the process that holds it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gitway-pglite-"));
    const other = await holder(dir);
    await expect(openStore({ dataDir: dir })).rejects.toMatchObject({ code: "STORE_LOCKED", message: expect.stringContaining(`in use by process ${other.pid}`) });
    const r = gitway(["migrate"], { env: { GITWAY_DATA_DIR: dir, DATABASE_URL: "" } });
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(new RegExp(`^gitway: The data folder .* is in use by process ${other.pid}`))]);
  });

  it("is taken over once the process that held it has died, and released on close", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gitway-pglite-"));
    const other = await holder(dir);
    await other.kill();
    const store = await openStore({ dataDir: dir });
    await expect(openStore({ dataDir: dir })).rejects.toMatchObject({ code: "STORE_LOCKED" });
    await store.close();
    const again = await openStore({ dataDir: dir });
    await again.close();
  });
});
