import { APPROVAL_PERMISSIONS, type ApprovalPermission } from "../config/index.js";
import { approveBreaking, branchPreviewName, previewChange, pullRequestPreviewName, promoteCommit, readCommit, retireEnvironment, type Deployer, type EnvironmentRef, type Fence, type PipelineDeps, type Publisher, type Records } from "../pipeline/index.js";
import { fitText } from "../report/index.js";
import { branchKey, JOB_KIND, prKey, type Enqueue, type GitHubWork } from "./events.js";
import type { Octokit, RepoId } from "./octokit.js";
import { GitHubPublisher } from "./publisher.js";
import { outsideJobSignal, RateLimitedError } from "./request-limits.js";
import { GitHubSource } from "./source.js";

/** What the job runner needs from the process: GitHub clients, the records, the gateway, the queue. */
export interface GitHubWorkDeps {
  /** An installation's client, or the app's own without an id. */
  auth(installationId?: number): Promise<Octokit>;
  records: Records & {
    environmentsOf(repositoryId: number): Promise<(EnvironmentRef & { pullRequest: number | null; branch: string | null; deployedCommitSha: string | null; lastActivityAt: Date })[]>;
  };
  deployer: Deployer;
  enqueue: Enqueue;
  maxFileBytes: number;
  /** Previews with no activity for this long are removed by the sweep; 0 never. */
  previewTtlHours: number;
  log: (level: "info" | "warn" | "error", message: string) => void;
}

export interface JobContext {
  fence: Fence;
  /** This is the last attempt: a failure now is final, so open check runs are completed as failed. */
  finalAttempt: boolean;
}

/** `*` matches within one path segment, `**` across segments; nothing else is special. */
export function matchesBranch(patterns: readonly string[], branch: string): boolean {
  return patterns.some((p) => {
    const re = p.split("**").map((part) => part.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join("[^/]*")).join(".*");
    return new RegExp(`^${re}$`).test(branch);
  });
}

const RANK: Record<ApprovalPermission, number> = Object.fromEntries(APPROVAL_PERMISSIONS.map((p, i) => [p, i])) as Record<ApprovalPermission, number>;

/** Nothing to tell GitHub once the app is uninstalled: its token no longer works. */
const silent: Publisher = { started: async () => {}, finished: async () => {}, deploying: async () => {}, deployed: async () => {}, retired: async () => {}, comment: async () => {} };

/** Runs one queued GitHub job: builds the ports for its repository and calls the use case. */
export async function runGitHubWork(deps: GitHubWorkDeps, work: GitHubWork, job: JobContext): Promise<void> {
  if (work.type === "sweep") return sweep(deps);
  if (work.type === "installation") return installation(deps, work);
  const octokit = await deps.auth(work.installationId);
  const repo: RepoId = { owner: work.owner, repo: work.repo };
  const source = new GitHubSource(octokit, repo, { maxFileBytes: deps.maxFileBytes });
  const publisher = new GitHubPublisher(octokit, repo);
  const pipeline: PipelineDeps = { source, publisher, deployer: deps.deployer, records: deps.records, fence: job.fence };
  try {
    switch (work.type) {
      case "pull_request":
        if (work.close) {
          await retireEnvironment(pipeline, { owner: work.owner, repo: work.repo, environment: pullRequestPreviewName(work.number), actor: work.actor, reason: work.merged ? "pull request merged" : "pull request closed", pullRequest: work.number });
        } else {
          await previewChange(pipeline, { owner: work.owner, repo: work.repo, environment: { name: pullRequestPreviewName(work.number), kind: "preview", pullRequest: work.number }, headSha: work.headSha, baseSha: work.baseSha, fork: work.fork, actor: work.actor, trigger: "pull_request" });
        }
        return;
      case "approve":
        return await approve(pipeline, octokit, work);
      case "push":
        return await branchHead(pipeline, octokit, work.owner, work.repo, work.branch, work.sha, work.defaultBranch, work.actor);
      case "rerun_commit":
        if (work.branch) return await branchHead(pipeline, octokit, work.owner, work.repo, work.branch, work.sha, work.defaultBranch, work.actor);
        return;
      case "delete_branch":
        await retireEnvironment(pipeline, { owner: work.owner, repo: work.repo, environment: branchPreviewName(work.branch), actor: work.actor, reason: "branch deleted" });
        return;
    }
  } catch (e) {
    // The job's signal may be what ended it: completing the checks must not end with it.
    if (!(e instanceof RateLimitedError)) await outsideJobSignal(() => publisher.failOpen(safeReason(e), job.finalAttempt)).catch(() => {});
    throw e;
  }
}

