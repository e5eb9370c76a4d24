/**
 * npm run bench:gateway — side by side, on loopback, in one run:
 *   direct:  wrk -> upstream (nginx answering 1 KiB JSON)
 *   nginx:   wrk -> nginx proxy (1 worker, keep-alive upstream) -> upstream
 *   gitway:  wrk -> gateway (1 process) -> upstream, forwarding only / seed policies / 100 routes
 *   usage:   the seed gateway with usage counting off and on, both up at once and measured in
 *            alternating rounds (BENCH_USAGE_ROUNDS, BENCH_USAGE_DURATION): the median of the
 *            per-round ratios, their spread, the CPU per request, and UsageCounter.count alone.
 *            BENCH_ONLY=usage runs only this part; BENCH_USAGE_CONTROL=1 turns counting off on both
 *            sides, to show the machine's noise floor.
 *   bare:    wrk -> node:http + undici proxy, nothing else (the floor for any Node.js gateway)
 *   engine:  wrk -> nginx on the seed release rendered by src/nginx/render.ts (1 worker) -> upstream
 * Medians of RUNS runs of DURATION each; then the latency at half the gateway's peak rate from an
 * open-loop paced client (bench/paced-client.ts: each request timed from when it was due, so no
 * coordinated omission; wrk2 is not in Debian), the top entries of a CPU profile of the gateway
 * under load, a release swap every 100 ms under load, a 200-route release build+swap, and 1,000
 * environments' RSS. nginx and wrk come from Debian and are installed when missing.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { readConfig } from "../src/config/index.js";
import { compileRelease, GatewayServer, hashKey, MemoryRateLimitStore, Upstreams, UsageCounter } from "../src/gateway/index.js";
import { renderNginx } from "../src/nginx/render.js";
import { CACHE, median } from "./bench-data.js";
import { egressCheckLines, measureEgressCheck } from "./egress-check.js";
import { seedFiles } from "./gateway-config.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const DURATION = process.env.BENCH_DURATION ?? "6s";
const CONNECTIONS = 50;
const PORTS = { upstream: 18801, nginx: 18802, gateway: 18803, bare: 18804, engine: 18805, engineUsage: 18806, gatewayUsage: 18808 };
/** `BENCH_ONLY=usage`: only the interleaved usage-counting comparison (and the counter's own cost), in a minute or two. */
const ONLY = process.env.BENCH_ONLY;
if (ONLY !== undefined && ONLY !== "usage") throw new Error(`BENCH_ONLY=${ONLY}: the only part that runs alone is "usage"`);
/** Rounds of the usage comparison: each round measures counting off and on once, in alternating order. */
const USAGE_ROUNDS = Number(process.env.BENCH_USAGE_ROUNDS ?? 10);
/** Each side's run in a round: short runs alternate faster, so both sides of a round meet the same neighbours. */
const USAGE_DURATION = process.env.BENCH_USAGE_DURATION ?? DURATION;
/**
 * `BENCH_USAGE_CONTROL=1`: both sides count nothing, so the ratios show what this machine's noise
 * alone makes of two identical gateways (expect 1.000x; the spread is the noise floor).
 */
const CONTROL = process.env.BENCH_USAGE_CONTROL === "1";
const children: ChildProcess[] = [];
// nginx's master takes its worker with it on SIGQUIT; SIGKILL would orphan the worker.
process.on("exit", () => children.forEach((c) => c.kill(c.spawnfile === "nginx" ? "SIGQUIT" : "SIGKILL")));

function ensureTool(bin: string, pkg: string): void {
  if (spawnSync("sh", ["-c", `command -v ${bin}`]).status === 0) return;
  process.stderr.write(`installing ${pkg} (apt-get) ...\n`);
  execFileSync("sh", ["-c", `(apt-get install -y ${pkg} || (apt-get update && apt-get install -y ${pkg})) >/dev/null`], { stdio: "inherit" });
}

const JSON_1K = JSON.stringify({ orders: Array.from({ length: 11 }, (_, i) => ({ id: `ord_${String(i).padStart(4, "0")}`, total: 42.5 + i, currency: "EUR", status: "open" })) }).padEnd(1024, " ");

