import { APPROVAL_PERMISSIONS, type ApprovalPermission, type ConfigReadLimits, type RepoSettings } from "../config/index.js";
import { approveBreaking, approveForkPreview, branchPreviewName, previewChange, pullRequestPreviewName, promoteCommit, readCommit, readTrustedSettings, retireEnvironment, settingsOfSide, trustedSettingsOf, type ConfigSource, type Deployer, type EnvironmentRef, type Fence, type PipelineDeps, type PreviewResult, type PromoteResult, type Publisher, type Records, type SmokeTester, type UsageReader } from "../pipeline/index.js";
import { fitText } from "../report/index.js";
import { branchKey, JOB_KIND, prKey, type Enqueue, type GitHubWork } from "./events.js";
import type { Octokit, RepoId } from "./octokit.js";
import { webUrlOf } from "./manifest.js";
import { GitHubPublisher } from "./publisher.js";
import { outsideJobSignal, RateLimitedError } from "./request-limits.js";
import { GitHubSource } from "./source.js";
import type { GitHubWriters } from "./writer.js";
import { retryAfter, sweepAction, UNPUBLISHED_GRACE_MS, type JobStatus, type Remembered, type SweepDecision } from "./sweep-rules.js";

/** What the sweep remembers per environment and head (the store's sweep_decisions), and what the queue holds. */
export interface SweepMemoryPort {
  recall(environmentKey: string, headSha: string): Promise<{ decision: string; retries: number; retryAfter: Date | null; since?: Date } | undefined>;
  remember(environmentKey: string, headSha: string, decision: SweepDecision, retry?: { retries: number; retryAfter: Date }): Promise<void>;
  jobStatus(environmentKey: string, headSha: string): Promise<string | undefined>;
}

/** What the job runner needs from the process: GitHub clients, the records, the gateway, the queue. */
export interface GitHubWorkDeps {
  /** An installation's client, or the app's own without an id. */
  auth(installationId?: number): Promise<Octokit>;
  records: Records & {
    environmentsOf(repositoryId: number): Promise<(EnvironmentRef & { pullRequest: number | null; branch: string | null; deployedCommitSha: string | null; lastActivityAt: Date })[]>;
  };
  deployer: Deployer;
  /** The process's per-installation writers: a job hands its GitHub writes to them and does not wait. */
  writers: GitHubWriters;
  enqueue: Enqueue;
  memory: SweepMemoryPort;
  maxFileBytes: number;
  /** GITWAY_MAX_CONFIG_FILES, GITWAY_MAX_CONFIG_BYTES, GITWAY_READ_TIMEOUT_SECONDS (defaults when absent). */
  readLimits?: Partial<ConfigReadLimits>;
  /** Previews with no activity for this long are removed by the sweep; 0 never. */
  previewTtlHours: number;
  /** Smoke-tests served previews (Gitway / smoke), as the trusted settings' previews.smoke says. */
  smoke?: SmokeTester;
  log: (level: "info" | "warn" | "error", message: string) => void;
  /** Production's calls per operation and consumer: change reports say who a breaking change would hit. */
  usage?: UsageReader;
}

