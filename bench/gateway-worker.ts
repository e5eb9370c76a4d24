/**
 * The gateway under benchmark, in its own process: serves the seed config (or a variant) with the
 * in-memory rate-limit store and no access log, and optionally swaps its release on a timer.
 * argv: <upstream url> <port> <mode: forward|seed|seed-100-routes> [swapEveryMs]
 */
import { readConfig } from "../src/config/index.js";
import { compileRelease, GatewayServer, hashKey, MemoryRateLimitStore, Upstreams } from "../src/gateway/index.js";
import { seedFiles } from "./gateway-config.js";

const [upstream, port, mode, swapEvery] = process.argv.slice(2) as [string, string, string, string | undefined];
const upstreams = new Upstreams();
const services = { upstreams, rateLimitStore: new MemoryRateLimitStore(), log: () => {}, maxBodyBytes: 1 << 20, bodyTimeoutMs: 30_000 };
const env = { name: "local", vars: {}, consumers: [{ name: "bench", keyHashes: [hashKey("bench-key")] }] };
const build = (variant: number) => {
  const { config } = readConfig(seedFiles(upstream, mode, variant));
  return compileRelease(config!, env, services);
};
const gateway = new GatewayServer({ baseDomain: "localhost", fallbackEnvironment: "local" });
gateway.deploy("local", build(0));
await gateway.listen(Number(port));
let swaps = 0;
if (swapEvery) setInterval(() => gateway.deploy("local", build(++swaps)), Number(swapEvery));
process.on("SIGTERM", () => {
  process.stdout.write(JSON.stringify({ swaps }) + "\n");
  process.exit(0);
});
process.stdout.write("ready\n");
