/**
 * The gateway under benchmark, in its own process: serves the seed config (or a variant) with the
 * in-memory rate-limit store and no access log, and optionally swaps its release on a timer.
 * argv: <upstream url> <port> <mode: forward|seed|seed-100-routes, "+usage" to count usage> [swapEveryMs]
 * With "+usage" the gateway counts every call as a process of `npm start` does, and drains the
 * buckets every 10 s as the flusher would (into nothing: the store's write runs beside requests).
 */
import { readConfig } from "../src/config/index.js";
import { compileRelease, GatewayServer, hashKey, MemoryRateLimitStore, Upstreams, UsageCounter } from "../src/gateway/index.js";
import { seedFiles } from "./gateway-config.js";

const [upstream, port, modeArg, swapEvery] = process.argv.slice(2) as [string, string, string, string | undefined];
const counting = modeArg.endsWith("+usage");
const mode = modeArg.replace(/\+usage$/, "");
const usage = counting ? new UsageCounter() : undefined;
if (usage) setInterval(() => usage.drain(), 10_000).unref();
const upstreams = new Upstreams();
const services = { upstreams, rateLimitStore: new MemoryRateLimitStore(), log: () => {}, maxBodyBytes: 1 << 20, bodyTimeoutMs: 30_000 };
const env = { name: "local", vars: {}, consumers: [{ name: "bench", keyHashes: [hashKey("bench-key")] }] };
const build = (variant: number) => {
  const { config } = readConfig(seedFiles(upstream, mode, variant));
  return compileRelease(config!, env, services);
};
const gateway = new GatewayServer({ baseDomain: "localhost", fallbackEnvironment: "local", ...(usage ? { usage } : {}) });
gateway.deploy("local", build(0));
await gateway.listen(Number(port));
let swaps = 0;
if (swapEvery) setInterval(() => gateway.deploy("local", build(++swaps)), Number(swapEvery));
process.on("SIGTERM", () => {
  process.stdout.write(JSON.stringify({ swaps }) + "\n");
  process.exit(0);
});
process.stdout.write("ready\n");
