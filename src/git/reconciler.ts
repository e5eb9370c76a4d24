import type { ConfigReadLimits } from "../config/index.js";
import { join } from "node:path";
import { branchPreviewName, type ConfigSource, type EnvironmentRef, type Records } from "../pipeline/index.js";
import { GitMirror } from "./mirror.js";
import type { GitSource } from "./sources.js";

/** The work a poll finds, as a durable job: deploy a branch head, or retire a deleted branch's environment. */
export type GitWork =
  | { type: "sync"; source: string; branch: string; sha: string; environment: { name: string; kind: "production" | "stage" | "preview" }; productionSha: string | undefined; actor: string; trigger: "poll" | "sync" }
  | { type: "retire"; source: string; environment: string; actor: string };

export const GIT_JOB_KIND = "git.sync";

export interface ReconcilerDeps {
  records: Pick<Records, "repository" | "findEnvironment"> & {
    environmentsOf(repositoryId: number): Promise<(EnvironmentRef & { branch: string | null; deployedCommitSha: string | null; pinned: boolean; reportOnly: boolean })[]>;
  };
  enqueue(job: { kind: string; environmentKey: string; commitOrder: number; payload: GitWork }): Promise<unknown>;
  /** Whether this process's gateway serves the environment now. */
  isServing(label: string): boolean;
  log: (level: "info" | "warn" | "error", message: string) => void;
  maxFileBytes: number;
  /** GITWAY_MAX_CONFIG_FILES, GITWAY_MAX_CONFIG_BYTES, GITWAY_READ_TIMEOUT_SECONDS (defaults when absent). */
  readLimits?: Partial<ConfigReadLimits>;
}

export interface SourceState {
  source: GitSource;
  mirror: GitMirror;
  production: string | undefined;
  heads: Map<string, string>;
  lastError: string | undefined;
  lastPoll: Date | undefined;
}

/**
 * Pull-based reconciliation, as Argo CD and Flux do it: fetch each source, map its branches to
 * environments, and queue a job wherever what runs is not what Git says (or retire what Git no
 * longer has). Pinned and report-only environments are left as they are.
 */
export class GitReconciler {
  readonly states: SourceState[];
  /** The head a job was last queued for, per environment: a failing deploy is not retried every tick. */
  private readonly queued = new Map<string, string>();
  private running: Promise<void> | undefined;

  constructor(
    sources: GitSource[],
    dataDir: string,
    private readonly deps: ReconcilerDeps,
  ) {
    this.states = sources.map((source) => ({ source, mirror: new GitMirror(source.remote, join(dataDir, "git", `${source.owner}-${source.name}.git`)), production: undefined, heads: new Map(), lastError: undefined, lastPoll: undefined }));
  }

  stateOf(remote: string): SourceState | undefined {
    return this.states.find((s) => s.source.remote === remote);
  }

  stateFor(owner: string, name: string): SourceState | undefined {
    return this.states.find((s) => s.source.owner === owner && s.source.name === name);
  }

  /** The config of a source's commits and their history, for the pipeline; reads end with `signal` (the job's). */
  configSource(state: SourceState, signal?: AbortSignal): ConfigSource {
    return {
      snapshot: (sha) => state.mirror.snapshot(sha, { ...this.deps.readLimits, maxFileBytes: this.deps.maxFileBytes }, signal),
      isAncestor: (sha, of) => state.mirror.isAncestor(sha, of, signal),
    };
  }

  /** The environment a branch stands for, if any. */
  environmentOf(state: SourceState, branch: string): { name: string; kind: "production" | "stage" | "preview" } | undefined {
    if (branch === state.production) return { name: "production", kind: "production" };
    const stage = Object.entries(state.source.stages).find(([, b]) => b === branch);
    if (stage) return { name: stage[0], kind: "stage" };
    return state.source.previews ? { name: branchPreviewName(branch), kind: "preview" } : undefined;
  }

  /** An operator changed this environment (deploy, rollback, unpin): look at it afresh at the next tick. */
  forget(owner: string, name: string, environment: string): void {
    this.queued.delete(`git:${owner}/${name}:${environment}`);
  }

  /** One poll of every source; overlapping calls share the poll under way. */
  tick(force = false): Promise<void> {
    this.running ??= this.pollAll(force).finally(() => (this.running = undefined));
    return this.running;
  }

  private async pollAll(force: boolean): Promise<void> {
    if (force) this.queued.clear();
    for (const state of this.states) {
      try {
        await this.poll(state);
        state.lastError = undefined;
      } catch (e) {
        state.lastError = (e as Error).message;
        this.deps.log("warn", `polling ${state.source.remote} failed: ${state.lastError}`);
      }
      state.lastPoll = new Date();
    }
  }

  private async poll(state: SourceState): Promise<void> {
    const { source, mirror } = state;
    await mirror.fetch();
    state.heads = await mirror.branches();
    state.production = source.productionBranch ?? (await mirror.defaultBranch()) ?? "main";
    const repositoryId = await this.deps.records.repository(source.owner, source.name);
    const productionSha = state.heads.get(state.production);
    const wanted = new Set<string>();
    for (const [branch, sha] of state.heads) {
      const environment = this.environmentOf(state, branch);
      if (!environment) continue;
      wanted.add(environment.name);
      const current = await this.deps.records.findEnvironment(repositoryId, environment.name);
      if (source.reportOnly || current?.reportOnly || current?.pinned) continue;
      const key = `git:${source.owner}/${source.name}:${environment.name}`;
      const inSync = current?.deployedCommitSha === sha && this.deps.isServing(current.label);
      if (inSync || this.queued.get(key) === sha) continue;
      this.queued.set(key, sha);
      await this.deps.enqueue({ kind: GIT_JOB_KIND, environmentKey: key, commitOrder: Date.now(), payload: { type: "sync", source: source.remote, branch, sha, environment, productionSha, actor: "gitway", trigger: "poll" } });
    }
    // A deleted branch's environment goes with it.
    for (const env of await this.deps.records.environmentsOf(repositoryId)) {
      if (env.kind === "production" || wanted.has(env.name)) continue;
      const key = `git:${source.owner}/${source.name}:${env.name}`;
      if (this.queued.get(key) === "retire") continue;
      this.queued.set(key, "retire");
      await this.deps.enqueue({ kind: GIT_JOB_KIND, environmentKey: key, commitOrder: Date.now(), payload: { type: "retire", source: source.remote, environment: env.name, actor: "gitway" } });
    }
  }
}
