import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { hashKey } from "../../src/gateway/index.js";
import { addConsumer } from "../../src/store/index.js";
import { startUpstream } from "../gateway/harness.js";
import { startApp, WEBHOOK_SECRET, type AppUnderTest } from "./app-harness.js";
import type { FakeRepo } from "./fake-github.js";
import { shopFiles } from "./shop-repo.js";
import { checkRunEvent, deliver, pullRequestEvent } from "./webhooks.js";

const PR = 7;

// One app for the file (starting one takes seconds); each test has a repository of its own.
let t: AppUnderTest;
let upstream: Awaited<ReturnType<typeof startUpstream>>;
let repo: FakeRepo;
let baseSha: string;
let LABEL: string;
let serial = 0;

beforeAll(async () => {
  upstream = await startUpstream();
  t = await startApp();
});

afterAll(async () => {
  await t?.close();
  await upstream?.close();
});

beforeEach(() => {
  repo = t.github.repo("acme", `shop${++serial}`);
  LABEL = `acme-shop${serial}-pr-${PR}`;
  baseSha = t.github.commit(repo, shopFiles({ upstream: upstream.url }), "main");
});

afterEach(() => {
  // Every request the app made was one the fake GitHub knows: nothing went unanswered.
  expect(t.github.unexpected).toEqual([]);
});

/** Settings on the default branch's head: with nothing in production yet, the ones a change is judged by. */
function trustedSettings(settings: string): string {
  baseSha = t.github.commit(repo, shopFiles({ upstream: upstream.url, settings }), "main");
  return settings;
}

async function open(headSha: string, extra: { fork?: boolean; action?: string } = {}) {
  const r = await deliver(t.app.appUrl, "pull_request", pullRequestEvent(extra.action ?? "opened", repo, t.github.installationId, { number: PR, headSha, baseSha, fork: extra.fork }), WEBHOOK_SECRET);
  expect(r.status).toBe(200);
  await t.app.idle();
  return r;
}

