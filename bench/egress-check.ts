/**
 * What the egress check costs (part of `npm run bench:gateway`; alone: node --import tsx
 * bench/egress-check.ts). The check runs once per new upstream connection, never per request on a
 * kept-alive one: timed here as the check alone, and as new connections per second to a loopback
 * upstream through a preview's checked pool beside undici's plain pool.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Pool } from "undici";
import { EgressPolicy, parseAllowList, Upstreams } from "../src/gateway/index.js";

export interface EgressCheckFigures {
  checkIpNs: number;
  checkNameNs: number;
  plainConnPerS: number;
  checkedConnPerS: number;
}

async function connectionsPerSecond(pool: Pool, port: number, count: number): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < count; i++) {
    // `reset` closes the connection after the answer: every request opens a new one.
    const r = await pool.request({ path: "/", method: "GET", reset: true, headers: { host: `127.0.0.1:${port}` } });
    await r.body.text();
  }
  return count / ((performance.now() - t) / 1000);
}

export async function measureEgressCheck(iterations = 200_000, connections = 400): Promise<EgressCheckFigures> {
  const policy = new EgressPolicy({ fenced: true, allow: parseAllowList("127.0.0.1"), resolver: async () => [{ address: "127.0.0.1" }] });
  const time = async (f: () => Promise<unknown>) => {
    for (let i = 0; i < 1000; i++) await f();
    const t = performance.now();
    for (let i = 0; i < iterations; i++) await f();
    return ((performance.now() - t) * 1e6) / iterations;
  };
  const checkIpNs = await time(() => policy.resolve("127.0.0.1", 8080));
  const checkNameNs = await time(() => policy.resolve("orders.internal", 8080));

  const server = createServer((_req, res) => res.end("ok"));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  const plain = new Pool(origin, { connections: 1 });
  const upstreams = new Upstreams(undefined, policy);
  const checked = upstreams.pool(origin, policy);
  // Alternate, so neither is always measured on a warmer (or busier) machine.
  const plainRuns: number[] = [];
  const checkedRuns: number[] = [];
  for (let i = 0; i < 3; i++) {
    plainRuns.push(await connectionsPerSecond(plain, port, connections));
    checkedRuns.push(await connectionsPerSecond(checked, port, connections));
  }
  await plain.close();
  await upstreams.close();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { checkIpNs, checkNameNs, plainConnPerS: mid(plainRuns), checkedConnPerS: mid(checkedRuns) };
}

export function egressCheckLines(f: EgressCheckFigures): string[] {
  return [
    `- egress check, once per new upstream connection: ${(f.checkIpNs / 1000).toFixed(2)} µs for an IP address, ${(f.checkNameNs / 1000).toFixed(2)} µs for a name (its DNS answer given) (target < 50 µs)`,
    `- new upstream connections/s (close after each answer), preview's checked pool vs undici's plain pool: ${f.checkedConnPerS.toFixed(0)} vs ${f.plainConnPerS.toFixed(0)} (${((1 - f.checkedConnPerS / f.plainConnPerS) * 100).toFixed(1)}% fewer; kept-alive connections are not checked again)`,
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const line of egressCheckLines(await measureEgressCheck())) console.log(line);
}