function startNginx(name: string, server: string): ChildProcess {
  const dir = join(CACHE, "nginx", name);
  mkdirSync(join(dir, "logs"), { recursive: true });
  const conf = `worker_processes 1; daemon off; pid ${dir}/nginx.pid; error_log ${dir}/logs/error.log warn; user root;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
${server} }`;
  writeFileSync(join(dir, "nginx.conf"), conf);
  const child = spawn("nginx", ["-p", dir, "-c", join(dir, "nginx.conf")], { stdio: "ignore" });
  children.push(child);
  return child;
}

async function waitFor(url: string, headers: Record<string, string> = {}): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(url, { headers });
      await r.arrayBuffer();
      if (r.status < 500) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

interface WrkResult {
  rps: number;
  requests: number;
  p50: number;
  p99: number;
  non2xx: number;
}

function wrk(url: string, headers: Record<string, string>, duration = DURATION, script?: string): WrkResult {
  const args = ["-t1", `-c${CONNECTIONS}`, `-d${duration}`, "--latency", ...Object.entries(headers).flatMap(([k, v]) => ["-H", `${k}: ${v}`]), ...(script ? ["-s", script] : []), url];
  const out = execFileSync("wrk", args, { encoding: "utf8", timeout: 120_000 });
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? "NaN");
  const ms = (label: string) => {
    const m = new RegExp(`${label}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
    if (!m) return NaN;
    const v = Number(m[1]);
    return m[2] === "us" ? v / 1000 : m[2] === "s" ? v * 1000 : v;
  };
  return { rps: num(/Requests\/sec:\s+([\d.]+)/), requests: num(/(\d+) requests in/), p50: ms("50"), p99: ms("99"), non2xx: num(/Non-2xx or 3xx responses:\s+(\d+)/) || 0 };
}

function medianOf(runs: WrkResult[]): WrkResult {
  return { rps: median(runs.map((r) => r.rps)), requests: median(runs.map((r) => r.requests)), p50: median(runs.map((r) => r.p50)), p99: median(runs.map((r) => r.p99)), non2xx: runs.reduce((a, r) => a + r.non2xx, 0) };
}

const worker = fileURLToPath(new URL("./gateway-worker.ts", import.meta.url));
async function startGateway(mode: string, swapEvery?: number, nodeArgs: string[] = [], port = PORTS.gateway): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...nodeArgs, "--import", "tsx", worker, `http://127.0.0.1:${PORTS.upstream}`, String(port), mode, ...(swapEvery ? [String(swapEvery)] : [])], { stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  await waitFor(`http://127.0.0.1:${port}/api/v1/orders`, AUTH);
  return child;
}
async function stop(child: ChildProcess): Promise<string> {
  let out = "";
  child.stdout?.on("data", (c: Buffer) => (out += c));
  const done = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await done;
  return out;
}

const AUTH = { authorization: "Bearer bench-key", origin: "https://app.example" };

ensureTool("nginx", "nginx");
ensureTool("wrk", "wrk");
startNginx("upstream", `server { listen 127.0.0.1:${PORTS.upstream}; location / { default_type application/json; return 200 '${JSON_1K}'; } }`);
await waitFor(`http://127.0.0.1:${PORTS.upstream}/api/v1/orders`);
const target = (port: number) => `http://127.0.0.1:${port}/api/v1/orders`;

if (ONLY === "usage") {
  const usage = await compareUsage(USAGE_ROUNDS);
  console.log(`\n## usage counting in the Node gateway (seed config, one process each, wrk -t1 -c${CONNECTIONS} -d${USAGE_DURATION}, ${USAGE_ROUNDS} interleaved rounds)\n`);
  for (const line of usageLines(usage)) console.log(line);
  process.exit(0);
}

const plainProxy = startNginx("proxy", `upstream up { server 127.0.0.1:${PORTS.upstream}; keepalive 64; } server { listen 127.0.0.1:${PORTS.nginx}; location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; } }`);
await waitFor(`http://127.0.0.1:${PORTS.nginx}/api/v1/orders`);
const results: Record<string, WrkResult> = {};
const measure = (label: string, url: string, headers: Record<string, string> = {}) => {
  wrk(url, headers, "2s"); // warm-up
  const runs = Array.from({ length: RUNS }, () => wrk(url, headers));
  results[label] = medianOf(runs);
  process.stderr.write(`${label}: ${runs.map((r) => r.rps.toFixed(0)).join(", ")} req/s\n`);
};

measure("direct (upstream)", target(PORTS.upstream));
measure("nginx proxy", target(PORTS.nginx));

// The nginx engine: the seed release (api-key + rate-limit + CORS) rendered and served by nginx, one worker like the plain proxy.
const ENGINE_HOST = "bench.localhost";
/** The seed release rendered for nginx and served by one worker; with `usage`, logging each call's usage to a buffered file (as the agent collects it). */
async function startEngine(name: string, port: number, usage = false): Promise<ChildProcess> {
  const engineDir = join(CACHE, "nginx", name);
  rmSync(engineDir, { recursive: true, force: true });
  const engineRender = renderNginx({
    environments: [{ host: ENGINE_HOST, name: "bench", release: { config: readConfig(seedFiles(`http://127.0.0.1:${PORTS.upstream}`, "seed")).config!, vars: {} }, consumers: [{ name: "bench", keyHashes: [hashKey("bench-key")] }] }],
    nodeGatewayUrl: `http://127.0.0.1:${PORTS.gateway}`,
    listen: { port, address: "127.0.0.1" },
    workerProcesses: 1,
    ...(usage ? { usageLog: join(engineDir, "usage", "usage.log") } : {}),
  });
  if (usage) mkdirSync(join(engineDir, "usage"), { recursive: true });
  for (const [path, content] of Object.entries(engineRender.files)) {
    mkdirSync(dirname(join(engineDir, path)), { recursive: true });
    writeFileSync(join(engineDir, path), content);
  }
  const child = spawn("nginx", ["-p", engineDir, "-c", "nginx.conf", "-e", join(engineDir, "error.log"), "-g", `daemon off; pid ${join(engineDir, "nginx.pid")}; user root;`], { stdio: "ignore" });
  children.push(child);
  await waitFor(target(port));
  return child;
}
const engine = await startEngine("engine", PORTS.engine);
measure("gitway nginx engine (seed)", target(PORTS.engine), { ...AUTH, Host: ENGINE_HOST });
// The same with usage counting: nginx appends each call's line to its buffered usage log (the agent's
// reading of it, every 10 s, is off nginx's path and not measured here).
const engineUsage = await startEngine("engine-usage", PORTS.engineUsage, true);
measure("gitway nginx engine (seed+usage)", target(PORTS.engineUsage), { ...AUTH, Host: ENGINE_HOST });

/**
 * CPU time nginx's worker spends per request (user + system, from /proc), beside throughput: on a
 * shared machine throughput swings with the neighbours' load, the work per request much less.
 */
function workerCpuPerRequest(master: ChildProcess, url: string, headers: Record<string, string>): number {
  const ticks = () =>
    execFileSync("ps", ["--ppid", String(master.pid), "-o", "pid="], { encoding: "utf8" })
      .trim()
      .split(/\s+/)
      .reduce((sum, pid) => {
        const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
        return sum + Number(f[11]) + Number(f[12]);
      }, 0);
  const before = ticks();
  const out = execFileSync("wrk", ["-t1", `-c${CONNECTIONS}`, `-d${DURATION}`, ...Object.entries(headers).flatMap(([k, v]) => ["-H", `${k}: ${v}`]), url], { encoding: "utf8", timeout: 120_000 });
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN);
  // A clock tick is 10 ms (USER_HZ 100 on Linux).
  return ((ticks() - before) * 10_000) / requests;
}
const cpuPlain = median(Array.from({ length: RUNS }, () => workerCpuPerRequest(plainProxy, target(PORTS.nginx), {})));
const cpuEngine = median(Array.from({ length: RUNS }, () => workerCpuPerRequest(engine, target(PORTS.engine), { ...AUTH, Host: ENGINE_HOST })));
const cpuEngineUsage = median(Array.from({ length: RUNS }, () => workerCpuPerRequest(engineUsage, target(PORTS.engineUsage), { ...AUTH, Host: ENGINE_HOST })));

