/**
 * `npm run bench:sizing` (after `npm run build`; needs PostgreSQL, DATABASE_URL or the local
 * default): the memory figures the Kubernetes manifests are sized from. Runs the two roles the
 * manifests run, on one fresh database: a GITWAY_ROLE=app process in Git mode and a
 * GITWAY_ROLE=gateway pod as the manifest runs it (GATEWAY_WORKERS=2, BENCH_GATEWAY_WORKERS to
 * change: a first process answering the probes, and the workers serving). Prints the resident set
 * size (VmRSS, and the peak VmHWM, from /proc) of
 *   - the app process idle, serving one environment, synced;
 *   - the app process under a bounded load: BENCH_ENVIRONMENTS (default 100) new branches pushed at
 *     once, each a preview environment with its own release (read, validated, compiled, stored,
 *     deployed), sampled every 100 ms until all are synced (at most 5 minutes);
 *   - the gateway pod's processes with 1 environment and with 1 + BENCH_ENVIRONMENTS, and a
 *     worker's difference scaled to 100 environments (every worker holds every release).
 * Linux only (/proc). Every wait is bounded; both processes are stopped at the end.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { request } from "undici";
import { freshDatabase } from "./fresh-postgres.js";
import { seedFiles } from "./gateway-config.js";

const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const ENVIRONMENTS = Number(process.env.BENCH_ENVIRONMENTS || 100);
const GATEWAY_WORKERS = Number(process.env.BENCH_GATEWAY_WORKERS || 2);
const LIMIT_MS = 300_000;

const mib = (kb: number) => `${(kb / 1024).toFixed(0)} MiB`;
function memory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
  return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
}

/** The gateway pod's processes: the first one and the workers it forked. */
function podMemory(pid: number): { first: { rss: number; hwm: number }; workers: { rss: number; hwm: number }[] } {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  return { first: memory(pid), workers: children.map(memory) };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

function start(env: Record<string, string>, ready: RegExp): Promise<{ child: ChildProcess; match: RegExpExecArray; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", LOG_LEVEL: "info", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const stop = () => new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : (child.once("exit", () => resolve()), child.kill("SIGTERM"))));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (void stop(), reject(new Error(`not started in 60 s:\n${out}`))), 60_000);
    const seen = (chunk: Buffer) => {
      out += chunk.toString();
      const m = ready.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, match: m, stop });
      }
    };
    child.stdout!.on("data", seen);
    child.stderr!.on("data", seen);
    child.once("exit", (code) => (clearTimeout(timer), reject(new Error(`exited with ${code}:\n${out}`))));
  });
}

