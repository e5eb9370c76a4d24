import { createHmac, randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import type { FakeRepo } from "./fake-github.js";

/** Real payloads from @octokit/webhooks-examples, patched to point at the test repository. */
const examples = createRequire(import.meta.url)("@octokit/webhooks-examples/api.github.com/index.json") as { name: string; examples: Record<string, unknown>[] }[];

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export function example(event: string, action?: string): Json {
  const found = examples.find((e) => e.name === event)?.examples.find((x) => action === undefined || x.action === action);
  if (!found) throw new Error(`no example payload for ${event}.${action}`);
  return structuredClone(found) as Json;
}

function patchRepository(payload: Json, repo: FakeRepo, installationId: number): Json {
  payload.repository = { ...payload.repository, id: 77, name: repo.name, full_name: `${repo.owner}/${repo.name}`, owner: { ...payload.repository.owner, login: repo.owner }, default_branch: repo.defaultBranch };
  payload.installation = { id: installationId, node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ==" };
  return payload;
}

export function pullRequestEvent(action: string, repo: FakeRepo, installationId: number, pr: { number: number; headSha: string; baseSha: string; headRef?: string; fork?: boolean; merged?: boolean; sender?: string }): Json {
  const p = patchRepository(example("pull_request", action), repo, installationId);
  const full = `${repo.owner}/${repo.name}`;
  p.number = pr.number;
  p.sender = { ...p.sender, login: pr.sender ?? "dev-alice" };
  p.pull_request = {
    ...p.pull_request,
    number: pr.number,
    merged: pr.merged ?? false,
    state: action === "closed" ? "closed" : "open",
    head: { ...p.pull_request.head, sha: pr.headSha, ref: pr.headRef ?? "feature", repo: { ...p.pull_request.head.repo, id: pr.fork ? 99 : 77, full_name: pr.fork ? `fork-owner/${repo.name}` : full } },
    base: { ...p.pull_request.base, sha: pr.baseSha, ref: repo.defaultBranch, repo: { ...p.pull_request.base.repo, id: 77, full_name: full } },
  };
  // GitHub holds the pull request as the event says it is now: the app reads its state before it deploys.
  repo.pulls.set(pr.number, { number: pr.number, state: action === "closed" ? "closed" : "open", head: { sha: pr.headSha, ref: pr.headRef ?? "feature", fork: pr.fork ?? false }, base: { sha: pr.baseSha, ref: repo.defaultBranch } });
  return p;
}

export function pushEvent(repo: FakeRepo, installationId: number, branch: string, before: string, after: string): Json {
  const p = patchRepository(example("push"), repo, installationId);
  p.ref = `refs/heads/${branch}`;
  p.before = before;
  p.after = after;
  p.deleted = false;
  p.created = false;
  p.sender = { ...(p.sender ?? {}), login: "dev-alice" };
  return p;
}

export function checkRunEvent(action: "rerequested" | "requested_action", repo: FakeRepo, installationId: number, run: { id: number; name: string; headSha: string; pr?: { number: number; baseSha: string }; branch?: string; sender: string; output?: { title?: string; summary?: string } }): Json {
  const p = patchRepository(example("check_run", action), repo, installationId);
  p.sender = { ...p.sender, login: run.sender };
  p.check_run = {
    ...p.check_run,
    id: run.id,
    name: run.name,
    head_sha: run.headSha,
    output: { ...p.check_run.output, title: run.output?.title ?? null, summary: run.output?.summary ?? null },
    check_suite: { ...p.check_run.check_suite, head_branch: run.branch ?? null, head_sha: run.headSha },
    pull_requests: run.pr ? [{ url: "", id: 1, number: run.pr.number, head: { ref: "feature", sha: run.headSha, repo: { id: 77, url: "", name: repo.name } }, base: { ref: repo.defaultBranch, sha: run.pr.baseSha, repo: { id: 77, url: "", name: repo.name } } }] : [],
  };
  if (action === "requested_action") p.requested_action = { identifier: "approve-breaking" };
  return p;
}

export function deleteEvent(repo: FakeRepo, installationId: number, branch: string): Json {
  const p = patchRepository(example("delete"), repo, installationId);
  p.ref = branch;
  p.ref_type = "branch";
  p.sender = { ...p.sender, login: "dev-alice" };
  return p;
}

export function installationEvent(action: "created" | "deleted", repo: FakeRepo, installationId: number): Json {
  const p = example("installation", action);
  p.installation = { ...p.installation, id: installationId };
  p.repositories = [{ id: 77, name: repo.name, full_name: `${repo.owner}/${repo.name}`, private: false }];
  p.sender = { ...p.sender, login: "maintainer-max" };
  return p;
}

/** POSTs a payload as GitHub does: JSON, event and delivery headers, HMAC-SHA256 signature. */
export async function deliver(appUrl: string, event: string, payload: Json, secret: string, options: { deliveryId?: string; signature?: string } = {}): Promise<{ status: number; body: string; deliveryId: string; ms: number }> {
  const body = JSON.stringify(payload);
  const deliveryId = options.deliveryId ?? randomUUID();
  const signature = options.signature ?? `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
  const started = performance.now();
  const res = await fetch(`${appUrl}/api/github/webhooks`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-github-event": event, "x-github-delivery": deliveryId, "x-hub-signature-256": signature, "user-agent": "GitHub-Hookshot/test" },
    body,
  });
  return { status: res.status, body: await res.text(), deliveryId, ms: performance.now() - started };
}