/**
 * The instructions nginx runs in user space per request, counted by valgrind (callgrind) on a copy
 * of a configuration served by one process on its own port: unlike time, the count does not move
 * with the machine's load, so one configuration can be compared with another on a busy machine.
 * Kernel work (the sockets) is not in it. REQUESTS sequential keep-alive requests after a warm-up.
 */
const CALLGRIND_PORT = 18809;
async function instructionsPerRequest(name: string, from: string, port: number, headers: Record<string, string>): Promise<number> {
  const dir = join(CACHE, "nginx", `callgrind-${name}`);
  rmSync(dir, { recursive: true, force: true });
  cpSync(from, dir, { recursive: true });
  const envs = join(dir, "environments");
  for (const file of ["nginx.conf", ...(existsSync(envs) ? readdirSync(envs).map((f) => join("environments", f)) : [])]) {
    const path = join(dir, file);
    // The copy listens on its own port and takes its process settings from the command line.
    writeFileSync(path, readFileSync(path, "utf8").replaceAll(`127.0.0.1:${port}`, `127.0.0.1:${CALLGRIND_PORT}`).replace(/daemon off; pid [^;]+;/, "").replace("user root;", ""));
  }
  const out = join(dir, "callgrind.out");
  const child = spawn("valgrind", ["--tool=callgrind", `--callgrind-out-file=${out}`, "nginx", "-p", `${dir}/`, "-c", "nginx.conf", "-e", join(dir, "error.log"), "-g", `daemon off; master_process off; pid ${join(dir, "cg.pid")}; user root;`], { stdio: "ignore" });
  const exited = new Promise((r) => child.once("exit", r));
  try {
    const url = `http://127.0.0.1:${CALLGRIND_PORT}/api/v1/orders`;
    await waitFor(url, headers);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const send = async (n: number) => {
      for (let i = 0; i < n; i++) await new Promise<void>((resolve, reject) => http.get(url, { agent, headers }, (res) => (res.resume(), res.on("end", resolve))).on("error", reject));
    };
    await send(200);
    execFileSync("callgrind_control", ["-z", String(child.pid)], { stdio: "ignore" });
    const REQUESTS = 2_000;
    await send(REQUESTS);
    execFileSync("callgrind_control", ["-d", String(child.pid)], { stdio: "ignore" });
    agent.destroy();
    const dump = readdirSync(dir).filter((f) => f.startsWith("callgrind.out.")).sort().at(-1)!;
    const total = Number(/^(?:summary|totals): (\d+)/m.exec(readFileSync(join(dir, dump), "utf8"))?.[1] ?? NaN);
    return total / REQUESTS;
  } finally {
    child.kill("SIGQUIT");
    await exited;
  }
}
ensureTool("valgrind", "valgrind");
const irPlain = await instructionsPerRequest("plain", join(CACHE, "nginx", "proxy"), PORTS.nginx, {});
const irEngine = await instructionsPerRequest("engine", join(CACHE, "nginx", "engine"), PORTS.engine, { ...AUTH, Host: ENGINE_HOST });
const irEngineUsage = await instructionsPerRequest("engine-usage", join(CACHE, "nginx", "engine-usage"), PORTS.engineUsage, { ...AUTH, Host: ENGINE_HOST });