export interface JobContext {
  fence: Fence;
  /** When the work was given (the job's commit order): its swaps never replace what was given later. */
  order?: number;
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
  if (work.type === "redeploy") return redeploy(deps, work);
  const octokit = await deps.auth(work.installationId);
  const repo: RepoId = { owner: work.owner, repo: work.repo };
  const source = new GitHubSource(octokit, repo, { maxFileBytes: deps.maxFileBytes, ...(deps.readLimits ? { limits: deps.readLimits } : {}) });
  const publisher = new GitHubPublisher(deps.writers.of(work.installationId, octokit), repo, { botLogin: () => botLoginOf(deps) });
  // The API root this installation's client talks to names the host whose web pages show the files.
  const web = { webUrl: webUrlOf(octokit.request.endpoint.DEFAULTS.baseUrl), ...repo };
  // The sweep's answers of this job, recorded for good only once GitHub was told (see `recordWhenPublished`).
  const answers: Answer[] = [];
  const answer = async (key: string, sha: string, decision: SweepDecision) => {
    await deps.memory.remember(key, sha, "unpublished");
    answers.push({ key, sha, decision });
  };
  const pipeline: PipelineDeps = { source, publisher, deployer: deps.deployer, records: deps.records, fence: job.fence, ...(job.order ? { order: job.order } : {}), defaultBranchHead: defaultBranchHead(octokit, repo, "defaultBranch" in work ? work.defaultBranch : undefined), web, ...(deps.usage ? { usage: deps.usage } : {}), ...(deps.smoke ? { smoke: deps.smoke } : {}) };
  try {
    switch (work.type) {
      case "pull_request":
        if (work.close) {
          await retireEnvironment(pipeline, { owner: work.owner, repo: work.repo, environment: pullRequestPreviewName(work.number), actor: work.actor, reason: work.merged ? "pull request merged" : "pull request closed", pullRequest: work.number });
        } else {
          const key = prKey(work.owner, work.repo, work.number);
          // Late, repeated or out-of-order events: only an open pull request's current head is previewed.
          const { data: pr } = await octokit.rest.pulls.get({ ...repo, pull_number: work.number });
          if (pr.state !== "open") return await deps.memory.remember(key, work.headSha, "closed");
          if (pr.head.sha !== work.headSha) return;
          const result = await previewChange(pipeline, { owner: work.owner, repo: work.repo, environment: { name: pullRequestPreviewName(work.number), kind: "preview", pullRequest: work.number }, headSha: work.headSha, baseSha: work.baseSha, fork: work.fork, actor: work.actor, trigger: "pull_request" });
          const decision = previewDecision(result);
          if (decision) await answer(key, work.headSha, decision);
        }
        return;
      case "approve":
        return await approve(pipeline, octokit, publisher, work);
      case "push":
        return await branchHead(deps, pipeline, octokit, answer, work.owner, work.repo, work.branch, work.sha, work.defaultBranch, work.actor);
      case "rerun_commit":
        if (work.branch) return await branchHead(deps, pipeline, octokit, answer, work.owner, work.repo, work.branch, work.sha, work.defaultBranch, work.actor);
        return;
      case "delete_branch":
        await retireEnvironment(pipeline, { owner: work.owner, repo: work.repo, environment: branchPreviewName(work.branch), actor: work.actor, reason: "branch deleted" });
        return;
    }
  } catch (e) {
    const fallback = work.type === "pull_request" && !work.close ? { sha: work.headSha, names: ["validate", "changes", "preview"] as const } : undefined;
    // The job's signal may be what ended it: completing the checks must not end with it.
    if (!(e instanceof RateLimitedError)) await outsideJobSignal(() => publisher.failOpen(safeReason(e), job.finalAttempt, fallback)).catch(() => {});
    throw e;
  } finally {
    publisher.handOver();
    if (answers.length > 0) recordWhenPublished(deps, publisher, answers);
  }
}

export interface Answer {
  key: string;
  sha: string;
  decision: SweepDecision;
}

/** How often a live process marks again the heads whose writes it still holds (well inside the sweep's grace). */
export const UNPUBLISHED_HEARTBEAT_MS = UNPUBLISHED_GRACE_MS / 3;

/**
 * Records the job's answers once the writer has sent its writes. Until then they stay `unpublished`:
 * writes live in memory, and if the process dies first the sweep runs the head again (a redeploy
 * that changes nothing, and the checks it posts) rather than leaving the pull request without them.
 * While they wait, the heads are marked `unpublished` again every UNPUBLISHED_HEARTBEAT_MS: another
 * process's sweep counts its grace from the last mark, so it leaves the heads of a live owner alone
 * however long the installation's writes queue (posting them twice would duplicate the checks), and
 * runs them again only once the owner stopped marking.
 */
export function recordWhenPublished(deps: Pick<GitHubWorkDeps, "memory" | "log">, publisher: Pick<GitHubPublisher, "published" | "writing">, answers: Answer[]): void {
  let chain: Promise<void> = Promise.resolve();
  let done = false;
  // One chain, so a mark still in flight can never land after the answer and hide it.
  const mark = (decisionOf: (a: Answer) => SweepDecision) =>
    (chain = chain.catch(() => {}).then(async () => {
      for (const a of answers) await deps.memory.remember(a.key, a.sha, decisionOf(a));
    }));
  const beat = setInterval(() => {
    if (done || !publisher.writing) return clearInterval(beat);
    mark(() => "unpublished").catch(() => {});
  }, UNPUBLISHED_HEARTBEAT_MS);
  beat.unref();
  void publisher
    .published()
    .then(() => {
      done = true;
      clearInterval(beat);
      return mark((a) => a.decision);
    })
    .catch((e: unknown) => deps.log("warn", `sweep memory: could not record that ${answers[0]!.key} was published (${safeReason(e)}); the sweep will run it again`));
}

/** An error as a reviewer may read it: its first line, short, never a stack. */
export function safeReason(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.split("\n")[0]!.slice(0, 300);
}