async function until(what: string, check: () => Promise<boolean>, onTick: () => void = () => {}): Promise<number> {
  const began = performance.now();
  for (;;) {
    onTick();
    if (await check().catch(() => false)) return performance.now() - began;
    if (performance.now() - began > LIMIT_MS) throw new Error(`${what}: not within ${LIMIT_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const upstream = createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}'));
await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
const root = mkdtempSync(join(tmpdir(), "gitway-bench-sizing-"));
const repo = join(root, "shop");
const database = await freshDatabase();
const stops: (() => Promise<void>)[] = [];
try {
  mkdirSync(repo);
  const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=B", "-c", "user.email=b@example.invalid", "-c", "commit.gpgsign=false", ...args], { cwd: repo });
  const commit = (variant: number) => {
    for (const [path, text] of seedFiles(upstreamUrl, "seed", variant)) {
      mkdirSync(join(repo, path, ".."), { recursive: true });
      writeFileSync(join(repo, path), text);
    }
    git("add", "-A");
    git("commit", "--quiet", "-m", `variant ${variant}`);
  };
  git("init", "--quiet", "--initial-branch=main");
  commit(0);

  const common = { DATABASE_URL: database.url, GATEWAY_BASE_DOMAIN: "localhost", GATEWAY_PORT: "0", PORT: "0", GITWAY_UPSTREAM_ALLOW: "127.0.0.1" };
  const app = await start({ ...common, GITWAY_ROLE: "app", GITWAY_REPOS: repo, GITWAY_DATA_DIR: join(root, "data"), GITWAY_POLL_SECONDS: "1" }, /app on (http:\/\/[^\s;"]+)/);
  stops.push(app.stop);
  const gatewayPort = await freePort();
  const everyWorker = new RegExp(`(?:gateway worker \\d+ on http[^\\n]*\\n[\\s\\S]*){${GATEWAY_WORKERS}}`);
  const gateway = await start({ ...common, GITWAY_ROLE: "gateway", GATEWAY_PORT: String(gatewayPort), GATEWAY_WORKERS: String(GATEWAY_WORKERS) }, everyWorker);
  stops.push(gateway.stop);
  const appUrl = app.match[1]!;
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;

  const environments = async () => ((await (await fetch(`${appUrl}/api/environments`, { signal: AbortSignal.timeout(10_000) })).json()) as { environments: { label: string; status: string }[] }).environments;
  const allSynced = (n: number) => async () => {
    const envs = await environments();
    return envs.length === n && envs.every((e) => e.status === "synced");
  };
  /** The gateway serves a release for every label (401 without a key: the release answered), in whichever worker answers. */
  const served = async (labels: string[]) => {
    for (const label of labels.flatMap((l) => Array<string>(GATEWAY_WORKERS * 2).fill(l))) {
      // undici's request: fetch would not send a Host header of its own.
      const res = await request(`${gatewayUrl}/api/v1/orders`, { headers: { host: `${label}.localhost`, connection: "close" }, headersTimeout: 5_000, bodyTimeout: 5_000 });
      await res.body.dump();
      if (res.statusCode === 404) return false;
    }
    return true;
  };
  const settle = () => new Promise((r) => setTimeout(r, 5_000));

  await until("production synced", allSynced(1));
  await until("production served", async () => served((await environments()).map((e) => e.label)));
  await settle();
  const appIdle = memory(app.child.pid!);
  const gatewayOne = podMemory(gateway.child.pid!);

  // The bounded load: ENVIRONMENTS branches at once, each a preview with a release of its own.
  for (let i = 1; i <= ENVIRONMENTS; i++) {
    git("checkout", "--quiet", "-b", `feature-${i}`, "main");
    commit(i);
  }
  git("checkout", "--quiet", "main");
  let appPeakSampled = 0;
  const syncMs = await until(`${ENVIRONMENTS + 1} environments synced`, allSynced(ENVIRONMENTS + 1), () => (appPeakSampled = Math.max(appPeakSampled, memory(app.child.pid!).rss)));
  const labels = (await environments()).map((e) => e.label);
  await until("every environment served by the gateway", () => served(labels));
  await settle();
  const appAfter = memory(app.child.pid!);
  const gatewayMany = podMemory(gateway.child.pid!);

  const sum = (xs: { rss: number }[]) => xs.reduce((a, x) => a + x.rss, 0);
  const perHundred = ((sum(gatewayMany.workers) - sum(gatewayOne.workers)) / gatewayMany.workers.length / ENVIRONMENTS) * 100;
  const workerRows = (pod: ReturnType<typeof podMemory>) => pod.workers.map((w) => `${mib(w.rss)}`).join(" + ");
  console.log(`\n## sizing (Node ${process.version}, PostgreSQL, GITWAY_ROLE=app + GITWAY_ROLE=gateway, seed config: 1 route, api-key + rate-limit + CORS)\n`);
  console.log("| process | state | RSS | peak RSS (VmHWM) |");
  console.log("| --- | --- | --- | --- |");
  console.log(`| app | idle, 1 environment synced | ${mib(appIdle.rss)} | ${mib(appIdle.hwm)} |`);
  console.log(`| app | syncing ${ENVIRONMENTS} new branch previews at once (sampled every 100 ms; ${(syncMs / 1000).toFixed(1)} s) | ${mib(appPeakSampled)} (highest sample) | ${mib(appAfter.hwm)} |`);
  console.log(`| app | idle again, ${ENVIRONMENTS + 1} environments | ${mib(appAfter.rss)} | ${mib(appAfter.hwm)} |`);
  for (const [state, pod] of [["1 environment", gatewayOne], [`${ENVIRONMENTS + 1} environments`, gatewayMany]] as const) {
    console.log(`| gateway pod, first process (probes) | ${state} | ${mib(pod.first.rss)} | ${mib(pod.first.hwm)} |`);
    console.log(`| gateway pod, ${pod.workers.length} workers | ${state} | ${workerRows(pod)} | ${pod.workers.map((w) => mib(w.hwm)).join(" + ")} |`);
    console.log(`| gateway pod, all ${pod.workers.length + 1} processes | ${state} | ${mib(pod.first.rss + sum(pod.workers))} | |`);
  }
  console.log(`\n- gateway RSS per 100 environments, per worker process (each holds every release): ${mib(perHundred)} (from ${ENVIRONMENTS} added)`);
} finally {
  for (const stop of stops.reverse()) await stop();
  await new Promise<void>((r) => upstream.close(() => r()));
  await database.drop();
  rmSync(root, { recursive: true, force: true });
}