// Rendering 1,000 environments (the agent times nginx's reload of them).
const renderTimes: number[] = [];
let renderedBytes = 0;
{
  const config = readConfig(seedFiles(`http://127.0.0.1:${PORTS.upstream}`, "seed")).config!;
  const environments = Array.from({ length: 1000 }, (_, i) => ({ host: `acme-shop-pr-${i}.localhost`, name: `acme-shop-pr-${i}`, release: { config, vars: {} }, consumers: [{ name: `c${i}`, keyHashes: [hashKey(`key-${i}`)] }] }));
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const r = renderNginx({ environments, nodeGatewayUrl: "http://127.0.0.1:8787", listen: { port: 8080 } });
    renderTimes.push(performance.now() - t);
    renderedBytes = Object.values(r.files).reduce((a, f) => a + f.length, 0);
  }
}
const startBare = async () => {
  const bare = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL("./bare-proxy.ts", import.meta.url)), `http://127.0.0.1:${PORTS.upstream}`, String(PORTS.bare)], { stdio: ["ignore", "pipe", "inherit"] });
  children.push(bare);
  await waitFor(target(PORTS.bare));
  return bare;
};
// The bare floor and the gateway modes take turns within each run, so none is always measured
// last on a drifting (shared) machine and the ratio to the floor compares like with like.
const BARE = "node:http + undici, no gateway";
const modes = ["bare", "forward", "seed", "seed-100-routes"];
const perMode = new Map<string, WrkResult[]>(modes.map((m) => [m, []]));
for (let run = 0; run < RUNS; run++) {
  for (const mode of run % 2 === 0 ? modes : [...modes].reverse()) {
    if (mode === "bare") {
      const bare = await startBare();
      wrk(target(PORTS.bare), {}, "2s");
      perMode.get(mode)!.push(wrk(target(PORTS.bare), {}));
      bare.kill("SIGKILL");
      continue;
    }
    const g = await startGateway(mode);
    const headers = mode === "forward" ? {} : AUTH;
    wrk(target(PORTS.gateway), headers, "2s");
    perMode.get(mode)!.push(wrk(target(PORTS.gateway), headers));
    await stop(g);
  }
}
for (const mode of modes) {
  const label = mode === "bare" ? BARE : `gitway ${mode}`;
  results[label] = medianOf(perMode.get(mode)!);
  process.stderr.write(`${label}: ${perMode.get(mode)!.map((r) => r.rps.toFixed(0)).join(", ")} req/s\n`);
}
// Counting off and on as its own interleaved comparison: its few percent are smaller than a shared machine's swings between runs.
const usageComparison = await compareUsage(USAGE_ROUNDS);
results["gitway seed+usage"] = usageComparison.on;

