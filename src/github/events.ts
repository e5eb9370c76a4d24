import type { ApplicationFunction, Context } from "probot";
import { pullRequestPreviewName } from "../pipeline/index.js";

/** The work a webhook asks for, as a durable job payload: everything the worker needs, nothing secret. */
export type GitHubWork =
  | { type: "pull_request"; installationId: number; owner: string; repo: string; number: number; close: boolean; merged: boolean; headSha: string; baseSha: string; fork: boolean; actor: string }
  | { type: "approve"; installationId: number; owner: string; repo: string; number: number; headSha: string; baseSha: string; actor: string; checkRunId: number; title: string; summary: string; action?: ReviewerAction }
  | { type: "push"; installationId: number; owner: string; repo: string; branch: string; sha: string; defaultBranch: string; actor: string }
  | { type: "delete_branch"; installationId: number; owner: string; repo: string; branch: string; actor: string }
  | { type: "rerun_commit"; installationId: number; owner: string; repo: string; sha: string; branch: string | null; defaultBranch: string; actor: string }
  | { type: "installation"; installationId: number; action: "added" | "removed"; repositories: { owner: string; repo: string }[]; actor: string }
  | { type: "sweep" }
  /** An operator unpinned a repository's stage or production: deploy what its production branch holds now. */
  | { type: "redeploy"; owner: string; repo: string; actor: string };

/** The buttons a reviewer may press on a check run: both need the trusted approval permission. */
export type ReviewerAction = "approve-breaking" | "deploy-preview";
const REVIEWER_ACTIONS: readonly string[] = ["approve-breaking", "deploy-preview"] satisfies ReviewerAction[];

export interface QueuedWork {
  kind: string;
  environmentKey: string;
  commitOrder?: number;
  payload: GitHubWork;
  deliveryId?: string;
  event?: string;
  coalesce?: boolean;
  /** The commit a preview or promotion job is for; a close or delete has none. */
  head?: string;
}

/** Records the delivery and queues its job in one transaction; a redelivery enqueues nothing. */
export type Enqueue = (work: QueuedWork) => Promise<unknown>;

export const JOB_KIND = {
  pullRequest: "github.pull_request",
  approve: "github.approve",
  push: "github.push",
  installation: "github.installation",
  sweep: "github.sweep",
} as const;

export const prKey = (owner: string, repo: string, n: number) => `gh:${owner}/${repo}:${pullRequestPreviewName(n)}`;
export const branchKey = (owner: string, repo: string, branch: string) => `gh:${owner}/${repo}:branch:${branch}`;

function splitName(fullName: string): { owner: string; repo: string } {
  const [owner, repo] = fullName.split("/");
  return { owner: owner!, repo: repo! };
}

/**
 * The Probot app: each event becomes one queued job before the webhook is answered, and no GitHub
 * API call happens here, so a delivery is acknowledged in milliseconds.
 */
