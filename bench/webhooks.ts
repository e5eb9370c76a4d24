/**
 * npm run bench:webhooks — how fast a delivery is acknowledged: DELIVERIES signed pull_request
 * deliveries (real payloads from @octokit/webhooks-examples) posted CONCURRENCY at a time to the
 * app as `npm start` runs it, the worker paused so only the ack path (verify signature, record the
 * delivery and queue the job in one transaction) is timed. Beside it, the floor: a bare node:http
 * server that only verifies the same HMAC. PostgreSQL (DATABASE_URL, default the machine's) and
 * PGlite, in one run. Target: p99 under 100 ms. Then bench/feedback.ts (BENCH_FEEDBACK=0 skips it).
 */
import { createHmac, generateKeyPairSync, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { createRequire } from "node:module";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { request } from "undici";
import { readAppSettings } from "../src/app/settings.js";
import { startGitway } from "../src/app/start.js";
import { freshDatabase } from "./fresh-postgres.js";

const DELIVERIES = Number(process.env.BENCH_DELIVERIES ?? 1000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const DATABASE_URL = process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test";
const SECRET = "bench-secret";

const examples = createRequire(import.meta.url)("@octokit/webhooks-examples/api.github.com/index.json") as { name: string; examples: Record<string, unknown>[] }[];
const template = examples.find((e) => e.name === "pull_request")!.examples.find((x) => x.action === "synchronize") as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function payload(i: number): string {
  const p = structuredClone(template);
  p.installation = { id: 1 };
  p.pull_request.number = (i % 50) + 1;
  p.pull_request.head.sha = randomBytes(20).toString("hex");
  return JSON.stringify(p);
}

const percentile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;

/** Posts DELIVERIES deliveries, CONCURRENCY in flight, with a 60 s bound on the whole run. */
async function fire(url: string): Promise<{ p50: number; p99: number; max: number; perSecond: number; failures: number }> {
  const bodies = Array.from({ length: DELIVERIES }, (_, i) => payload(i));
  const times: number[] = [];
  let next = 0;
  let failures = 0;
  const deadline = Date.now() + 60_000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < bodies.length && Date.now() < deadline) {
        const body = bodies[next++]!;
        const t0 = performance.now();
        const res = await request(url, {
          method: "POST",
          headers: { "content-type": "application/json", "x-github-event": "pull_request", "x-github-delivery": randomUUID(), "x-hub-signature-256": `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}` },
          body,
        });
        await res.body.text();
        times.push(performance.now() - t0);
        if (res.statusCode !== 200) failures++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 0.5), p99: percentile(times, 0.99), max: times.at(-1)!, perSecond: times.length / elapsed, failures };
}

async function bareFloor() {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const expected = Buffer.from(`sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`);
      const given = Buffer.from(String(req.headers["x-hub-signature-256"]));
      JSON.parse(body.toString());
      res.writeHead(expected.length === given.length && timingSafeEqual(expected, given) ? 200 : 400).end("ok\n");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const result = await fire(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  server.close();
  return result;
}

async function gitway(database: "pg" | "pglite") {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048, privateKeyEncoding: { type: "pkcs8", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } });
  let drop = async () => {};
  let databaseUrl: string | undefined;
  if (database === "pg") ({ url: databaseUrl, drop } = await freshDatabase(DATABASE_URL));
  const env = { APP_ID: "1", PRIVATE_KEY: privateKey, WEBHOOK_SECRET: SECRET, PORT: "0", GATEWAY_PORT: "0", GITWAY_DATA_DIR: "memory://", LOG_LEVEL: "fatal", GITWAY_RECONCILE_SECONDS: "0", ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) };
  const app = await startGitway(readAppSettings(env), env, { runWorker: false, log: () => {} });
  try {
    return await fire(`${app.appUrl}/api/github/webhooks`);
  } finally {
    await app.close();
    await drop();
  }
}

const fmt = (r: Awaited<ReturnType<typeof fire>>) => `p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, max ${r.max.toFixed(1)} ms, ${Math.round(r.perSecond)}/s${r.failures ? `, ${r.failures} not 200` : ""}`;

const floor = await bareFloor();
console.log(`${DELIVERIES} signed deliveries, ${CONCURRENCY} in flight`);
console.log(`bare node:http + HMAC (floor)     ${fmt(floor)}`);
for (const db of ["pg", "pglite"] as const) {
  const r = await gitway(db);
  console.log(`Gitway ack on ${db === "pg" ? "PostgreSQL" : "PGlite    "}          ${fmt(r)}   p99 ${r.p99 < 100 ? "meets" : "MISSES"} the 100 ms target (${(r.p99 / floor.p99).toFixed(1)}x the floor)`);
}

// Then what a reviewer waits for: webhook to preview serving, and to all checks complete.
if (process.env.BENCH_FEEDBACK !== "0") await (await import("./feedback.js")).feedback();