/** An error as a reviewer may read it: its first line, short, never a stack. */
export function safeReason(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.split("\n")[0]!.slice(0, 300);
}

async function approve(pipeline: PipelineDeps, octokit: Octokit, work: Extract<GitHubWork, { type: "approve" }>): Promise<void> {
  const repo = { owner: work.owner, repo: work.repo };
  const head = await readCommit(pipeline.source, work.headSha);
  const needed = head.config?.settings.approvals.permission ?? "write";
  const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ ...repo, username: work.actor });
  const held = (data.role_name in RANK ? data.role_name : data.permission) as ApprovalPermission;
  if (!(held in RANK) || RANK[held] < RANK[needed]) {
    const note = `**@${work.actor} cannot approve breaking changes here**: approving needs the \`${needed}\` permission on this repository, and they have \`${data.permission}\`. Nothing was approved.`;
    await octokit.rest.checks.update({ ...repo, check_run_id: work.checkRunId, output: { title: work.title || "Breaking changes need approval", summary: fitText(`${note}\n\n${work.summary}`) } });
    await pipeline.records.audit({ actor: work.actor, action: "breaking.approval-refused", commitSha: work.headSha, details: { pullRequest: work.number, needed, held: data.permission } });
    return;
  }
  await approveBreaking(pipeline, { owner: work.owner, repo: work.repo, pullRequest: work.number, headSha: work.headSha, baseSha: work.baseSha, actor: work.actor });
  // The checks are run again for the pull request's head as it is now, approvals applied.
  const { data: pr } = await octokit.rest.pulls.get({ ...repo, pull_number: work.number });
  if (pr.state !== "open") return;
  await previewChange(pipeline, {
    owner: work.owner,
    repo: work.repo,
    environment: { name: pullRequestPreviewName(work.number), kind: "preview", pullRequest: work.number },
    headSha: pr.head.sha,
    baseSha: pr.base.sha,
    fork: pr.head.repo?.full_name !== pr.base.repo.full_name,
    actor: work.actor,
    trigger: "pull_request",
  });
}

/** A branch's new head: production promotes; a branch listed under previews.branches gets a preview. */
async function branchHead(pipeline: PipelineDeps, octokit: Octokit, owner: string, repo: string, branch: string, sha: string, defaultBranch: string, actor: string): Promise<void> {
  const head = await readCommit(pipeline.source, sha);
  const settings = head.config?.settings;
  const production = settings?.production.branch ?? defaultBranch;
  if (branch === production) {
    await promoteCommit(pipeline, { owner, repo, sha, actor, trigger: "push" });
    return;
  }
  if (!settings || !matchesBranch(settings.previews.branches, branch)) return;
  // A branch with an open pull request is previewed once, as the pull request's preview.
  const { data: open } = await octokit.rest.pulls.list({ owner, repo, head: `${owner}:${branch}`, state: "open", per_page: 1 });
  if (open.length > 0) return;
  const { data: base } = await octokit.rest.repos.getBranch({ owner, repo, branch: production });
  await previewChange(pipeline, { owner, repo, environment: { name: branchPreviewName(branch), kind: "preview", branch }, headSha: sha, baseSha: base.commit.sha, fork: false, actor, trigger: "push" });
}

