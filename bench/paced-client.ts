/**
 * An open-loop load client, as wrk2 is (wrk2 is not in Debian): requests are sent at a fixed rate
 * whatever the answers do, and each is timed from when it was due, not from when it could be sent.
 * A stall therefore shows in the latency of every request scheduled during it (no coordinated
 * omission), where a closed-loop client such as wrk would simply send less.
 *
 * It speaks HTTP/1.1 on raw keep-alive sockets with the request bytes prepared once, so that on a
 * small machine the client costs far less CPU than the proxy it measures. Answers must carry a
 * Content-Length (nginx's, the bare proxy's and the gateway's do).
 *
 * argv: <url> <rate per s> <seconds> <connections> [headers as JSON]; one more second of warm-up
 * comes first and is not recorded. Prints one JSON line: {sent, ok, errors, p50, p90, p99, p999, max} (ms).
 */
import { connect, type Socket } from "node:net";

const [url, rateArg, secondsArg, connectionsArg, headersArg] = process.argv.slice(2) as [string, string, string, string, string | undefined];
const rate = Number(rateArg);
const target = new URL(url);
const headers = headersArg ? (JSON.parse(headersArg) as Record<string, string>) : {};
const requestBytes = Buffer.from(`GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`, "latin1");

const WARMUP_S = 1;
const warmup = Math.round(rate * WARMUP_S);
const total = warmup + Math.round(rate * Number(secondsArg));
const latencies = new Float64Array(total);
let done = 0;
let errors = 0;
let sent = 0;
const intervalMs = 1000 / rate;

/** Requests that are due but wait for a free connection; their clock is already running. */
const waiting: { i: number; due: number }[] = [];

interface Conn {
  socket: Socket;
  busy: { i: number; due: number } | undefined;
  buffer: Buffer;
}
const idle: Conn[] = [];

function finish(c: Conn, ok: boolean): void {
  const r = c.busy!;
  c.busy = undefined;
  latencies[r.i] = performance.now() - r.due;
  if (!ok && r.i >= warmup) errors++;
  done++;
  const next = waiting.shift();
  if (next) start(c, next);
  else idle.push(c);
}

/**
 * A connection the server closed (nginx after keepalive_requests, Node after its keep-alive
 * timeout) is replaced; a request it carried counts as an error.
 */
function open(): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const socket = connect(Number(target.port || 80), target.hostname, () => resolve());
    socket.setNoDelay(true);
    const c: Conn = { socket, busy: undefined, buffer: Buffer.alloc(0) };
    socket.on("data", (chunk: Buffer) => onData(c, chunk));
    socket.on("error", reject);
    socket.on("close", () => {
      const at = idle.indexOf(c);
      if (at !== -1) idle.splice(at, 1);
      if (c.busy) {
        const r = c.busy;
        c.busy = undefined;
        latencies[r.i] = performance.now() - r.due;
        if (r.i >= warmup) errors++;
        done++;
      }
      if (closing) return;
      open().then(
        () => {
          const next = waiting.shift();
          const fresh = newest!;
          if (next && idle.includes(fresh)) {
            idle.splice(idle.indexOf(fresh), 1);
            start(fresh, next);
          }
        },
        () => {},
      );
    });
    newest = c;
    idle.push(c);
  });
}
let newest: Conn | undefined;
let closing = false;

function start(c: Conn, r: { i: number; due: number }): void {
  c.busy = r;
  c.socket.write(requestBytes);
}

function onData(c: Conn, chunk: Buffer): void {
  c.buffer = c.buffer.length === 0 ? chunk : Buffer.concat([c.buffer, chunk]);
  for (;;) {
    const end = c.buffer.indexOf("\r\n\r\n");
    if (end === -1 || !c.busy) return;
    const head = c.buffer.subarray(0, end).toString("latin1");
    const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? "0");
    if (c.buffer.length < end + 4 + length) return;
    c.buffer = c.buffer.subarray(end + 4 + length);
    finish(c, head.startsWith("HTTP/1.1 2") || head.startsWith("HTTP/1.1 3"));
  }
}

await Promise.all(Array.from({ length: Number(connectionsArg) }, open));

const t0 = performance.now() + 20;
await new Promise<void>((resolve) => {
  const tick = () => {
    const now = performance.now();
    // Everything due by now goes out now (or waits for a connection), timed from its own due time.
    while (sent < total && t0 + sent * intervalMs <= now) {
      const r = { i: sent, due: t0 + sent * intervalMs };
      // Oldest idle first, so every connection stays in use and none hits a keep-alive timeout.
      const c = idle.shift();
      if (c) start(c, r);
      else waiting.push(r);
      sent++;
    }
    if (sent < total) setTimeout(tick, Math.max(0, Math.min(1, t0 + sent * intervalMs - performance.now())));
    else resolve();
  };
  tick();
});
const deadline = performance.now() + 10_000;
while (done < total && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));

closing = true;
const sorted = Array.from(latencies.subarray(warmup, done)).sort((a, b) => a - b);
const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
const round = (v: number) => Math.round(v * 100) / 100;
process.stdout.write(JSON.stringify({ sent: sent - warmup, ok: done - warmup - errors, errors: errors + (total - done), p50: round(at(0.5)), p90: round(at(0.9)), p99: round(at(0.99)), p999: round(at(0.999)), max: round(sorted.at(-1) ?? NaN) }) + "\n");
process.exit(0);