// Latency at half the gateway's peak rate, open loop: requests go out on schedule whatever the answers do.
const half = results["gitway seed"]!.rps / 2;
const pacedClient = fileURLToPath(new URL("./paced-client.ts", import.meta.url));
interface Paced {
  p50: number;
  p99: number;
  p999: number;
  errors: number;
}
const pacedRun = (url: string, headers: Record<string, string>): Paced => {
  const out = execFileSync(process.execPath, ["--import", "tsx", pacedClient, url, String(Math.round(half)), DURATION.replace(/s$/, ""), "64", JSON.stringify(headers)], { encoding: "utf8", timeout: 120_000 });
  return JSON.parse(out.trim().split("\n").pop()!) as Paced;
};
const paced = (url: string, headers: Record<string, string>): Paced => {
  const runs = Array.from({ length: RUNS }, () => pacedRun(url, headers));
  return { p50: median(runs.map((r) => r.p50)), p99: median(runs.map((r) => r.p99)), p999: median(runs.map((r) => r.p999)), errors: runs.reduce((a, r) => a + r.errors, 0) };
};
const directPaced = paced(target(PORTS.upstream), {});
const bareProcess = await startBare();
const barePaced = paced(target(PORTS.bare), {});
bareProcess.kill("SIGKILL");
let g = await startGateway("seed");
const gatewayPaced = paced(target(PORTS.gateway), AUTH);
await stop(g);

// Where the gateway's time goes: a CPU profile of the seed config under wrk load, top self-time entries.
const profileDir = join(CACHE, "gateway-profile");
rmSync(profileDir, { recursive: true, force: true });
g = await startGateway("seed", undefined, ["--cpu-prof", `--cpu-prof-dir=${profileDir}`]);
wrk(target(PORTS.gateway), AUTH, "2s");
wrk(target(PORTS.gateway), AUTH);
await stop(g);
const profileTop = topOfProfile(profileDir, 12, seconds(DURATION));

// Swaps under load.
g = await startGateway("seed", 100);
const swapRun = wrk(target(PORTS.gateway), AUTH);
const { swaps } = JSON.parse((await stop(g)).trim().split("\n").pop() || '{"swaps":0}') as { swaps: number };

