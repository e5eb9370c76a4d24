/**
 * The second half of `npm run bench:webhooks`: how soon a reviewer sees a pull request's results.
 * The GitHub App as `npm start` runs it (dist/main.js, Octokit's throttling on and GitHub writes
 * paced per installation: a burst of GITWAY_GITHUB_WRITE_BURST, default 20, then one a second),
 * against a GitHub-shaped API over HTTP; PRS pull requests across REPOS repositories are
 * opened at once. Timed from each webhook: the preview serving its head through the gateway, and
 * its three checks and its comment all complete. Targets: p95 <= 2 s and p95 <= 8 s.
 * INSTALLATIONS (default 1: one organisation's app) spreads the repositories over that many
 * GitHub installations, each with its own write bucket. First, unless BENCH_WARMUP=0,
 * one untimed pull request in an installation of its own: a fresh process spends about a second
 * compiling its validators on its first config, which a running service has long done.
 */
import { startUpstream } from "../test/gateway/harness.js";
import { startAppProcess } from "../test/github/app-process.js";
import { shopFiles } from "../test/github/shop-repo.js";
import { pullRequestEvent } from "../test/github/webhooks.js";

const REPOS = Number(process.env.BENCH_REPOS ?? 5);
const PRS = Number(process.env.BENCH_PRS ?? 20);
const WARMUP = process.env.BENCH_WARMUP !== "0";
const INSTALLATIONS = Math.max(1, Math.min(REPOS, Number(process.env.BENCH_INSTALLATIONS ?? 1)));
const BOUND_MS = Number(process.env.BENCH_BOUND_MS ?? 240_000);
const BURST = process.env.GITWAY_GITHUB_WRITE_BURST;
const CHECKS = ["Gitway / validate", "Gitway / changes", "Gitway / preview"];

const percentile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;

export async function feedback(): Promise<void> {
  const upstream = await startUpstream();
  const app = await startAppProcess({ env: BURST ? { GITWAY_GITHUB_WRITE_BURST: BURST } : {} });
  try {
    if (WARMUP) {
      const repo = app.github.repo("acme", "warmup");
      const base = app.github.commit(repo, shopFiles({ upstream: upstream.url }), "main");
      const head = app.github.commit(repo, shopFiles({ upstream: upstream.url, products: true }));
      await app.deliver("pull_request", pullRequestEvent("opened", repo, app.github.installationId + 1_000, { number: 1, headSha: head, baseSha: base }));
      await app.waitFor("the warm-up pull request's checks and comment", () => CHECKS.every((name) => app.github.latestCheck(head, name)?.status === "completed") && app.github.commentsOf(repo, 1).length > 0, 60_000);
    }
    const before = app.github.sent.length;
    const prs = Array.from({ length: PRS }, (_, i) => {
      const repo = app.github.repos.get(`acme/bench${i % REPOS}`) ?? app.github.repo("acme", `bench${i % REPOS}`);
      const base = repo.branches.get("main") ?? app.github.commit(repo, shopFiles({ upstream: upstream.url }), "main");
      const head = app.github.commit(repo, shopFiles({ upstream: upstream.url, products: true }));
      const installationId = app.github.installationId + ((i % REPOS) % INSTALLATIONS);
      return { repo, base, head, installationId, number: i + 1, label: `acme-bench${i % REPOS}-pr-${i + 1}` };
    });
    const served: number[] = [];
    const complete: number[] = [];
    const started = performance.now();
    await Promise.all(
      prs.map(async (pr) => {
        const t0 = performance.now();
        await app.deliver("pull_request", pullRequestEvent("opened", pr.repo, pr.installationId, { number: pr.number, headSha: pr.head, baseSha: pr.base }));
        let servedAt: number | undefined;
        while (performance.now() - started < BOUND_MS) {
          if (servedAt === undefined && (await app.call(pr.label, "/api/v1/products")).status === 200) {
            servedAt = performance.now();
            served.push(servedAt - t0);
          }
          const done = CHECKS.every((name) => app.github.latestCheck(pr.head, name)?.status === "completed") && app.github.commentsOf(pr.repo, pr.number).length > 0;
          if (servedAt !== undefined && done) {
            complete.push(performance.now() - t0);
            return;
          }
          await new Promise((r) => setTimeout(r, 50));
        }
      }),
    );
    served.sort((a, b) => a - b);
    complete.sort((a, b) => a - b);
    const line = (what: string, xs: number[], target: number) =>
      xs.length === 0
        ? `${what}: none within ${BOUND_MS / 1000} s`
        : `${what}: p50 ${(percentile(xs, 0.5) / 1000).toFixed(2)} s, p95 ${(percentile(xs, 0.95) / 1000).toFixed(2)} s (${xs.length} of ${PRS}${xs.length < PRS ? `, the rest not within ${BOUND_MS / 1000} s` : ""}); target p95 <= ${target} s: ${xs.length === PRS && percentile(xs, 0.95) <= target * 1000 ? "meets" : "MISSES"}`;
    const written = app.github.sent.slice(before).filter((s) => s.method !== "GET" && !s.path.endsWith("/access_tokens"));
    const writes = written.length;
    const feedbackWrites = written.filter((s) => /\/check-runs|\/comments/.test(s.path)).length;
    console.log(`${PRS} pull requests across ${REPOS} repositories in ${INSTALLATIONS} installation(s) opened at once (dist/main.js, GitHub writes paced per installation: a burst of ${BURST ?? 20}, then one a second${WARMUP ? "; after one untimed pull request warmed the app" : "; the app cold"})`);
    console.log(line("webhook -> preview serving     ", served, 2));
    console.log(line("webhook -> checks and comment  ", complete, 8));
    console.log(`GitHub writes by then: ${writes} (${(writes / PRS).toFixed(1)} a pull request), of them checks and comments ${feedbackWrites} (${(feedbackWrites / PRS).toFixed(1)} a pull request); deployments follow them`);
    if (complete.length < PRS) {
      // Why some never completed: the app's own warnings (the generated admin token line left out).
      const said = app.process.output().split("\n").filter((l) => /"level":"(warn|error|fatal)"/.test(l) && !l.includes("admin token"));
      console.log(`the app's warnings (${said.length}):\n${said.slice(-20).join("\n")}`);
    }
  } finally {
    await app.stop();
    await upstream.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await feedback();