/** The app's own bot login (`<slug>[bot]`), asked once per process: only its comments are its own. */
const botLogins = new WeakMap<GitHubWorkDeps, Promise<string>>();
function botLoginOf(deps: GitHubWorkDeps): Promise<string> {
  let login = botLogins.get(deps);
  if (!login) {
    login = deps.auth().then(async (app) => `${(await app.rest.apps.getAuthenticated()).data?.slug ?? "gitway"}[bot]`);
    login.catch(() => botLogins.delete(deps));
    botLogins.set(deps, login);
  }
  return login;
}

/** The default branch's head, asked of GitHub only when the trusted settings need it (nothing deployed yet). */
function defaultBranchHead(octokit: Octokit, repo: RepoId, defaultBranch: string | undefined): () => Promise<string | undefined> {
  return async () => {
    const branch = defaultBranch ?? (await octokit.rest.repos.get({ ...repo })).data.default_branch;
    try {
      return (await octokit.rest.repos.getBranch({ ...repo, branch })).data.commit.sha;
    } catch (e) {
      if ((e as { status?: number }).status === 404) return undefined;
      throw e;
    }
  };
}

const ACTION_WORDS = {
  "approve-breaking": { verb: "approve breaking changes", approving: "approving", nothing: "Nothing was approved.", title: "Breaking changes need approval", refused: "breaking.approval-refused" },
  "deploy-preview": { verb: "deploy this fork's preview", approving: "deploying a fork's preview", nothing: "Nothing was deployed.", title: "Waiting for a maintainer: pull request from a fork", refused: "preview.fork-approval-refused" },
} as const;

/**
 * A reviewer pressed Approve breaking or Deploy preview: allowed only with the approval permission
 * the trusted settings name (never the pull request's own), then the checks run again.
 */
async function approve(pipeline: PipelineDeps, octokit: Octokit, publisher: GitHubPublisher, work: Extract<GitHubWork, { type: "approve" }>): Promise<void> {
  const repo = { owner: work.owner, repo: work.repo };
  const action = work.action ?? "approve-breaking";
  const words = ACTION_WORDS[action];
  const repositoryId = await pipeline.records.repository(work.owner, work.repo);
  const needed = (await trustedSettingsOf(pipeline, repositoryId)).settings.approvals.permission;
  const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ ...repo, username: work.actor });
  const held = (data.role_name in RANK ? data.role_name : data.permission) as ApprovalPermission;
  if (!(held in RANK) || RANK[held] < RANK[needed]) {
    const note = `**@${work.actor} cannot ${words.verb} here**: ${words.approving} needs the \`${needed}\` permission on this repository, and they have \`${data.permission}\`. ${words.nothing}`;
    publisher.retitle(work.checkRunId, { title: work.title || words.title, summary: fitText(`${note}\n\n${work.summary}`) });
    await pipeline.records.audit({ actor: work.actor, action: words.refused, commitSha: work.headSha, details: { pullRequest: work.number, needed, held: data.permission } });
    return;
  }
  if (action === "deploy-preview") await approveForkPreview(pipeline, { owner: work.owner, repo: work.repo, pullRequest: work.number, headSha: work.headSha, actor: work.actor });
  else await approveBreaking(pipeline, { owner: work.owner, repo: work.repo, pullRequest: work.number, headSha: work.headSha, baseSha: work.baseSha, actor: work.actor });
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

function previewDecision(result: PreviewResult): SweepDecision | undefined {
  if (result === "served") return "served";
  if (result === "no-config") return "no-config";
  if (result === "not-deployed") return "not-deployable";
  return undefined; // superseded: the newer head has its own job
}

/** What a promotion's outcome means for the sweep: an answer, or a failed deploy worth a few retries. */
function promotionDecision(result: PromoteResult | "no-config"): SweepDecision | undefined {
  if (result === "no-config") return "no-config";
  if (result.stopped) {
    const cause = result.stopped.cause;
    if (cause === "superseded") return undefined;
    if (cause === "invalid-config") return "invalid-config";
    if (cause === "deploy-failed") return "deploy-failed";
    return "not-deployable";
  }
  return result.deployed.includes("production") ? "served" : "not-deployable";
}

/** Settings per commit (commits never change), so a sweep over many repositories reads each once. */
const settingsByCommit = new Map<string, RepoSettings | null>();

/**
 * The branch production follows: `production.branch` of the trusted settings (those production
 * runs, or the default branch head's before anything is deployed; see trusted-settings.ts), never
 * of the commit under review. The one place that decides it.
 */
