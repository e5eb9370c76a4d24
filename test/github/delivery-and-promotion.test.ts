import { sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { rowsOf, secretKeyFrom, setVariable } from "../../src/store/index.js";
import { startUpstream } from "../gateway/harness.js";
import { startApp, WEBHOOK_SECRET, type AppUnderTest } from "./app-harness.js";
import type { FakeRepo } from "./fake-github.js";
import { shopFiles, validatedOrders } from "./shop-repo.js";
import { checkRunEvent, deleteEvent, deliver, installationEvent, pullRequestEvent, pushEvent } from "./webhooks.js";

let t: AppUnderTest;
let upstream: Awaited<ReturnType<typeof startUpstream>>;
let repo: FakeRepo;
let mainSha: string;
let serial = 0;
const label = (env: string) => `acme-${repo.name}-${env}`;

beforeAll(async () => {
  upstream = await startUpstream();
  t = await startApp({ env: {} });
});

afterAll(async () => {
  await t?.close();
  await upstream?.close();
});

beforeEach(() => {
  repo = t.github.repo("acme", `store${++serial}`);
  mainSha = t.github.commit(repo, shopFiles({ upstream: upstream.url }), "main");
});

afterEach(() => {
  expect(t.github.unexpected).toEqual([]);
});

async function push(branch: string, files: Record<string, string>): Promise<string> {
  const before = repo.branches.get(branch) ?? "0".repeat(40);
  const sha = t.github.commit(repo, files, branch);
  const r = await deliver(t.app.appUrl, "push", pushEvent(repo, t.github.installationId, branch, before, sha), WEBHOOK_SECRET);
  expect(r.status).toBe(200);
  await t.app.idle();
  return sha;
}

async function pullRequest(action: string, number: number, headSha: string) {
  const r = await deliver(t.app.appUrl, "pull_request", pullRequestEvent(action, repo, t.github.installationId, { number, headSha, baseSha: mainSha }), WEBHOOK_SECRET);
  expect(r.status).toBe(200);
  return r;
}

describe("a push to the production branch", () => {
  it("promotes through each stage in order, then production, each a deployment with its URL", async () => {
    const settings = "stages: [staging]\n";
    const sha = await push("main", shopFiles({ upstream: upstream.url, products: true, settings }));
    const staging = t.github.deploymentsOf(repo, "staging");
    const production = t.github.deploymentsOf(repo, "production");
    expect(staging.map((d) => [d.ref, d.production_environment, d.transient_environment])).toEqual([[sha, false, false]]);
    expect(production.map((d) => [d.ref, d.production_environment])).toEqual([[sha, true]]);
    expect(staging[0]!.id).toBeLessThan(production[0]!.id);
    expect(production[0]!.statuses.at(-1)).toMatchObject({ state: "success", environment_url: `http://${label("production")}.gitway.test:8787/` });
    expect(t.github.latestCheck(sha, "Gitway / deploy")).toMatchObject({ conclusion: "success" });
    expect((await t.call(label("staging"), "/api/v1/products")).status).toBe(200);
    expect((await t.call(label("production"), "/api/v1/products")).status).toBe(200);
  });

  it("says nothing of nginx on the deploy check when the Node gateway serves every route (GATEWAY_ENGINE=node)", async () => {
    const sha = await push("main", shopFiles({ upstream: upstream.url, products: true, ...validatedOrders(upstream.url) }));
    const check = t.github.latestCheck(sha, "Gitway / deploy")!;
    expect(check.conclusion).toBe("success");
    expect(check.output.summary).toContain("- `production`: ");
    expect(check.output.summary).not.toMatch(/nginx|Node gateway|POST/);
    expect((await t.app.operations.deployments(label("production"), { limit: 1, offset: 0 }))[0]!.hybridRoutes).toEqual([]);
  });

  it("stops at a stage that fails, leaves production as it was, and says why on the commit", async () => {
    // The stages production already runs with are the ones a new commit goes through.
    const first = await push("main", shopFiles({ upstream: upstream.url, settings: "stages: [staging]\n" }));
    expect(t.github.deploymentsOf(repo, "production")).toHaveLength(1);
    // The new commit needs a value staging does not have.
    const files = shopFiles({
      upstream: upstream.url,
      products: true,
      productsInbound: ["token"],
      settings: "stages: [staging]\n",
      extraPolicies: [{ name: "token", policyType: "set-headers-inbound", handler: { export: "SetHeadersInboundPolicy", module: "$import(@zuplo/runtime)", options: { headers: [{ name: "x-token", value: "$env(STAGING_ONLY_TOKEN)" }] } } }],
    });
    const sha = await push("main", files);
    const check = t.github.latestCheck(sha, "Gitway / deploy")!;
    expect(check.conclusion).toBe("failure");
    expect(check.output.summary).toContain("$env(STAGING\\_ONLY\\_TOKEN)");
    expect(t.github.deploymentsOf(repo, "staging").at(-1)!.statuses.at(-1)!.state).toBe("failure");
    expect(t.github.deploymentsOf(repo, "production").map((d) => d.ref)).toEqual([first]);
    expect((await t.call(label("production"), "/api/v1/products")).status).toBe(404);
  });

  it("rolls back by revert: the reverted config is served again", async () => {
    await push("main", shopFiles({ upstream: upstream.url }));
    await push("main", shopFiles({ upstream: upstream.url, products: true }));
    expect((await t.call(label("production"), "/api/v1/products")).status).toBe(200);
    await push("main", shopFiles({ upstream: upstream.url }));
    expect((await t.call(label("production"), "/api/v1/products")).status).toBe(404);
    expect((await t.call(label("production"), "/api/v1/orders")).status).toBe(401);
  });

  it("never moves production back to an older commit: a force-push to an ancestor leaves the newer one serving, and the deploy check says why", async () => {
    const older = await push("main", shopFiles({ upstream: upstream.url, products: true }));
    const newer = await push("main", shopFiles({ upstream: upstream.url, products: true, ordersOpen: true }));
    repo.branches.set("main", older);
    const r = await deliver(t.app.appUrl, "push", pushEvent(repo, t.github.installationId, "main", newer, older), WEBHOOK_SECRET);
    expect(r.status).toBe(200);
    await t.app.idle();
    const production = await t.app.records.findEnvironment(await t.app.records.repository("acme", repo.name), "production");
    expect(production?.deployedCommitSha).toBe(newer);
    expect(t.github.deploymentsOf(repo, "production").map((d) => d.ref)).toEqual([older, newer]);
    expect(t.github.checkRunsFor(older, "Gitway / deploy").at(-1)?.output.summary).toMatch(/older than the commit it runs \(.{7} descends from it\)/);
  });

  it("deploys the production branch's head again when an operator unpins a rollback", async () => {
    const first = await push("main", shopFiles({ upstream: upstream.url }));
    await push("main", shopFiles({ upstream: upstream.url, products: true }));
    await t.app.operations.rollback(label("production"), first, "ops");
    const latest = await push("main", shopFiles({ upstream: upstream.url, products: true, ordersOpen: true }));
    const production = async () => t.app.records.findEnvironment(await t.app.records.repository("acme", repo.name), "production");
    expect(await production()).toMatchObject({ deployedCommitSha: first, pinned: true });
    await t.app.operations.unpin(label("production"), "ops");
    await t.app.idle();
    expect(await production()).toMatchObject({ deployedCommitSha: latest, pinned: false });
  });

  it("updates production only after breaking changes were approved, when the repository requires it", async () => {
    const settings = "production:\n  requireApproval: true\n";
    await push("main", shopFiles({ upstream: upstream.url, settings }));
    const sha = await push("main", shopFiles({ upstream: upstream.url, ordersOpen: true, settings }));
    const check = t.github.latestCheck(sha, "Gitway / deploy")!;
    expect(check.conclusion).toBe("failure");
    expect(check.output.summary).toContain("not approved on a pull request");
    expect((await t.call(label("production"), "/api/v1/orders")).status).toBe(401);
  });

  it("gives a commit with an invalid config a failing validate check and deploys nothing", async () => {
    await push("main", shopFiles({ upstream: upstream.url }));
    const sha = await push("main", { ...shopFiles({ upstream: upstream.url }), "config/policies.json": "{ not json" });
    expect(t.github.latestCheck(sha, "Gitway / validate")!.conclusion).toBe("failure");
    expect(t.github.latestCheck(sha, "Gitway / deploy")!.conclusion).toBe("failure");
    expect((await t.call(label("production"), "/api/v1/orders")).status).toBe(401);
  });
});

describe("a push to another branch", () => {
  it("is previewed as branch-<slug> when previews.branches lists it, and removed when the branch is deleted", async () => {
    const settings = 'previews:\n  branches: ["feature/**"]\n';
    t.github.commit(repo, shopFiles({ upstream: upstream.url, settings }), "main");
    const sha = await push("feature/stock-webhooks", shopFiles({ upstream: upstream.url, products: true, settings }));
    expect(t.github.latestCheck(sha, "Gitway / preview")!.conclusion).toBe("success");
    expect((await t.call(label("branch-feature-stock-webhooks"), "/api/v1/products")).status).toBe(200);

    const r = await deliver(t.app.appUrl, "delete", deleteEvent(repo, t.github.installationId, "feature/stock-webhooks"), WEBHOOK_SECRET);
    expect(r.status).toBe(200);
    await t.app.idle();
    expect((await t.call(label("branch-feature-stock-webhooks"), "/api/v1/products")).status).toBe(404);
    expect(t.github.deploymentsOf(repo, "branch-feature-stock-webhooks")[0]!.statuses.at(-1)!.state).toBe("inactive");
  });

  it("is not previewed twice when it has an open pull request", async () => {
    const settings = 'previews:\n  branches: ["feature/*"]\n';
    t.github.commit(repo, shopFiles({ upstream: upstream.url, settings }), "main");
    repo.pulls.set(3, { number: 3, state: "open", head: { sha: "x", ref: "feature/one", fork: false }, base: { sha: mainSha, ref: "main" } });
    const sha = await push("feature/one", shopFiles({ upstream: upstream.url, products: true, settings }));
    expect(t.github.checkRunsFor(sha)).toEqual([]);
    expect(t.github.deploymentsOf(repo, "branch-feature-one")).toEqual([]);
  });

  it("is left alone by default", async () => {
    const sha = await push("experiment", shopFiles({ upstream: upstream.url, products: true }));
    expect(t.github.checkRunsFor(sha)).toEqual([]);
  });
});

describe("deliveries", () => {
  it("answers a bad signature with 400 and touches nothing", async () => {
    const head = t.github.commit(repo, shopFiles({ upstream: upstream.url, products: true }));
    const before = t.github.sent.length;
    const r = await deliver(t.app.appUrl, "pull_request", pullRequestEvent("opened", repo, t.github.installationId, { number: 1, headSha: head, baseSha: mainSha }), WEBHOOK_SECRET, { signature: "sha256=" + "0".repeat(64) });
    expect(r.status).toBe(400);
    await t.app.idle();
    expect(t.github.sent.length).toBe(before);
    const [row] = rowsOf<{ n: number }>(await t.app.store.db.execute(sql`SELECT count(*)::int AS n FROM webhook_deliveries WHERE delivery_id = ${r.deliveryId}`));
    expect(row!.n).toBe(0);
  });

  it("treats a redelivery (the same X-GitHub-Delivery) as done", async () => {
    const head = t.github.commit(repo, shopFiles({ upstream: upstream.url, products: true }));
    const payload = pullRequestEvent("opened", repo, t.github.installationId, { number: 2, headSha: head, baseSha: mainSha });
    const first = await deliver(t.app.appUrl, "pull_request", payload, WEBHOOK_SECRET);
    await t.app.idle();
    const runs = t.github.checkRunsFor(head).length;
    const again = await deliver(t.app.appUrl, "pull_request", payload, WEBHOOK_SECRET, { deliveryId: first.deliveryId });
    expect(again.status).toBe(200);
    await t.app.idle();
    expect(t.github.checkRunsFor(head).length).toBe(runs);
    expect(t.github.deploymentsOf(repo, "pr-2")).toHaveLength(1);
  });

  it("retries a GitHub API call that failed with a server error", async () => {
    const head = t.github.commit(repo, shopFiles({ upstream: upstream.url, products: true }));
    t.github.failNext("POST", new RegExp(`^/repos/acme/${repo.name}/deployments$`), 502, 1);
    await pullRequest("opened", 4, head);
    await t.app.idle();
    const posts = t.github.sent.filter((s) => s.method === "POST" && s.path === `/repos/acme/${repo.name}/deployments`);
    expect(posts).toHaveLength(2);
    expect(t.github.latestCheck(head, "Gitway / preview")!.conclusion).toBe("success");
  });

  it("completes its check runs as failed with the reason when a job finally fails", async () => {
    const head = t.github.commit(repo, shopFiles({ upstream: upstream.url, products: true }));
    t.github.failNext("GET", new RegExp(`^/repos/acme/${repo.name}/git/trees/${head}$`), 500, 1000);
    await pullRequest("opened", 5, head);
    await t.app.idle(30_000);
    for (const name of ["Gitway / validate", "Gitway / changes", "Gitway / preview"]) {
      const runs = t.github.checkRunsFor(head, name);
      expect(runs.length).toBeGreaterThan(0);
      // No attempt leaves a check run in progress; the last says why it gave up.
      expect(runs.every((r) => r.status === "completed")).toBe(true);
      expect(runs.at(-1)).toMatchObject({ conclusion: "failure" });
      expect(runs.at(-1)!.output.summary).toContain("injected 500");
    }
    const [job] = rowsOf<{ status: string }>(await t.app.store.db.execute(sql`SELECT status FROM jobs WHERE environment_key = ${`gh:acme/${repo.name}:pr-5`}`));
    expect(job!.status).toBe("failed");
  });

  it("lets a newer push supersede a preview still running: the older never overwrites the newer", async () => {
    const older = t.github.commit(repo, shopFiles({ upstream: upstream.url, products: true }));
    const newer = t.github.commit(repo, shopFiles({ upstream: upstream.url, products: true, ordersOpen: true }));
    const release = t.github.hold("GET", new RegExp(`^/repos/acme/${repo.name}/git/trees/${older}$`));
    await pullRequest("opened", 6, older);
    // The older job is running (held at reading its tree) when the newer push arrives.
    await waitFor(() => t.github.sent.some((s) => s.path.startsWith(`/repos/acme/${repo.name}/git/trees/${older}`)));
    try {
      await pullRequest("synchronize", 6, newer);
    } finally {
      release();
    }
    await t.app.idle();

    expect(t.github.deploymentsOf(repo, "pr-6").map((d) => d.ref)).toEqual([newer]);
    expect(t.github.latestCheck(older, "Gitway / preview")).toMatchObject({ conclusion: "cancelled" });
    expect(t.github.latestCheck(newer, "Gitway / preview")).toMatchObject({ conclusion: "success" });
    const comments = t.github.commentsOf(repo, 6);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toContain(newer.slice(0, 7));
    // The newer config is what is served: orders no longer ask for a key.
    expect((await t.call(label("pr-6"), "/api/v1/orders")).status).toBe(200);
  });

  it("runs a check again when it is re-requested", async () => {
    const head = t.github.commit(repo, shopFiles({ upstream: upstream.url, products: true }));
    await pullRequest("opened", 8, head);
    await t.app.idle();
    const before = t.github.checkRunsFor(head, "Gitway / validate").length;
    const run = t.github.latestCheck(head, "Gitway / validate")!;
    await deliver(t.app.appUrl, "check_run", checkRunEvent("rerequested", repo, t.github.installationId, { id: run.id, name: run.name, headSha: head, pr: { number: 8, baseSha: mainSha }, sender: "dev-alice" }), WEBHOOK_SECRET);
    await t.app.idle();
    expect(t.github.checkRunsFor(head, "Gitway / validate").length).toBe(before + 1);
  });
});

describe("installations", () => {
  it("deploys the production branch of each repository when installed, and removes everything when uninstalled", async () => {
    const r = await deliver(t.app.appUrl, "installation", installationEvent("created", repo, t.github.installationId), WEBHOOK_SECRET);
    expect(r.status).toBe(200);
    await t.app.idle();
    expect(t.github.deploymentsOf(repo, "production").map((d) => d.ref)).toEqual([mainSha]);
    expect((await t.call(label("production"), "/api/v1/orders")).status).toBe(401);

    await deliver(t.app.appUrl, "installation", installationEvent("deleted", repo, t.github.installationId), WEBHOOK_SECRET);
    await t.app.idle();
    expect((await t.call(label("production"), "/api/v1/orders")).status).toBe(404);
  });
});

describe("secrets", () => {
  it("never appear in anything GitHub receives: not the stored $env value, not a literal credential in the config", async () => {
    const SECRET = "sup3r-s3cret-stored-value";
    const LITERAL = "literal-basic-auth-passw0rd";
    const policies = (password: string) => [
      { name: "token", policyType: "set-headers-inbound", handler: { export: "SetHeadersInboundPolicy", module: "$import(@zuplo/runtime)", options: { headers: [{ name: "x-token", value: "$env(UPSTREAM_TOKEN)" }] } } },
      { name: "basic", policyType: "basic-auth-inbound", handler: { export: "BasicAuthInboundPolicy", module: "$import(@zuplo/runtime)", options: { accounts: [{ username: "ops", password }] } } },
    ];
    const settings = "previews:\n  inherit: staging\n";
    const repositoryId = await t.app.records.repository("acme", repo.name);
    const staging = await t.app.records.environment(repositoryId, { name: "staging", kind: "stage" });
    await setVariable(t.app.store.db, secretKeyFrom(t.env.GITWAY_SECRET_KEY), { environmentId: staging.id, name: "UPSTREAM_TOKEN", value: SECRET, secret: true });
    mainSha = t.github.commit(repo, shopFiles({ upstream: upstream.url, products: true, productsInbound: ["token", "basic"], extraPolicies: policies(LITERAL + "-old"), settings }), "main");
    // The pull request changes the literal credential and breaks a route, so every report has something to say.
    const head = t.github.commit(repo, shopFiles({ upstream: upstream.url, products: true, ordersOpen: true, productsInbound: ["token", "basic"], extraPolicies: policies(LITERAL), settings }));
    await pullRequest("opened", 9, head);
    await t.app.idle();
    expect(t.github.latestCheck(head, "Gitway / preview")!.conclusion).toBe("success");
    const everything = JSON.stringify(t.github.sent) + t.logs.join("\n");
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toContain(LITERAL);
    // The secret did reach the upstream, where it belongs.
    await t.call(label("pr-9"), "/api/v1/products", { authorization: "Basic " + Buffer.from(`ops:${LITERAL}`).toString("base64") });
    expect(upstream.seen.at(-1)!.headers["x-token"]).toBe(SECRET);
  });
});

async function waitFor(condition: () => boolean, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