// Build and swap a 200-route release; 1,000 environments in one process.
const upstreams = new Upstreams();
const services = { upstreams, rateLimitStore: new MemoryRateLimitStore(), log: () => {}, maxBodyBytes: 1 << 20, bodyTimeoutMs: 30_000 };
const server = new GatewayServer({ baseDomain: "localhost" });
const big = seedFiles(`http://127.0.0.1:${PORTS.upstream}`, "seed-100-routes");
const doubled = new Map([...big].map(([k, v]) => [k, k.endsWith("routes.oas.json") ? v.replaceAll("/items", "/items").replace(/"paths":\{/, '"paths":{' + Array.from({ length: 100 }, (_, i) => `"/api/v2/extra-${i}/{id}":{"get":{"operationId":"extra-${i}","parameters":[{"name":"id","in":"path","required":true,"schema":{"type":"string"}}],"responses":{"200":{"description":"ok"}},"x-zuplo-route":{"handler":{"export":"urlForwardHandler","module":"$import(@zuplo/runtime)","options":{"baseUrl":"http://127.0.0.1:${PORTS.upstream}"}},"policies":{"inbound":["api-key-inbound","rate-limit-inbound"]}}}},`).join("")) : v]));
const buildTimes: number[] = [];
for (let i = 0; i < 5; i++) {
  const t = performance.now();
  const { config } = readConfig(doubled);
  server.deploy("big", compileRelease(config!, { name: "big", vars: {}, consumers: [] }, services));
  buildTimes.push(performance.now() - t);
}
const routeCount = server.releaseOf("big")!.routeCount;
const rssBefore = process.memoryUsage().rss;
const seed = seedFiles(`http://127.0.0.1:${PORTS.upstream}`, "seed");
for (let i = 0; i < 1000; i++) {
  const { config } = readConfig(seed);
  server.deploy(`acme-shop-pr-${i}`, compileRelease(config!, { name: `pr-${i}`, vars: {}, consumers: [{ name: `c${i}`, keyHashes: [hashKey(`key-${i}`)] }] }, services));
}
global.gc?.();
const rssAfter = process.memoryUsage().rss;
await upstreams.close();
const egress = await measureEgressCheck();

const nginx = results["nginx proxy"]!.rps;
const row = (label: string) => {
  const r = results[label]!;
  return `| ${label} | ${r.rps.toFixed(0)} | ${(r.rps / nginx).toFixed(2)}x | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.non2xx} |`;
};
console.log(`\n## gateway benchmark (wrk -t1 -c${CONNECTIONS} -d${DURATION}, median of ${RUNS}; 1 KiB JSON upstream; one nginx worker; one gateway process)\n`);
console.log("| target | req/s | vs nginx | p50 ms | p99 ms | non-2xx |");
console.log("| --- | --- | --- | --- | --- | --- |");
for (const label of Object.keys(results)) console.log(row(label));
const fwd = results["gitway forward"]!.rps;
const seedRps = results["gitway seed"]!.rps;
console.log(`\n- Gitway forwarding vs the bare Node proxy (the floor for any Node.js gateway here): ${(fwd / results[BARE]!.rps).toFixed(2)}x`);
console.log(`- policies (api-key + rate-limit + CORS) cost: ${((1 - seedRps / fwd) * 100).toFixed(1)}% of forwarding-only throughput (target <= 20%)`);
console.log(`- gateway with the three policies: ${(seedRps / nginx).toFixed(2)}x nginx (target >= 0.5x)`);
const engineRps = results["gitway nginx engine (seed)"]!.rps;
console.log(`- nginx engine with the three policies: ${(engineRps / nginx).toFixed(2)}x plain nginx (target >= 0.8x), ${(engineRps / seedRps).toFixed(2)}x the Node gateway (target >= 1.6x)`);
const engineUsageRps = results["gitway nginx engine (seed+usage)"]!.rps;
console.log(`- nginx engine usage counting (buffered access log file) on vs off: ${(engineUsageRps / engineRps).toFixed(3)}x, costs ${((1 - engineUsageRps / engineRps) * 100).toFixed(1)}% of throughput (target <= 3%); nginx worker CPU per request ${cpuEngineUsage.toFixed(1)} us vs ${cpuEngine.toFixed(1)} us (+${((cpuEngineUsage / cpuEngine - 1) * 100).toFixed(1)}%)`);
console.log(`- nginx worker CPU per request: plain proxy ${cpuPlain.toFixed(1)} us, nginx engine with the three policies ${cpuEngine.toFixed(1)} us (${(cpuPlain / cpuEngine).toFixed(2)}x the plain proxy's work rate)`);
console.log(`- nginx user-space instructions per request (callgrind, one process, load-independent): plain proxy ${irPlain.toFixed(0)}, nginx engine with the three policies ${irEngine.toFixed(0)} (${(irEngine / irPlain).toFixed(2)}x), with usage logging ${irEngineUsage.toFixed(0)} (+${((irEngineUsage / irEngine - 1) * 100).toFixed(1)}%)`);
console.log(`- 1,000 environments rendered to nginx: median ${median(renderTimes).toFixed(0)} ms, ${(renderedBytes / 2 ** 20).toFixed(1)} MiB of files`);
for (const line of usageLines(usageComparison)) console.log(line);
console.log(`- 100 routes vs 1 route: ${((1 - results["gitway seed-100-routes"]!.rps / seedRps) * 100).toFixed(1)}% slower (target <= 5%)`);
console.log(`- gateway with the three policies vs the bare Node proxy in this run: ${(seedRps / results[BARE]!.rps).toFixed(2)}x (target >= 0.9x)`);
console.log(`\n### latency at half the gateway's peak, open loop (${half.toFixed(0)} req/s offered for ${DURATION}, timed from each request's due time, median of ${RUNS})\n`);
console.log("| target | p50 ms | p99 ms | p99.9 ms | errors |");
console.log("| --- | --- | --- | --- | --- |");
for (const [label, r] of [["direct (upstream)", directPaced], ["node:http + undici, no gateway", barePaced], ["gitway seed", gatewayPaced]] as const) console.log(`| ${label} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.p999.toFixed(2)} | ${r.errors} |`);
console.log(`\n- p99 added over the direct upstream: gateway ${(gatewayPaced.p99 - directPaced.p99).toFixed(2)} ms (target <= 2 ms); the bare Node proxy ${(barePaced.p99 - directPaced.p99).toFixed(2)} ms`);
console.log(`- release swap every 100 ms under load: ${swaps} swaps, ${swapRun.rps.toFixed(0)} req/s, ${swapRun.non2xx} non-2xx (target 0)`);
console.log(`- build + swap of a ${routeCount}-route release: median ${median(buildTimes).toFixed(0)} ms (target < 500 ms)`);
console.log(`- 1,000 environments loaded in one process: RSS ${(rssAfter / 2 ** 20).toFixed(0)} MiB (+${((rssAfter - rssBefore) / 2 ** 20).toFixed(0)} MiB for the 1,000) (target < 1024 MiB)`);
for (const line of egressCheckLines(egress)) console.log(line);
console.log(`\n### where the gateway's CPU goes (seed config under wrk load; self time, share of busy samples)\n`);
for (const line of profileTop) console.log(`- ${line}`);
process.exit(0);

interface UsageComparison {
  off: WrkResult;
  on: WrkResult;
  /** Each side's fastest round: a neighbour's load only ever slows a run down, so the best comes closest to a quiet machine. */
  bestOff: number;
  bestOn: number;
  /** Throughput with counting on over off, one per round, in the order measured. */
  ratios: number[];
  /** The gateway process's CPU time per request, on over off, one per round. */
  cpuRatios: number[];
  cpuOff: number;
  cpuOn: number;
  /** UsageCounter.count alone, nanoseconds per call. */
  countNs: number;
}

/**
 * Counting off and on, both gateways up at once on their own ports and measured in turns (off then
 * on, then on then off, ...), so a neighbour's burst or a drifting machine lands on both sides of a
 * round; the verdict is the median of the per-round ratios, with their spread beside it.
 */
async function compareUsage(rounds: number): Promise<UsageComparison> {
  const sides = [
    { child: await startGateway("seed", undefined, [], PORTS.gateway), port: PORTS.gateway, runs: [] as WrkResult[], cpu: [] as number[] },
    { child: await startGateway(CONTROL ? "seed" : "seed+usage", undefined, [], PORTS.gatewayUsage), port: PORTS.gatewayUsage, runs: [] as WrkResult[], cpu: [] as number[] },
  ];
  for (const side of sides) wrk(target(side.port), AUTH, "2s"); // warm-up (JIT)
  for (let round = 0; round < rounds; round++) {
    for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
      const before = cpuMicros(side.child.pid!);
      const run = wrk(target(side.port), AUTH, USAGE_DURATION);
      side.cpu.push((cpuMicros(side.child.pid!) - before) / run.requests);
      side.runs.push(run);
    }
  }
  await Promise.all(sides.map((side) => stop(side.child)));
  const [off, on] = sides as [(typeof sides)[number], (typeof sides)[number]];
  process.stderr.write(`usage off: ${off.runs.map((r) => r.rps.toFixed(0)).join(", ")} req/s\nusage on:  ${on.runs.map((r) => r.rps.toFixed(0)).join(", ")} req/s\n`);
  return {
    off: medianOf(off.runs),
    on: medianOf(on.runs),
    bestOff: Math.max(...off.runs.map((r) => r.rps)),
    bestOn: Math.max(...on.runs.map((r) => r.rps)),
    ratios: on.runs.map((r, i) => r.rps / off.runs[i]!.rps),
    cpuRatios: on.cpu.map((c, i) => c / off.cpu[i]!),
    cpuOff: median(off.cpu),
    cpuOn: median(on.cpu),
    countNs: countCost(),
  };
}

