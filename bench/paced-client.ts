/**
 * An open-loop load client, as wrk2 is (wrk2 is not in Debian): requests are sent at a fixed rate
 * whatever the answers do, and each is timed from when it was due, not from when it could be sent.
 * A stall therefore shows in the latency of every request scheduled during it (no coordinated
 * omission), where a closed-loop client such as wrk would simply send less.
 *
 * argv: <url> <rate per s> <seconds> <connections> [headers as JSON]; one more second of warm-up comes first.
 * Prints one JSON line: {sent, ok, errors, p50, p90, p99, p999, max} (ms).
 */
import { Pool } from "undici";

const [url, rateArg, secondsArg, connectionsArg, headersArg] = process.argv.slice(2) as [string, string, string, string, string | undefined];
const rate = Number(rateArg);
const seconds = Number(secondsArg);
const target = new URL(url);
const headers = headersArg ? (JSON.parse(headersArg) as Record<string, string>) : {};
// Enough connections that the client itself is not what queues; every wait still counts from the due time.
const pool = new Pool(target.origin, { connections: Number(connectionsArg), pipelining: 1, keepAliveTimeout: 30_000 });

// The first second is a warm-up at the same rate (connections opened, code compiled on both
// sides) and is not recorded.
const WARMUP_S = 1;
const warmup = Math.round(rate * WARMUP_S);
const total = warmup + Math.round(rate * seconds);
const latencies = new Float64Array(total);
let done = 0;
let errors = 0;
let sent = 0;
const start = performance.now() + 50;
const intervalMs = 1000 / rate;

function send(i: number, due: number): void {
  pool.request({ path: target.pathname + target.search, method: "GET", headers }).then(
    async (r) => {
      await r.body.dump();
      if (r.statusCode >= 400 && i >= warmup) errors++;
      latencies[i] = performance.now() - due;
      done++;
    },
    () => {
      if (i >= warmup) errors++;
      latencies[i] = performance.now() - due;
      done++;
    },
  );
}

await new Promise<void>((resolve) => {
  const tick = () => {
    const now = performance.now();
    // Everything due by now goes out now, timed from its own due time.
    while (sent < total && start + sent * intervalMs <= now) {
      send(sent, start + sent * intervalMs);
      sent++;
    }
    if (sent < total) setTimeout(tick, Math.max(0, Math.min(1, start + sent * intervalMs - performance.now())));
    else resolve();
  };
  tick();
});
const deadline = performance.now() + 10_000;
while (done < total && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
await pool.close();

const sorted = Array.from(latencies.subarray(warmup, done)).sort((a, b) => a - b);
const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
const round = (v: number) => Math.round(v * 100) / 100;
process.stdout.write(JSON.stringify({ sent: sent - warmup, ok: done - warmup - errors, errors: errors + (total - done), p50: round(at(0.5)), p90: round(at(0.9)), p99: round(at(0.99)), p999: round(at(0.999)), max: round(sorted.at(-1) ?? NaN) }) + "\n");
