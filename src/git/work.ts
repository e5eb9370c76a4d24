import { previewChange, promoteCommit, retireEnvironment, type Deployer, type Fence, type Publisher, type Records, type SmokeTester, type UsageReader } from "../pipeline/index.js";
import type { GitReconciler, GitWork } from "./reconciler.js";

export interface GitWorkDeps {
  reconciler: GitReconciler;
  records: Records;
  deployer: Deployer;
  /** Where results go: the store, for the admin API and the dashboard. */
  publisherFor(repositoryId: number): Publisher;
  fence: Fence;
  /** Smoke-tests served previews (Gitway / smoke), as the trusted settings' previews.smoke says. */
  smoke?: SmokeTester;
  /** When the work was given (the job's commit order): its swaps never replace what was given later. */
  order?: number;
  /** The job's signal (deadline, lost lease, stop): every git process the job runs ends with it. */
  signal?: AbortSignal;
  /** Production's calls per operation and consumer: change reports say who a breaking change would hit. */
  usage?: UsageReader;
}

/** Runs one job of the Git mode through the same use cases the GitHub App uses. */
export async function runGitWork(deps: GitWorkDeps, work: GitWork): Promise<void> {
  const state = deps.reconciler.stateOf(work.source);
  if (!state) return; // the source was removed from the settings since the job was queued
  const { owner, name } = state.source;
  const repositoryId = await deps.records.repository(owner, name);
  // Before production has a deployment, its branch's head holds the trusted settings; a branch's
  // own .github/gitway.yml never decides where it deploys (the sources file maps branches).
  const defaultBranchHead = async () => (state.production ? state.heads.get(state.production) : undefined) ?? ("productionSha" in work ? work.productionSha : undefined);
  const pipeline = { source: deps.reconciler.configSource(state, deps.signal), publisher: deps.publisherFor(repositoryId), deployer: deps.deployer, records: deps.records, fence: deps.fence, ...(deps.order ? { order: deps.order } : {}), defaultBranchHead, ...(deps.smoke ? { smoke: deps.smoke } : {}), ...(deps.usage ? { usage: deps.usage } : {}) };
  if (work.type === "retire") {
    await retireEnvironment(pipeline, { owner, repo: name, environment: work.environment, actor: work.actor, reason: "branch deleted" });
    return;
  }
  const env = work.environment;
  if (env.kind === "preview") {
    await previewChange(pipeline, { owner, repo: name, environment: { name: env.name, kind: "preview", branch: work.branch }, headSha: work.sha, baseSha: work.productionSha, fork: false, actor: work.actor, trigger: work.trigger });
  } else {
    await promoteCommit(pipeline, { owner, repo: name, sha: work.sha, actor: work.actor, trigger: work.trigger, environments: [{ name: env.name, kind: env.kind }] });
  }
}
