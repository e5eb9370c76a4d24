/**
 * `npm run bench:start`: how long `npm start` (node dist/main.js, the embedded example) takes on
 * this machine, cold (an empty data folder: a new PGlite database, migrations, the example
 * repository) and warm (the same folder again), to listening and to the first sync, beside the
 * targets of issue 19 (listening within 5 s, the example synced within 10 s). Run `npm run build` first.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const TARGET_LISTEN_MS = 5_000;
const TARGET_SYNC_MS = 10_000;
/** No run waits longer than this. */
const LIMIT_MS = 120_000;

interface Run {
  listenMs: number;
  syncMs: number;
  steps: string[];
}

async function startOnce(dataDir: string): Promise<Run> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", GITWAY_DATA_DIR: dataDir, PORT: "0", GATEWAY_PORT: "0" }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const steps: string[] = [];
  const seen = (chunk: Buffer) => {
    out += chunk.toString();
    for (const line of chunk.toString().split("\n")) {
      const m = /"msg":"([^"]*)"/.exec(line);
      if (m && !m[1]!.startsWith("admin token")) steps.push(`${((performance.now() - t0) / 1000).toFixed(2).padStart(6)} s  ${m[1]}`);
    }
  };
  child.stdout.on("data", seen);
  child.stderr.on("data", seen);
  const stop = () => new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : (child.once("exit", () => resolve()), child.kill("SIGTERM"))));
  try {
    const appUrl = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not listening after ${LIMIT_MS} ms:\n${out}`)), LIMIT_MS);
      const check = () => {
        const m = /app on (http:\/\/[^\s;"]+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      };
      child.stdout.on("data", check);
      child.stderr.on("data", check);
      child.once("exit", (code) => reject(new Error(`exited with ${code}:\n${out}`)));
    });
    const listenMs = performance.now() - t0;
    // Synced: every environment serves what Git says (polled every 50 ms, bounded).
    for (;;) {
      if (performance.now() - t0 > LIMIT_MS) throw new Error(`not synced after ${LIMIT_MS} ms:\n${out}`);
      const res = await fetch(`${appUrl}/api/environments`, { signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
      const body = res?.ok ? ((await res.json()) as { environments: { status: string }[] }) : undefined;
      if (body && body.environments.length > 0 && body.environments.every((e) => e.status === "synced")) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    return { listenMs, syncMs: performance.now() - t0, steps };
  } finally {
    await stop();
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const verdict = (ms: number, target: number) => (ms <= target ? "within" : "OVER");

const dir = mkdtempSync(join(tmpdir(), "gitway-bench-start-"));
try {
  const cold = await startOnce(dir);
  const warm = await startOnce(dir);
  process.stdout.write(`Cold start's steps, as printed:\n${cold.steps.join("\n")}\n\n`);
  process.stdout.write("start   to listening        target   to synced           target\n");
  for (const [name, r] of [["cold", cold], ["warm", warm]] as const) {
    process.stdout.write(`${name.padEnd(6)}  ${seconds(r.listenMs).padEnd(8)} ${verdict(r.listenMs, TARGET_LISTEN_MS).padEnd(10)} ${seconds(TARGET_LISTEN_MS)}    ${seconds(r.syncMs).padEnd(8)} ${verdict(r.syncMs, TARGET_SYNC_MS).padEnd(10)} ${seconds(TARGET_SYNC_MS)}\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