/** A process's CPU time so far (user + system, every thread), in microseconds; a clock tick is 10 ms (USER_HZ 100). */
function cpuMicros(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(f[11]) + Number(f[12])) * 10_000;
}

/** Nanoseconds per UsageCounter.count call as the gateway makes it (four consumers, one route), median of 5 batches. */
function countCost(): number {
  const counter = new UsageCounter();
  const route = { id: "GET /api/v1/orders", operation: "listOrders" };
  const consumers = ["mobile-app", "partner-acme", "bench", undefined];
  const batch = (n: number) => {
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) counter.count("acme-shop-production", route, consumers[i & 3], i & 16 ? 404 : 200);
    return Number(process.hrtime.bigint() - t) / n;
  };
  batch(200_000);
  return median(Array.from({ length: 5 }, () => batch(1_000_000)));
}

function usageLines(c: UsageComparison): string[] {
  const ratio = median(c.ratios);
  // The middle half beside the extremes: one round hit by a neighbour's burst moves the extremes, not the middle.
  const spread = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!.toFixed(3);
    return `middle half ${at(0.25)}x to ${at(0.75)}x, all ${s[0]!.toFixed(3)}x to ${s[s.length - 1]!.toFixed(3)}x`;
  };
  return [
    ...(CONTROL ? ["- CONTROL RUN (BENCH_USAGE_CONTROL=1): both sides count nothing; the figures below are the machine's noise, not a cost"] : []),
    `- usage counting on vs off (seed config, ${c.ratios.length} interleaved rounds): median of per-round throughput ratios ${ratio.toFixed(3)}x, costs ${((1 - ratio) * 100).toFixed(1)}% of throughput (target <= 3%); per-round ratios ${spread(c.ratios)} (${c.ratios.map((r) => r.toFixed(3)).join(", ")}); median throughputs ${c.on.rps.toFixed(0)} vs ${c.off.rps.toFixed(0)} req/s; best rounds ${c.bestOn.toFixed(0)} vs ${c.bestOff.toFixed(0)} req/s (${(c.bestOn / c.bestOff).toFixed(3)}x)`,
    `- gateway CPU per request, counting on vs off: ${c.cpuOn.toFixed(1)} us vs ${c.cpuOff.toFixed(1)} us, median of per-round ratios ${median(c.cpuRatios).toFixed(3)}x (${spread(c.cpuRatios)})`,
    `- UsageCounter.count alone: ${c.countNs.toFixed(0)} ns per call, ${((c.countNs / 1000 / c.cpuOff) * 100).toFixed(2)}% of the gateway's CPU per request`,
  ];
}

