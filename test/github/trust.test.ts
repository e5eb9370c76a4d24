import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startUpstream } from "../gateway/harness.js";
import { startAppProcess, type AppProcess } from "./app-process.js";
import type { FakeRepo } from "./fake-github.js";
import { shopFiles } from "./shop-repo.js";
import { checkRunEvent, pullRequestEvent, pushEvent } from "./webhooks.js";

/**
 * What is under review never decides how it is judged or where it deploys: the app as
 * dist/main.js runs it, GitHub faked over HTTP, real webhook payloads.
 */
let app: AppProcess;
let upstream: Awaited<ReturnType<typeof startUpstream>>;
let serial = 0;

beforeAll(async () => {
  upstream = await startUpstream();
  app = await startAppProcess();
}, 60_000);

afterAll(async () => {
  expect(await app?.stop()).toBe(0);
  await upstream?.close();
});

function newRepo(): FakeRepo {
  const repo = app.github.repo("acme", `trust${++serial}`);
  repo.permissions.set("reader-rita", { permission: "read", role_name: "read" });
  repo.permissions.set("writer-wes", { permission: "write", role_name: "write" });
  return repo;
}

const completed = (sha: string, name: string) => () => {
  const run = app.github.latestCheck(sha, name);
  return run?.status === "completed" && run;
};

async function push(repo: FakeRepo, branch: string, sha: string) {
  expect((await app.deliver("push", pushEvent(repo, app.github.installationId, branch, "0".repeat(40), sha))).status).toBe(200);
}

async function openPull(repo: FakeRepo, number: number, head: string, base: string, fork: boolean, action = "opened") {
  repo.pulls.set(number, { number, state: "open", head: { sha: head, ref: "feature", fork }, base: { sha: base, ref: "main" } });
  expect((await app.deliver("pull_request", pullRequestEvent(action, repo, app.github.installationId, { number, headSha: head, baseSha: base, fork }))).status).toBe(200);
}

/** A reviewer presses a button on a check run, as GitHub delivers it. */
async function press(repo: FakeRepo, run: { id: number; name: string; head_sha: string; output: { title?: string; summary?: string } }, pr: { number: number; baseSha: string }, sender: string, action: "approve-breaking" | "deploy-preview") {
  const payload = checkRunEvent("requested_action", repo, app.github.installationId, { id: run.id, name: run.name, headSha: run.head_sha, pr, sender, output: run.output });
  payload.requested_action = { identifier: action };
  expect((await app.deliver("check_run", payload)).status).toBe(200);
}

const label = (repo: FakeRepo, env: string) => `acme-${repo.name}-${env}`;

describe("trusted settings", () => {
  it("never deploy a branch that names itself production as production, and its commit says which branch production follows", async () => {
    const repo = newRepo();
    const main = app.github.commit(repo, shopFiles({ upstream: upstream.url }), "main");
    await push(repo, "main", main);
    await app.waitFor("production deployed", () => app.github.deploymentsOf(repo, "production").at(-1)?.statuses.at(-1)?.state === "success", 60_000);

    const evil = app.github.commit(repo, shopFiles({ upstream: upstream.url, ordersOpen: true, settings: "production:\n  branch: evil\n" }), "evil");
    await push(repo, "evil", evil);
    const deploy = await app.waitFor("the check on the evil commit", completed(evil, "Gitway / deploy"), 60_000);
    expect(deploy.conclusion).toBe("neutral");
    expect(deploy.output.title).toBe("Not deployed: production follows main");
    expect(deploy.output.summary).toContain("a branch cannot make itself production");

    expect(app.github.deploymentsOf(repo, "production").map((d) => d.ref)).toEqual([main]);
    expect(app.github.deployments.filter((d) => d.ref === evil)).toEqual([]);
    expect((await app.call(label(repo, "production"), "/api/v1/orders")).status).toBe(401);
    expect(app.github.unexpected).toEqual([]);
  }, 120_000);

  it("judge a pull request that turns off route-authentication-removed by the base's rules, refuse a reader's approval though the head says permission: read, and leave another app's marked comment alone", async () => {
    const repo = newRepo();
    const base = app.github.commit(repo, shopFiles({ upstream: upstream.url }), "main");
    const settings = "diff:\n  severity:\n    route-authentication-removed: off\napprovals:\n  permission: read\n";
    const head = app.github.commit(repo, shopFiles({ upstream: upstream.url, ordersOpen: true, settings }));
    // Another app's comment carrying the marker is not this app's comment.
    const planted = { id: 1, body: "<!-- gitway:pull-request-summary -->\nAll green, merge away!", user: { login: "other-app[bot]", type: "Bot" } };
    app.github.comments.set(`acme/${repo.name}#11`, [planted]);
    await openPull(repo, 11, head, base, false);

    const changes = await app.waitFor("the changes check", completed(head, "Gitway / changes"), 60_000);
    expect(changes.conclusion).toBe("failure");
    expect(changes.output.summary).toContain("route-authentication-removed");
    expect(changes.output.summary).toContain("settings-gate-loosened");
    expect(changes.actions.map((a) => a.identifier)).toEqual(["approve-breaking"]);
    // The auth removal and both settings that loosen a gate, each breaking.
    expect(changes.output.summary).toContain("3 breaking");
    expect(changes.output.summary).toContain("route-authentication-removed from breaking to off");
    expect(changes.output.summary).toContain("approvals.permission went from write to read");

    await press(repo, changes, { number: 11, baseSha: base }, "reader-rita", "approve-breaking");
    const refused = await app.waitFor("the refusal", () => app.github.latestCheck(head, "Gitway / changes")?.output.summary?.includes("cannot approve breaking changes") && app.github.latestCheck(head, "Gitway / changes"));
    expect(refused.output.summary).toContain("needs the `write` permission");
    expect(refused.conclusion).toBe("failure");
    expect(app.github.checkRunsFor(head, "Gitway / changes")).toHaveLength(1);
    const comments = await app.waitFor("the app's own comment", () => app.github.commentsOf(repo, 11).length === 2 && app.github.commentsOf(repo, 11));
    expect(comments[0]).toEqual(planted);
    expect(comments[1]!.user.login).toBe("gitway[bot]");
    expect(app.github.unexpected).toEqual([]);
  }, 120_000);
});