/** Installed on repositories: record them and deploy their production branches. Removed: retire everything. */
async function installation(deps: GitHubWorkDeps, work: Extract<GitHubWork, { type: "installation" }>): Promise<void> {
  if (work.action === "removed") {
    for (const r of work.repositories) {
      const repositoryId = await deps.records.repository(r.owner, r.repo);
      for (const env of await deps.records.environmentsOf(repositoryId)) {
        await retireEnvironment({ publisher: silent, deployer: deps.deployer, records: deps.records, fence: async () => true }, { owner: r.owner, repo: r.repo, environment: env.name, actor: work.actor, reason: "app uninstalled from the repository" });
      }
    }
    return;
  }
  const octokit = await deps.auth(work.installationId);
  for (const r of work.repositories) {
    await deps.records.repository(r.owner, r.repo);
    const { data: repo } = await octokit.rest.repos.get({ owner: r.owner, repo: r.repo });
    const { data: branch } = await octokit.rest.repos.getBranch({ owner: r.owner, repo: r.repo, branch: repo.default_branch });
    await deps.enqueue({
      kind: JOB_KIND.push,
      environmentKey: branchKey(r.owner, r.repo, repo.default_branch),
      commitOrder: Date.now(),
      payload: { type: "push", installationId: work.installationId, owner: r.owner, repo: r.repo, branch: repo.default_branch, sha: branch.commit.sha, defaultBranch: repo.default_branch, actor: work.actor },
    });
  }
}

/**
 * GitHub does not redeliver a failed delivery by itself: compare what is open and what is deployed,
 * and queue the work that was missed. Also removes previews idle for longer than the TTL.
 */
async function sweep(deps: GitHubWorkDeps): Promise<void> {
  const app = await deps.auth();
  const installations = await app.paginate(app.rest.apps.listInstallations, { per_page: 100 });
  const ttlMs = deps.previewTtlHours * 3_600_000;
  for (const inst of installations) {
    const octokit = await deps.auth(inst.id);
    const repos = await octokit.paginate(octokit.rest.apps.listReposAccessibleToInstallation, { per_page: 100 });
    for (const r of repos) {
      const owner = r.owner.login;
      const repositoryId = await deps.records.repository(owner, r.name);
      const live = await deps.records.environmentsOf(repositoryId);
      const byName = new Map(live.map((e) => [e.name, e]));
      const pulls = await octokit.paginate(octokit.rest.pulls.list, { owner, repo: r.name, state: "open", per_page: 100 });
      const openNumbers = new Set<number>();
      for (const pr of pulls) {
        openNumbers.add(pr.number);
        const env = byName.get(pullRequestPreviewName(pr.number));
        const idle = env && ttlMs > 0 && Date.now() - env.lastActivityAt.getTime() > ttlMs;
        if (env?.deployedCommitSha === pr.head.sha && !idle) continue;
        await deps.enqueue({
          kind: JOB_KIND.pullRequest,
          environmentKey: prKey(owner, r.name, pr.number),
          commitOrder: Date.now(),
          payload: { type: "pull_request", installationId: inst.id, owner, repo: r.name, number: pr.number, close: Boolean(idle), merged: false, headSha: pr.head.sha, baseSha: pr.base.sha, fork: pr.head.repo?.full_name !== r.full_name, actor: "gitway" },
        });
      }
      // Previews of pull requests closed while a delivery was lost.
      for (const env of live) {
        if (env.pullRequest !== null && !openNumbers.has(env.pullRequest)) {
          await deps.enqueue({
            kind: JOB_KIND.pullRequest,
            environmentKey: prKey(owner, r.name, env.pullRequest),
            commitOrder: Date.now(),
            payload: { type: "pull_request", installationId: inst.id, owner, repo: r.name, number: env.pullRequest, close: true, merged: false, headSha: "", baseSha: "", fork: false, actor: "gitway" },
          });
        }
      }
      const { data: branch } = await octokit.rest.repos.getBranch({ owner, repo: r.name, branch: r.default_branch });
      if (byName.get("production")?.deployedCommitSha !== branch.commit.sha) {
        await deps.enqueue({
          kind: JOB_KIND.push,
          environmentKey: branchKey(owner, r.name, r.default_branch),
          commitOrder: Date.now(),
          payload: { type: "push", installationId: inst.id, owner, repo: r.name, branch: r.default_branch, sha: branch.commit.sha, defaultBranch: r.default_branch, actor: "gitway" },
        });
      }
    }
  }
}
