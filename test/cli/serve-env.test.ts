import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { forward, policiesFile, route, routesFile } from "../config/fixtures/seed.js";
import { startUpstream } from "../gateway/harness.js";
import { gitway, startServe } from "./run-cli.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

/** A repository whose one route sends `x-token: $env(<name>)` to the upstream. */
function repo(upstream: string, name: string): string {
  const dir = mkdtempSync(join(tmpdir(), "gitway-env-"));
  mkdirSync(join(dir, "config"));
  const setHeader = { name: "token", policyType: "set-headers-inbound", handler: { export: "SetHeadersInboundPolicy", module: "$import(@zuplo/runtime)", options: { headers: [{ name: "x-token", value: `$env(${name})` }] } } };
  writeFileSync(join(dir, "config/routes.oas.json"), routesFile([{ route: route(["token"], forward(upstream)) }]));
  writeFileSync(join(dir, "config/policies.json"), policiesFile([setHeader]));
  return dir;
}

/** `gitway serve` as a user starts it; resolves with its URL once it listens, stopped after the test. */
async function serve(args: string[], env: Record<string, string>): Promise<string> {
  const g = startServe([...args, "--port", "0", "--quiet"], env);
  closers.push(async () => (await g.catch(() => undefined))?.stop());
  return (await g).url;
}

async function tokenSeen(url: string, u: Awaited<ReturnType<typeof startUpstream>>): Promise<string | string[] | undefined> {
  const r = await request(`${url}/api/v1/orders`);
  await r.body.dump();
  return u.seen.at(-1)?.headers["x-token"];
}

describe("gitway serve and $env", () => {
  it("does not hand the process environment to $env: a config naming DATABASE_URL does not start, and the error names it", async () => {
    const u = await startUpstream();
    closers.push(u.close);
    const r = gitway(["serve", repo(u.url, "DATABASE_URL"), "--port", "0"], { env: { DATABASE_URL: "postgres://user:hunter2@db/prod" } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("$env(DATABASE_URL)");
    expect(r.stderr).toContain("--env-file");
    expect(r.stderr + r.stdout).not.toContain("hunter2");
  });

  it("reads values from --env-file", async () => {
    const u = await startUpstream();
    closers.push(u.close);
    const dir = repo(u.url, "ORDERS_TOKEN");
    writeFileSync(join(dir, "local.env"), '# for local runs\nexport ORDERS_TOKEN="tok en"\nOTHER=1\n');
    expect(await tokenSeen(await serve([dir, "--env-file", join(dir, "local.env")], { ORDERS_TOKEN: "from-shell" }), u)).toBe("tok en");
  });

  it("passes one shell variable with --env NAME", async () => {
    const u = await startUpstream();
    closers.push(u.close);
    expect(await tokenSeen(await serve([repo(u.url, "ORDERS_TOKEN"), "--env", "ORDERS_TOKEN"], { ORDERS_TOKEN: "from-shell" }), u)).toBe("from-shell");
  });

  it("refuses --env NAME for a variable the shell does not set, naming it (exit 2)", async () => {
    const r = gitway(["serve", repo("http://127.0.0.1:9", "ORDERS_TOKEN"), "--env", "NOT_SET_ANYWHERE_42"], { env: {} });
    expect([r.code, r.stderr]).toEqual([2, "gitway: --env NOT_SET_ANYWHERE_42: not set in this shell\n"]);
  });

  it("refuses a malformed --env-file line by number, without quoting the value", () => {
    const dir = repo("http://127.0.0.1:9", "ORDERS_TOKEN");
    writeFileSync(join(dir, "bad.env"), "ORDERS_TOKEN=fine\nthis is secret-ish\n");
    const r = gitway(["serve", dir, "--env-file", join(dir, "bad.env")]);
    expect([r.code, r.stderr]).toEqual([2, `gitway: --env-file ${join(dir, "bad.env")}: line 2: expected NAME=value\n`]);
  });
});