export function gitwayApp(enqueue: Enqueue): ApplicationFunction {
  return (app) => {
    const queue = (context: Context, work: Omit<QueuedWork, "deliveryId" | "event">) => enqueue({ ...work, deliveryId: context.id, event: context.name });

    app.on(["pull_request.opened", "pull_request.synchronize", "pull_request.reopened", "pull_request.ready_for_review", "pull_request.closed"], async (context) => {
      const { action, pull_request: pr, repository } = context.payload;
      const installationId = context.payload.installation?.id;
      if (installationId === undefined) return;
      const owner = repository.owner.login;
      const repo = repository.name;
      await queue(context, {
        kind: JOB_KIND.pullRequest,
        environmentKey: prKey(owner, repo, pr.number),
        commitOrder: Date.now(),
        ...(action === "closed" ? {} : { head: pr.head.sha }),
        payload: {
          type: "pull_request",
          installationId,
          owner,
          repo,
          number: pr.number,
          close: action === "closed",
          merged: pr.merged === true,
          headSha: pr.head.sha,
          baseSha: pr.base.sha,
          fork: pr.head.repo?.full_name !== repository.full_name,
          actor: context.payload.sender?.login ?? "unknown",
        },
      });
    });

    app.on("push", async (context) => {
      const p = context.payload;
      const installationId = p.installation?.id;
      if (installationId === undefined || !p.ref.startsWith("refs/heads/") || p.deleted) return;
      const branch = p.ref.slice("refs/heads/".length);
      const owner = p.repository.owner?.login ?? splitName(p.repository.full_name).owner;
      await queue(context, {
        kind: JOB_KIND.push,
        environmentKey: branchKey(owner, p.repository.name, branch),
        commitOrder: Date.now(),
        head: p.after,
        payload: { type: "push", installationId, owner, repo: p.repository.name, branch, sha: p.after, defaultBranch: p.repository.default_branch ?? "main", actor: p.sender?.login ?? p.pusher.name },
      });
    });

    app.on("delete", async (context) => {
      const p = context.payload;
      const installationId = p.installation?.id;
      if (installationId === undefined || p.ref_type !== "branch") return;
      const owner = p.repository.owner.login;
      await queue(context, {
        kind: JOB_KIND.push,
        environmentKey: branchKey(owner, p.repository.name, p.ref),
        commitOrder: Date.now(),
        payload: { type: "delete_branch", installationId, owner, repo: p.repository.name, branch: p.ref, actor: p.sender.login },
      });
    });

    app.on("check_run.rerequested", async (context) => {
      const p = context.payload;
      const installationId = p.installation?.id;
      if (installationId === undefined || !p.check_run.name.startsWith("Gitway / ")) return;
      const owner = p.repository.owner.login;
      const repo = p.repository.name;
      const pr = p.check_run.pull_requests[0];
      if (pr) {
        await queue(context, {
          kind: JOB_KIND.pullRequest,
          environmentKey: prKey(owner, repo, pr.number),
          commitOrder: Date.now(),
          payload: { type: "pull_request", installationId, owner, repo, number: pr.number, close: false, merged: false, headSha: p.check_run.head_sha, baseSha: pr.base.sha, fork: pr.head.repo.id !== p.repository.id, actor: p.sender.login },
        });
        return;
      }
      const branch = p.check_run.check_suite.head_branch;
      await queue(context, {
        kind: JOB_KIND.push,
        environmentKey: branchKey(owner, repo, branch ?? p.check_run.head_sha),
        commitOrder: Date.now(),
        payload: { type: "rerun_commit", installationId, owner, repo, sha: p.check_run.head_sha, branch: branch ?? null, defaultBranch: p.repository.default_branch, actor: p.sender.login },
      });
    });

    app.on("check_run.requested_action", async (context) => {
      const p = context.payload;
      const installationId = p.installation?.id;
      const pr = p.check_run.pull_requests[0];
      const action = p.requested_action?.identifier;
      if (installationId === undefined || !pr || !action || !REVIEWER_ACTIONS.includes(action)) return;
      const owner = p.repository.owner.login;
      const repo = p.repository.name;
      await queue(context, {
        kind: JOB_KIND.approve,
        environmentKey: prKey(owner, repo, pr.number),
        // Its preview is a swap like any other: given now, it replaces what was given before.
        commitOrder: Date.now(),
        coalesce: false,
        payload: { type: "approve", installationId, owner, repo, number: pr.number, headSha: p.check_run.head_sha, baseSha: pr.base.sha, actor: p.sender.login, checkRunId: p.check_run.id, title: p.check_run.output.title ?? "", summary: p.check_run.output.summary ?? "", action: action as ReviewerAction },
      });
    });

    app.on(["installation.created", "installation.deleted"], async (context) => {
      const p = context.payload;
      const repositories = (p.repositories ?? []).map((r) => splitName(r.full_name));
      await queue(context, {
        kind: JOB_KIND.installation,
        environmentKey: `gh:installation:${p.installation.id}`,
        coalesce: false,
        payload: { type: "installation", installationId: p.installation.id, action: p.action === "created" ? "added" : "removed", repositories, actor: p.sender.login },
      });
    });

    app.on(["installation_repositories.added", "installation_repositories.removed"], async (context) => {
      const p = context.payload;
      const list = p.action === "added" ? p.repositories_added : p.repositories_removed;
      await queue(context, {
        kind: JOB_KIND.installation,
        environmentKey: `gh:installation:${p.installation.id}`,
        coalesce: false,
        payload: { type: "installation", installationId: p.installation.id, action: p.action, repositories: list.map((r) => splitName(r.full_name)), actor: p.sender.login },
      });
    });
  };
}