export async function productionBranchOf(records: Records, source: ConfigSource, octokit: Octokit, owner: string, repo: string, defaultBranch: string): Promise<string> {
  const repositoryId = await records.repository(owner, repo);
  const trusted = await readTrustedSettings({
    productionSha: async () => (await records.findEnvironment(repositoryId, "production"))?.deployedCommitSha ?? undefined,
    defaultBranchSha: () =>
      octokit.rest.repos.getBranch({ owner, repo, branch: defaultBranch }).then(
        (r) => r.data.commit.sha,
        (e: unknown) => {
          if ((e as { status?: number }).status === 404) return undefined;
          throw e;
        },
      ),
    settingsAt: async (sha) => {
      const key = `${owner}/${repo}@${sha}`;
      if (!settingsByCommit.has(key)) {
        if (settingsByCommit.size >= 1_000) settingsByCommit.clear();
        settingsByCommit.set(key, settingsOfSide(await readCommit(source, sha)) ?? null);
      }
      return settingsByCommit.get(key) ?? undefined;
    },
  });
  return trusted.settings.production.branch ?? defaultBranch;
}

/**
 * A branch's new head: the production branch (as the trusted settings name it, never as the pushed
 * commit does) promotes; a branch listed under the trusted previews.branches gets a preview.
 */
async function branchHead(deps: GitHubWorkDeps, pipeline: PipelineDeps, octokit: Octokit, answer: (key: string, sha: string, decision: SweepDecision) => Promise<void>, owner: string, repo: string, branch: string, sha: string, defaultBranch: string, actor: string): Promise<void> {
  const production = await productionBranchOf(deps.records, pipeline.source, octokit, owner, repo, defaultBranch);
  if (branch === production) {
    // A late or re-run event for an older commit never replaces the branch's current head.
    const { data: current } = await octokit.rest.repos.getBranch({ owner, repo, branch });
    if (current.commit.sha !== sha) return;
    const key = branchKey(owner, repo, branch);
    const result = await promoteCommit(pipeline, { owner, repo, sha, actor, trigger: "push" });
    const decision = promotionDecision(result);
    if (decision === "deploy-failed") {
      const before = await deps.memory.recall(key, sha);
      const retries = before?.decision === "deploy-failed" ? before.retries + 1 : 1;
      await deps.memory.remember(key, sha, decision, { retries, retryAfter: retryAfter(retries, Date.now()) });
    } else if (decision) await answer(key, sha, decision);
    return;
  }
  const { settings } = await trustedSettingsOf(pipeline, await pipeline.records.repository(owner, repo));
  const own = (await readCommit(pipeline.source, sha)).config?.settings;
  if (own?.production.branch === branch) {
    await pipeline.publisher.finished(sha, {
      name: "deploy",
      conclusion: "neutral",
      title: `Not deployed: production follows ${production}`,
      summary: `This commit's \`.github/gitway.yml\` names \`${branch}\` as the production branch, but a branch cannot make itself production: production follows \`${production}\`, as the settings production runs say. Merge the change into \`${production}\` to move production.`,
    });
  }
  if (!matchesBranch(settings.previews.branches, branch)) return;
  // A branch with an open pull request is previewed once, as the pull request's preview.
  const { data: open } = await octokit.rest.pulls.list({ owner, repo, head: `${owner}:${branch}`, state: "open", per_page: 1 });
  if (open.length > 0) return;
  const { data: base } = await octokit.rest.repos.getBranch({ owner, repo, branch: production });
  await previewChange(pipeline, { owner, repo, environment: { name: branchPreviewName(branch), kind: "preview", branch }, headSha: sha, baseSha: base.commit.sha, fork: false, actor, trigger: "push" });
}

/**
 * After an unpin: the production branch's head (as the trusted settings name the branch) is
 * queued as a push, so the stages and production run what Git says again, not the rollback.
 */