describe("a pull request", () => {
  describe("with a valid change", () => {
    it("gets a passing validate and changes check, a preview that serves the head, a deployment and one comment", async () => {
      const head = t.github.commit(repo, shopFiles({ upstream: upstream.url, products: true }));
      await open(head);

      expect(t.github.latestCheck(head, "Gitway / validate")).toMatchObject({ status: "completed", conclusion: "success" });
      expect(t.github.latestCheck(head, "Gitway / changes")).toMatchObject({ status: "completed", conclusion: "success" });
      expect(t.github.latestCheck(head, "Gitway / changes")!.output.summary).toContain("operation-added");
      const preview = t.github.latestCheck(head, "Gitway / preview")!;
      expect(preview).toMatchObject({ status: "completed", conclusion: "success", details_url: `http://${LABEL}.gitway.test:8787/` });

      const [deployment, ...more] = t.github.deploymentsOf(repo, `pr-${PR}`);
      expect(more).toEqual([]);
      expect(deployment).toMatchObject({ ref: head, transient_environment: true, production_environment: false, required_contexts: [], auto_merge: false });
      expect(deployment!.statuses).toEqual([
        { state: "success", environment_url: `http://${LABEL}.gitway.test:8787/`, description: `Serving at http://${LABEL}.gitway.test:8787/` },
      ]);

      const comments = t.github.commentsOf(repo, PR);
      expect(comments).toHaveLength(1);
      expect(comments[0]!.body).toContain("<!-- gitway:pull-request-summary -->");
      expect(comments[0]!.body).toContain(`http://${LABEL}.gitway.test:8787/`);
      expect(comments[0]!.body).toContain(`gitway keys create --env ${LABEL} --consumer`);

      // The preview serves the head for real: the new open route forwards, the keyed one asks for a key.
      expect(await t.call(LABEL, "/api/v1/products")).toMatchObject({ status: 200 });
      expect(upstream.seen.at(-1)!.url).toBe("/api/v1/products");
      expect((await t.call(LABEL, "/api/v1/orders")).status).toBe(401);
    });

    it("is previewed with the API keys stored for its environment", async () => {
      const head = t.github.commit(repo, shopFiles({ upstream: upstream.url }));
      await open(head);
      const env = await t.app.records.findEnvironment(await t.app.records.repository("acme", repo.name), `pr-${PR}`);
      await addConsumer(t.app.store.db, env!.id, "reviewer", [hashKey("reviewer-key-1")]);
      // A synchronize rebuilds the release with the keys now stored.
      const next = t.github.commit(repo, shopFiles({ upstream: upstream.url, products: true }));
      await open(next, { action: "synchronize" });
      expect((await t.call(LABEL, "/api/v1/orders", { authorization: "Bearer reviewer-key-1" })).status).toBe(200);
      expect(upstream.seen.at(-1)!.headers["x-consumer-name"]).toBe("reviewer");
      expect(t.github.commentsOf(repo, PR)).toHaveLength(1);
    });
  });

  describe("with an invalid config", () => {
    it("fails validate with each problem annotated at its file and line, and deploys nothing", async () => {
      const files = shopFiles({ upstream: upstream.url });
      // 60 routes naming a policy that policies.json does not define: 60 annotations, sent 50 a request.
      const routes = JSON.parse(files["config/routes.oas.json"]!);
      for (let i = 0; i < 60; i++) {
        routes.paths[`/api/v1/broken-${i}`] = { get: { operationId: `broken${i}`, responses: { "200": { description: "OK" } }, "x-zuplo-route": { corsPolicy: "none", handler: { export: "urlForwardHandler", module: "$import(@zuplo/runtime)", options: { baseUrl: upstream.url } }, policies: { inbound: ["no-such-policy"] } } } };
      }
      const text = JSON.stringify(routes, null, 2);
      const head = t.github.commit(repo, { ...files, "config/routes.oas.json": text });
      await open(head);

      const validate = t.github.latestCheck(head, "Gitway / validate")!;
      expect(validate.conclusion).toBe("failure");
      expect(validate.annotations).toHaveLength(60);
      const firstLine = text.split("\n").findIndex((l) => l.includes('"no-such-policy"')) + 1;
      expect(validate.annotations[0]).toMatchObject({ path: "config/routes.oas.json", start_line: firstLine, annotation_level: "failure", title: "policy-undefined" });
      // Created with its result and the first 50; the rest follow in an update.
      const created = t.github.sent.filter((s) => s.method === "POST" && s.path === `/repos/acme/${repo.name}/check-runs` && (s.body as { name: string; head_sha: string }).name === "Gitway / validate" && (s.body as { head_sha: string }).head_sha === head);
      const updates = [...created, ...t.github.sent.filter((s) => s.method === "PATCH" && s.path === `/repos/acme/${repo.name}/check-runs/${validate.id}`)];
      expect(updates.map((u) => (u.body as { output: { annotations: unknown[] } }).output.annotations.length)).toEqual([50, 10]);

      expect(t.github.latestCheck(head, "Gitway / preview")).toMatchObject({ conclusion: "neutral" });
      expect(t.github.deploymentsOf(repo, `pr-${PR}`)).toEqual([]);
      expect((await t.call(LABEL, "/api/v1/orders")).status).toBe(404);
      expect(t.github.commentsOf(repo, PR)[0]!.body).toContain("the config has errors");
    });

    it("fails validate when .github/gitway.yml is invalid, instead of using defaults silently", async () => {
      const head = t.github.commit(repo, shopFiles({ upstream: upstream.url, settings: "stages: [production]\ncomment: maybe\n" }));
      await open(head);
      const validate = t.github.latestCheck(head, "Gitway / validate")!;
      expect(validate.conclusion).toBe("failure");
      expect(validate.annotations.map((a) => [a.path, a.title])).toContainEqual([".github/gitway.yml", "settings-invalid"]);
    });
  });

  describe("with a breaking change", () => {
    async function breaking() {
      repo.permissions.set("reader-rita", { permission: "read", role_name: "read" });
      repo.permissions.set("writer-wes", { permission: "write", role_name: "write" });
      const head = t.github.commit(repo, shopFiles({ upstream: upstream.url, ordersOpen: true }));
      repo.pulls.set(PR, { number: PR, state: "open", head: { sha: head, ref: "feature", fork: false }, base: { sha: baseSha, ref: "main" } });
      await open(head);
      return head;
    }

    const approveAs = async (sender: string, head: string) => {
      const check = t.github.latestCheck(head, "Gitway / changes")!;
      const r = await deliver(t.app.appUrl, "check_run", checkRunEvent("requested_action", repo, t.github.installationId, { id: check.id, name: check.name, headSha: head, pr: { number: PR, baseSha }, sender, output: check.output }), WEBHOOK_SECRET);
      expect(r.status).toBe(200);
      await t.app.idle();
    };

    it("fails the changes check and offers an Approve breaking action", async () => {
      const head = await breaking();
      const changes = t.github.latestCheck(head, "Gitway / changes")!;
      expect(changes.conclusion).toBe("failure");
      expect(changes.output.title).toBe("1 unapproved breaking change");
      expect(changes.output.summary).toContain("route-authentication-removed");
      // "Where" links to the file and line at the head commit on the host the app talks to.
      expect(changes.output.summary).toMatch(new RegExp(`\\[config/[^\\]]+:\\d+\\]\\(https://github\\.com/acme/${repo.name}/blob/${head}/config/[^)#]+#L\\d+\\)`));
      expect(changes.actions).toEqual([{ identifier: "approve-breaking", label: "Approve breaking", description: "Accept these breaking changes" }]);
    });

    it("turns the check green when a user with write permission approves, and records who and what", async () => {
      const head = await breaking();
      await approveAs("writer-wes", head);
      const changes = t.github.latestCheck(head, "Gitway / changes")!;
      expect(changes.conclusion).toBe("success");
      expect(changes.output.summary).toContain("approved by @");
      const audit = await t.app.store.db.execute(sql`SELECT actor, action, commit_sha, details FROM audit_log WHERE action = 'breaking.approved' AND commit_sha = ${head}`);
      const rows = ((audit as { rows?: unknown[] }).rows ?? audit) as { actor: string; commit_sha: string; details: { fingerprints: string[] } }[];
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ actor: "writer-wes", commit_sha: head });
      expect(rows[0]!.details.fingerprints).toHaveLength(1);
    });

    it("refuses the approval of a user who can only read, says so on the check, and changes nothing", async () => {
      const head = await breaking();
      await approveAs("reader-rita", head);
      const changes = t.github.latestCheck(head, "Gitway / changes")!;
      expect(changes.conclusion).toBe("failure");
      expect(changes.output.summary).toContain("@reader-rita cannot approve breaking changes here");
      const approved = await t.app.records.approvedFingerprints(await t.app.records.repository("acme", repo.name), PR);
      expect(approved.size).toBe(0);
    });

    it("keeps an approval across pushes while the change stays the same, and asks again for a new one", async () => {
      const head = await breaking();
      await approveAs("writer-wes", head);
      const next = t.github.commit(repo, shopFiles({ upstream: upstream.url, ordersOpen: true, products: true }));
      await open(next, { action: "synchronize" });
      expect(t.github.latestCheck(next, "Gitway / changes")!.conclusion).toBe("success");

      const worse = t.github.commit(repo, shopFiles({ upstream: upstream.url, withoutOrders: true, products: true }));
      await open(worse, { action: "synchronize" });
      const changes = t.github.latestCheck(worse, "Gitway / changes")!;
      expect(changes.conclusion).toBe("failure");
      expect(changes.output.summary).toContain("operation-removed");
    });

    it("makes the check only neutral when the repository says so", async () => {
      const settings = trustedSettings("checks:\n  breaking: neutral\n");
      const head = t.github.commit(repo, shopFiles({ upstream: upstream.url, ordersOpen: true, settings }));
      await open(head);
      expect(t.github.latestCheck(head, "Gitway / changes")!.conclusion).toBe("neutral");
    });
  });

  describe("from a fork", () => {
    it("gets validate and changes, and no preview when its config needs a secret value", async () => {
      const settings = trustedSettings("previews:\n  inherit: staging\n  forks: auto\n");
      const files = shopFiles({ upstream: upstream.url, products: true, productsInbound: ["upstream-token"], settings, extraPolicies: [{ name: "upstream-token", policyType: "set-headers-inbound", handler: { export: "SetHeadersInboundPolicy", module: "$import(@zuplo/runtime)", options: { headers: [{ name: "x-upstream-token", value: "$env(UPSTREAM_TOKEN)" }] } } }] });
      await storeStagingSecret();
      const head = t.github.commit(repo, files);
      await open(head, { fork: true });

      expect(t.github.latestCheck(head, "Gitway / validate")!.conclusion).toBe("success");
      expect(t.github.latestCheck(head, "Gitway / changes")!.conclusion).toBe("success");
      const preview = t.github.latestCheck(head, "Gitway / preview")!;
      expect(preview.conclusion).toBe("failure");
      expect(preview.output.title).toContain("comes from a fork");
      expect(t.github.deploymentsOf(repo, `pr-${PR}`)[0]!.statuses.at(-1)!.state).toBe("failure");
      expect(t.github.commentsOf(repo, PR)[0]!.body).toContain("comes from a fork");
      expect((await t.call(LABEL, "/api/v1/products")).status).toBe(404);
    });

    it("is previewed when its config needs no secret and the repository previews forks automatically", async () => {
      const settings = trustedSettings("previews:\n  forks: auto\n");
      const head = t.github.commit(repo, shopFiles({ upstream: upstream.url, products: true, settings }));
      await open(head, { fork: true });
      expect(t.github.latestCheck(head, "Gitway / preview")!.conclusion).toBe("success");
      expect((await t.call(LABEL, "/api/v1/products")).status).toBe(200);
    });

    it("while a pull request from the repository itself gets the inherited secret in its preview", async () => {
      const settings = trustedSettings("previews:\n  inherit: staging\n");
      const files = shopFiles({ upstream: upstream.url, products: true, productsInbound: ["upstream-token"], settings, extraPolicies: [{ name: "upstream-token", policyType: "set-headers-inbound", handler: { export: "SetHeadersInboundPolicy", module: "$import(@zuplo/runtime)", options: { headers: [{ name: "x-upstream-token", value: "$env(UPSTREAM_TOKEN)" }] } } }] });
      await storeStagingSecret();
      const head = t.github.commit(repo, files);
      await open(head);
      expect((await t.call(LABEL, "/api/v1/products")).status).toBe(200);
      expect(upstream.seen.at(-1)!.headers["x-upstream-token"]).toBe("s3cret-upstream-token-value");
    });
  });

  async function storeStagingSecret() {
    const { setVariable, secretKeyFrom } = await import("../../src/store/index.js");
    const repositoryId = await t.app.records.repository("acme", repo.name);
    const staging = await t.app.records.environment(repositoryId, { name: "staging", kind: "stage" });
    await setVariable(t.app.store.db, secretKeyFrom(t.env.GITWAY_SECRET_KEY), { environmentId: staging.id, name: "UPSTREAM_TOKEN", value: "s3cret-upstream-token-value", secret: true });
  }

  describe("closed", () => {
    it("tears the preview down: its host answers 404, its deployment goes inactive, and the comment says so", async () => {
      const head = t.github.commit(repo, shopFiles({ upstream: upstream.url, products: true }));
      await open(head);
      expect((await t.call(LABEL, "/api/v1/products")).status).toBe(200);
      await open(head, { action: "closed" });
      expect((await t.call(LABEL, "/api/v1/products")).status).toBe(404);
      expect(t.github.deploymentsOf(repo, `pr-${PR}`)[0]!.statuses.at(-1)!.state).toBe("inactive");
      const comments = t.github.commentsOf(repo, PR);
      expect(comments).toHaveLength(1);
      expect(comments[0]!.body).toContain("was removed");
    });
  });
});
