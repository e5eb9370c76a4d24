import { startUpstream } from "../test/gateway/harness.js";
import { startAppProcess } from "../test/github/app-process.js";
import { shopFiles } from "../test/github/shop-repo.js";
import { pullRequestEvent } from "../test/github/webhooks.js";
const upstream = await startUpstream();
const app = await startAppProcess({ env: { LOG_LEVEL: "debug" } });
const t00 = performance.now();
const prs = Array.from({ length: 20 }, (_, i) => {
  const repo = app.github.repos.get(`acme/bench${i % 5}`) ?? app.github.repo("acme", `bench${i % 5}`);
  const base = repo.branches.get("main") ?? app.github.commit(repo, shopFiles({ upstream: upstream.url }), "main");
  const head = app.github.commit(repo, shopFiles({ upstream: upstream.url, products: true }));
  return { repo, base, head, number: i + 1, label: `acme-bench${i % 5}-pr-${i + 1}` };
});
await Promise.all(prs.map(async (pr) => {
  const t0 = performance.now();
  await app.deliver("pull_request", pullRequestEvent("opened", pr.repo, app.github.installationId, { number: pr.number, headSha: pr.head, baseSha: pr.base }));
  const acked = performance.now() - t0;
  for (;;) {
    if ((await app.call(pr.label, "/api/v1/products")).status === 200) { console.log(`pr ${pr.number} acked ${acked.toFixed(0)} served ${(performance.now() - t0).toFixed(0)} ms`); return; }
    await new Promise((r) => setTimeout(r, 50));
  }
}));
const firstSent = app.github.sent.map((s) => `${(s.at! - t00).toFixed(0)} ${s.method} ${s.path}`);
console.log(firstSent.slice(0, 400).join("\n"));
console.log(app.process.output().slice(-30000));
await app.stop(); await upstream.close();