function seconds(duration: string): number {
  return Number(duration.replace(/s$/, ""));
}

/** The heaviest self-time entries in the last `windowS` seconds of the profile (the measured load, not start-up). */
function topOfProfile(dir: string, n: number, windowS: number): string[] {
  const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  // The main thread's profile is the busiest one (the module loader's thread, profiled too, idles).
  const profiles = files.map((f) => JSON.parse(readFileSync(join(dir, f), "utf8")) as { nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[]; samples: number[]; timeDeltas: number[]; endTime: number; startTime: number });
  const busyOf = (p: (typeof profiles)[number]) => {
    const idle = new Set(p.nodes.filter((x) => x.callFrame.functionName === "(idle)" || x.callFrame.functionName === "(program)").map((x) => x.id));
    return p.samples.filter((id) => !idle.has(id)).length;
  };
  const main = profiles.sort((a, b) => busyOf(b) - busyOf(a))[0];
  if (!main) return ["(no profile written)"];
  const byId = new Map(main.nodes.map((x) => [x.id, x.callFrame]));
  const self = new Map<string, number>();
  let busy = 0;
  const from = main.endTime - windowS * 1e6;
  let t = main.startTime;
  for (let i = 0; i < main.samples.length; i++) {
    t += main.timeDeltas[i] ?? 0;
    if (t < from) continue;
    const f = byId.get(main.samples[i]!)!;
    if (f.functionName === "(idle)") continue;
    const key = `${f.functionName || "(anonymous)"} ${f.url ? f.url.replace(/^.*\/(node_modules\/)?/, "") + ":" + (f.lineNumber + 1) : ""}`.trim();
    self.set(key, (self.get(key) ?? 0) + 1);
    busy++;
  }
  return [...self].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, c]) => `${((100 * c) / busy).toFixed(1)}% ${k}`);
}