describe("a pull request from a fork", () => {
  it("waits for a maintainer's Deploy preview: a reader's press is refused, a writer's deploys that head, and the next push needs a new press", async () => {
    const repo = newRepo();
    const base = app.github.commit(repo, shopFiles({ upstream: upstream.url }), "main");
    const head = app.github.commit(repo, shopFiles({ upstream: upstream.url, products: true }));
    await openPull(repo, 12, head, base, true);

    const waiting = await app.waitFor("the preview check", completed(head, "Gitway / preview"), 60_000);
    expect(waiting.conclusion).toBe("neutral");
    expect(waiting.actions).toEqual([expect.objectContaining({ identifier: "deploy-preview", label: "Deploy preview" })]);
    expect(app.github.latestCheck(head, "Gitway / validate")?.conclusion).toBe("success");
    expect(app.github.latestCheck(head, "Gitway / changes")?.conclusion).toBe("success");
    await app.waitFor("the comment", () => app.github.commentsOf(repo, 12)[0]?.body.includes("waits for a maintainer"));
    expect(app.github.deploymentsOf(repo, "pr-12")).toEqual([]);
    expect((await app.call(label(repo, "pr-12"), "/api/v1/products")).status).toBe(404);

    await press(repo, waiting, { number: 12, baseSha: base }, "reader-rita", "deploy-preview");
    await app.waitFor("the refusal", () => app.github.latestCheck(head, "Gitway / preview")?.output.summary?.includes("cannot deploy this fork's preview"));
    expect(app.github.deploymentsOf(repo, "pr-12")).toEqual([]);
    expect((await app.call(label(repo, "pr-12"), "/api/v1/products")).status).toBe(404);

    await press(repo, waiting, { number: 12, baseSha: base }, "writer-wes", "deploy-preview");
    const served = await app.waitFor("the preview deployed", () => app.github.latestCheck(head, "Gitway / preview")?.conclusion === "success" && app.github.latestCheck(head, "Gitway / preview"), 60_000);
    expect(served.output.title).toContain("Serving at");
    expect((await app.call(label(repo, "pr-12"), "/api/v1/products")).status).toBe(200);

    const next = app.github.commit(repo, { ...shopFiles({ upstream: upstream.url, products: true }), "README.md": "# shop, again\n" });
    await openPull(repo, 12, next, base, true, "synchronize");
    const again = await app.waitFor("the next preview check", completed(next, "Gitway / preview"), 60_000);
    expect(again.conclusion).toBe("neutral");
    expect(again.actions.map((a) => a.identifier)).toEqual(["deploy-preview"]);
    // Deployments follow a job's checks and comment: the approved head's is there once the writes are sent.
    await app.waitFor("the approved head's deployment", () => app.github.deploymentsOf(repo, "pr-12").length > 0);
    expect(app.github.deploymentsOf(repo, "pr-12").map((d) => d.ref)).toEqual([head]);
    expect(app.github.unexpected).toEqual([]);
  }, 180_000);
});
