import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ProbotOctokit } from "probot";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { retryingOctokit } from "../../src/app/start.js";
import { WritePacing, type Octokit } from "../../src/github/index.js";

/** A GitHub-shaped API on loopback that notes when each request arrived; /repos/acme/limited answers a secondary rate limit once. */
let server: ReturnType<typeof createServer>;
let baseUrl: string;
let arrivals: { method: string; path: string; at: number }[] = [];
let limitOnce = false;

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    arrivals.push({ method: req.method!, path: req.url!, at: performance.now() });
    req.resume();
    req.on("end", () => {
      if (req.url?.startsWith("/repos/acme/limited") && limitOnce) {
        limitOnce = false;
        res.writeHead(403, { "content-type": "application/json", "retry-after": "1" });
        return void res.end(JSON.stringify({ message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again." }));
      }
      res.writeHead(req.method === "POST" ? 201 : 200, { "content-type": "application/json" });
      res.end(JSON.stringify({ id: 1 }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

/** An installation's client as the app builds it (Probot's Octokit, throttling on) with the given pacing. */
function client(pacing: WritePacing, installation: string): Octokit {
  const Octokit = retryingOctokit(ProbotOctokit, pacing);
  return new Octokit({ baseUrl, auth: "ghs_test", throttle: { id: installation } }) as unknown as Octokit;
}

const gaps = (times: number[]) => times.slice(1).map((t, i) => t - times[i]!);

describe("GitHub writes through Octokit's throttling, paced by the installation's bucket", () => {
  it("go back to back while the burst lasts, a new comment included, then one an interval", async () => {
    arrivals = [];
    const octokit = client(new WritePacing({ burst: 3, intervalMs: 600 }), "41");
    // One at a time, as the installation's writer sends them. A new comment is a notifying write
    // (Octokit's own pace: three seconds apart), a check run a plain one (a second apart).
    const asked = performance.now();
    for (let n = 1; n <= 3; n++) await octokit.rest.issues.createComment({ owner: "acme", repo: "shop", issue_number: n, body: "preview" });
    for (let n = 1; n <= 2; n++) await octokit.rest.checks.create({ owner: "acme", repo: "shop", name: `check ${n}`, head_sha: "abc" });
    const times = arrivals.map((a) => a.at);
    expect(times).toHaveLength(5);
    const since = times.map((t) => t - times[0]!);
    expect(since[2]).toBeLessThan(500);
    // The bucket refills from the first write's turn on, so it is the count since then that is
    // bounded: burst + elapsed / interval. That turn came after `asked` (and a first request's own
    // set-up may delay its arrival more than a later one's, so the first arrival is no reference).
    const sinceAsked = times.map((t) => t - asked);
    expect(sinceAsked[3]).toBeGreaterThanOrEqual(600);
    expect(sinceAsked[4]).toBeGreaterThanOrEqual(1_200);
    expect(sinceAsked[4]).toBeLessThan(2_500);
  }, 20_000);

  it("keep one bucket per installation: one installation's spent burst does not hold up another's", async () => {
    arrivals = [];
    const pacing = new WritePacing({ burst: 1, intervalMs: 2_000 });
    const one = client(pacing, "51");
    const two = client(pacing, "52");
    await one.rest.checks.create({ owner: "acme", repo: "one", name: "a", head_sha: "abc" });
    const started = performance.now();
    await two.rest.checks.create({ owner: "acme", repo: "two", name: "a", head_sha: "abc" });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(pacing.available("51")).toBe(0);
  }, 20_000);

  it("are not counted when they are reads", async () => {
    const pacing = new WritePacing({ burst: 2, intervalMs: 5_000 });
    const octokit = client(pacing, "61");
    const started = performance.now();
    for (let i = 0; i < 5; i++) await octokit.rest.repos.get({ owner: "acme", repo: "shop" });
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(pacing.available("61")).toBe(2);
  }, 20_000);

  it("after a secondary rate limit, leave nothing to burst with: the retry and the writes after it go one an interval", async () => {
    arrivals = [];
    limitOnce = true;
    const pacing = new WritePacing({ burst: 5, intervalMs: 500 });
    const octokit = client(pacing, "71");
    await octokit.rest.checks.create({ owner: "acme", repo: "limited", name: "a", head_sha: "abc" });
    expect(pacing.available("71")).toBe(0);
    await octokit.rest.checks.create({ owner: "acme", repo: "limited", name: "b", head_sha: "abc" });
    const times = arrivals.map((a) => a.at);
    expect(times).toHaveLength(3);
    const [refused, retried] = gaps(times);
    // GitHub said one second; the bucket, empty until then, gives the retry the next turn after it.
    expect(refused).toBeGreaterThanOrEqual(1_400);
    expect(retried).toBeGreaterThanOrEqual(450);
  }, 20_000);
});