async function redeploy(deps: GitHubWorkDeps, work: Extract<GitHubWork, { type: "redeploy" }>): Promise<void> {
  const app = await deps.auth();
  const { data: installed } = await app.rest.apps.getRepoInstallation({ owner: work.owner, repo: work.repo });
  const octokit = await deps.auth(installed.id);
  const { data: repo } = await octokit.rest.repos.get({ owner: work.owner, repo: work.repo });
  const source = new GitHubSource(octokit, { owner: work.owner, repo: work.repo }, { maxFileBytes: deps.maxFileBytes, ...(deps.readLimits ? { limits: deps.readLimits } : {}) });
  const branch = await productionBranchOf(deps.records, source, octokit, work.owner, work.repo, repo.default_branch);
  const { data: head } = await octokit.rest.repos.getBranch({ owner: work.owner, repo: work.repo, branch });
  await deps.enqueue({
    kind: JOB_KIND.push,
    environmentKey: branchKey(work.owner, work.repo, branch),
    commitOrder: Date.now(),
    head: head.commit.sha,
    payload: { type: "push", installationId: installed.id, owner: work.owner, repo: work.repo, branch, sha: head.commit.sha, defaultBranch: repo.default_branch, actor: work.actor },
  });
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
      head: branch.commit.sha,
      payload: { type: "push", installationId: work.installationId, owner: r.owner, repo: r.repo, branch: repo.default_branch, sha: branch.commit.sha, defaultBranch: repo.default_branch, actor: work.actor },
    });
  }
}

/**
 * GitHub does not redeliver a failed delivery by itself: compare what is open and what is deployed,
 * and queue the work that was missed, remembering per environment and head what was decided so the
 * next sweep asks nothing already answered (see sweep-rules.ts). Also removes idle previews.
 */
async function sweep(deps: GitHubWorkDeps): Promise<void> {
  const app = await deps.auth();
  const installations = await app.paginate(app.rest.apps.listInstallations, { per_page: 100 });
  const ttlMs = deps.previewTtlHours * 3_600_000;
  const stateOf = async (key: string, head: string, deployed: { sha: string | null; idle: boolean } | undefined, writing: boolean) => {
    const remembered = await deps.memory.recall(key, head);
    return {
      head,
      deployed,
      job: (await deps.memory.jobStatus(key, head)) as JobStatus | undefined,
      remembered: remembered as Remembered | undefined,
      writing,
      now: Date.now(),
    };
  };
  for (const inst of installations) {
    const octokit = await deps.auth(inst.id);
    // Writes of this installation still held here: an `unpublished` head may be among them, not lost.
    const writer = deps.writers.of(inst.id, octokit);
    const writing = () => writer.pending > 0 || writer.busy;
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
        const key = prKey(owner, r.name, pr.number);
        const env = byName.get(pullRequestPreviewName(pr.number));
        const idle = Boolean(env && ttlMs > 0 && Date.now() - env.lastActivityAt.getTime() > ttlMs);
        const action = sweepAction(await stateOf(key, pr.head.sha, env ? { sha: env.deployedCommitSha, idle } : undefined, writing()));
        if (action === "skip") continue;
        const close = action === "remove";
        await deps.enqueue({
          kind: JOB_KIND.pullRequest,
          environmentKey: key,
          commitOrder: Date.now(),
          ...(close ? {} : { head: pr.head.sha }),
          payload: { type: "pull_request", installationId: inst.id, owner, repo: r.name, number: pr.number, close, merged: false, headSha: pr.head.sha, baseSha: pr.base.sha, fork: pr.head.repo?.full_name !== r.full_name, actor: "gitway" },
        });
        // Removed for idling: stays removed until the pull request gets a new head.
        await deps.memory.remember(key, pr.head.sha, close ? "removed-idle" : "queued");
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
      const source = new GitHubSource(octokit, { owner, repo: r.name }, { maxFileBytes: deps.maxFileBytes, ...(deps.readLimits ? { limits: deps.readLimits } : {}) });
      const productionBranch = await productionBranchOf(deps.records, source, octokit, owner, r.name, r.default_branch);
      const branch = await octokit.rest.repos.getBranch({ owner, repo: r.name, branch: productionBranch }).then(
        (res) => res.data,
        () => undefined, // production.branch names a branch that does not exist (yet)
      );
      if (!branch) continue;
      const key = branchKey(owner, r.name, productionBranch);
      const production = byName.get("production");
      const action = sweepAction(await stateOf(key, branch.commit.sha, production ? { sha: production.deployedCommitSha, idle: false } : undefined, writing()));
      if (action !== "queue") continue;
      await deps.enqueue({
        kind: JOB_KIND.push,
        environmentKey: key,
        commitOrder: Date.now(),
        head: branch.commit.sha,
        payload: { type: "push", installationId: inst.id, owner, repo: r.name, branch: productionBranch, sha: branch.commit.sha, defaultBranch: r.default_branch, actor: "gitway" },
      });
      const before = await deps.memory.recall(key, branch.commit.sha);
      // A retry of a failed deploy keeps its count: the next failure counts on from it.
      if (before?.decision !== "deploy-failed") await deps.memory.remember(key, branch.commit.sha, "queued");
    }
  }
}
