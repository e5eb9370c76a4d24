import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ProbotOctokit } from "probot";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { retryingOctokit } from "../../src/app/start.js";
import { boundRequests, outsideJobSignal, RateLimitedError, rateLimitReset, withJobSignal, WritePacing, type Octokit } from "../../src/github/index.js";

/** A GitHub-shaped API on loopback: /stall never answers, /limited says the hourly limit is spent, anything else answers at once. */
let server: ReturnType<typeof createServer>;
let baseUrl: string;
const stalled: ServerResponse[] = [];
let limitedCalls = 0;
const resetAt = Math.floor(Date.now() / 1000) + 3_600;

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url?.startsWith("/repos/acme/stall")) return void stalled.push(res);
    if (req.url?.startsWith("/repos/acme/limited")) {
      limitedCalls++;
      res.writeHead(403, { "content-type": "application/json", "x-ratelimit-remaining": "0", "x-ratelimit-limit": "5000", "x-ratelimit-reset": String(resetAt) });
      return void res.end(JSON.stringify({ message: "API rate limit exceeded for installation ID 1." }));
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ name: "shop" }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const res of stalled) res.destroy();
  await new Promise<void>((r) => server.close(() => r()));
});

/** The client as the app builds it: Probot's Octokit with retry and throttling, our rate-limit answer, bounded requests. */
function client(timeoutMs: number): Octokit {
  const Octokit = retryingOctokit(ProbotOctokit, new WritePacing({ burst: 20, intervalMs: 1_000 }));
  return boundRequests(new Octokit({ baseUrl, auth: "ghs_test" }) as unknown as Octokit, timeoutMs);
}

describe("GitHub requests of a job", () => {
  it("end with a reason naming the request when GitHub does not answer within the timeout, retries included", async () => {
    const started = Date.now();
    const error = (await client(400).rest.repos.get({ owner: "acme", repo: "stall" }).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe("GitHub did not answer GET /repos/{owner}/{repo} within 0.4 s");
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("end when the job's signal fires, with the job's reason, and later requests of the job end at once", async () => {
    const job = new AbortController();
    const octokit = client(30_000);
    setTimeout(() => job.abort(new Error("the job did not finish within its deadline of 0.2 s")), 200);
    const started = Date.now();
    const error = (await withJobSignal(job.signal, () => octokit.rest.repos.get({ owner: "acme", repo: "stall" })).catch((e: unknown) => e)) as Error;
    expect(error.message).toBe("the job did not finish within its deadline of 0.2 s");
    expect(Date.now() - started).toBeLessThan(3_000);
    const next = Date.now();
    const again = await withJobSignal(job.signal, () => octokit.rest.repos.get({ owner: "acme", repo: "shop" })).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(Error);
    expect(Date.now() - next).toBeLessThan(500);
  });

  it("outlive the job's signal when they complete its checks after it ended", async () => {
    const job = new AbortController();
    job.abort(new Error("deadline"));
    const { data } = await withJobSignal(job.signal, () => outsideJobSignal(() => client(5_000).rest.repos.get({ owner: "acme", repo: "shop" })));
    expect(data.name).toBe("shop");
  });

  it("give a rate limit that resets in an hour back to the queue, with its reset time, instead of waiting in the slot", async () => {
    const started = Date.now();
    const error = await client(30_000).rest.repos.get({ owner: "acme", repo: "limited" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAt.getTime()).toBe(resetAt * 1000);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(limitedCalls).toBe(1);
  });

  it("read the reset from Retry-After, or from X-RateLimit-Reset once none remain, and only for 403 and 429", () => {
    const now = 1_000_000;
    expect(rateLimitReset({ status: 429, response: { headers: { "retry-after": "60" } } }, now)).toEqual(new Date(now + 60_000));
    expect(rateLimitReset({ status: 403, response: { headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "2000" } } }, now)).toEqual(new Date(2_000_000));
    expect(rateLimitReset({ status: 403, response: { headers: { "x-ratelimit-remaining": "12", "x-ratelimit-reset": "2000" } } }, now)).toBeUndefined();
    expect(rateLimitReset({ status: 500, response: { headers: { "retry-after": "60" } } }, now)).toBeUndefined();
  });
});
