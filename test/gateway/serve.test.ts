import { randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { apiKeyPolicy, forward, policiesFile, rateLimitPolicy, route, routesFile } from "../config/fixtures/seed.js";
import { startServe, type ServeProcess } from "../cli/run-cli.js";
import { startUpstream } from "./harness.js";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

function repo(upstream: string, limit: Record<string, unknown>): { dir: string; consumers: string } {
  const dir = mkdtempSync(join(tmpdir(), "gitway-serve-"));
  mkdirSync(join(dir, "config"));
  // A fresh policy name per test keeps counters in the shared Redis apart.
  const name = `limit-${randomUUID().slice(0, 8)}`;
  writeFileSync(join(dir, "config/routes.oas.json"), routesFile([{ route: route(["api-key-inbound", name], forward(upstream), { corsPolicy: "anything-goes" }) }]));
  writeFileSync(join(dir, "config/policies.json"), policiesFile([apiKeyPolicy(), rateLimitPolicy(limit, name)]));
  const consumers = join(dir, "consumers.json");
  writeFileSync(consumers, JSON.stringify([{ name: "alice", keys: ["alice-key-1"] }]));
  return { dir, consumers };
}

/** Starts `gitway serve` as a user would; it is stopped after the test. */
async function serve(dir: string, consumers: string, env: NodeJS.ProcessEnv): Promise<ServeProcess> {
  const g = startServe([dir, "--port", "0", "--consumers", consumers, "--quiet"], env);
  closers.push(async () => (await g.catch(() => undefined))?.stop());
  return g;
}

async function status(url: string, key?: string): Promise<number> {
  const r = await request(`${url}/api/v1/orders`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  await r.body.dump();
  return r.statusCode;
}

describe("gitway serve", () => {
  it("serves the seed config so a person can curl it: 401 without a key, 200 with one, 429 past the limit", async () => {
    const u = await startUpstream();
    closers.push(u.close);
    const { dir, consumers } = repo(u.url, { rateLimitBy: "ip", requestsAllowed: 2, timeWindowMinutes: 1 });
    const g = await serve(dir, consumers, { REDIS_URL: undefined });
    expect(await status(g.url)).toBe(401);
    expect([await status(g.url, "alice-key-1"), await status(g.url, "alice-key-1"), await status(g.url, "alice-key-1")]).toEqual([200, 200, 429]);
    expect(u.seen[0]!.headers["x-consumer-name"]).toBe("alice");
  });

  it("shares one limit between two gateway processes through Redis", async () => {
    const u = await startUpstream();
    closers.push(u.close);
    const { dir, consumers } = repo(u.url, { rateLimitBy: "all", requestsAllowed: 4, timeWindowMinutes: 1 });
    const a = await serve(dir, consumers, { REDIS_URL });
    const b = await serve(dir, consumers, { REDIS_URL });
    const seen = [];
    for (let i = 0; i < 3; i++) seen.push(await status(a.url, "alice-key-1"), await status(b.url, "alice-key-1"));
    expect(seen).toEqual([200, 200, 200, 200, 429, 429]);
  });

  it("lets requests through when Redis cannot be reached (fail-open), logging why", async () => {
    const u = await startUpstream();
    closers.push(u.close);
    const { dir, consumers } = repo(u.url, { rateLimitBy: "ip", requestsAllowed: 1, timeWindowMinutes: 1 });
    const g = await serve(dir, consumers, { REDIS_URL: "redis://127.0.0.1:9" });
    expect([await status(g.url, "alice-key-1"), await status(g.url, "alice-key-1")]).toEqual([200, 200]);
    expect(g.stderr()).toMatch(/rate limit store failed \(letting the request through\)/);
  });

  it("refuses with 503 when Redis cannot be reached and throwOnFailure is set", async () => {
    const u = await startUpstream();
    closers.push(u.close);
    const { dir, consumers } = repo(u.url, { rateLimitBy: "ip", requestsAllowed: 1, timeWindowMinutes: 1, throwOnFailure: true });
    const g = await serve(dir, consumers, { REDIS_URL: "redis://127.0.0.1:9" });
    expect(await status(g.url, "alice-key-1")).toBe(503);
  });

  it("refuses to start when a $env variable is not set, naming it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gitway-serve-"));
    mkdirSync(join(dir, "config"));
    writeFileSync(join(dir, "config/routes.oas.json"), routesFile([{ route: route([], forward("$env(GITWAY_TEST_UPSTREAM_UNSET)")) }]));
    writeFileSync(join(dir, "config/policies.json"), policiesFile([]));
    const consumers = join(dir, "c.json");
    writeFileSync(consumers, "[]");
    await expect(serve(dir, consumers, {})).rejects.toThrow(/does not set \$env\(GITWAY_TEST_UPSTREAM_UNSET\)/);
  });
});
