import type { RepositoryWeb } from "../report/index.js";
import type { Diagnostic, GatewayConfig, Snapshot } from "../config/index.js";
import type { ChangeReport } from "../diff/index.js";
import type { CheckAnnotation, CheckText } from "../report/index.js";
import type { SmokeAnswer } from "../smoke/index.js";

/**
 * The ports the use cases talk to. `github/` and `git/` supply a source and a publisher, `store/`
 * the records, the gateway process the deployer: the use cases hold no Octokit, no SQL, no HTTP.
 */

/** The config files of one repository at a commit. */
export interface ConfigSource {
  snapshot(sha: string): Promise<Snapshot>;
  /**
   * Whether `sha` is `of` or one of its ancestors (an older commit of the same line): such a
   * commit never replaces `of` but by an explicit rollback. False when the history cannot tell.
   */
  isAncestor?(sha: string, of: string): Promise<boolean>;
}

export type CheckName = "validate" | "changes" | "preview" | "deploy" | "smoke";

/** One check's verdict on one commit, rendered for the place it is read (check run, dashboard). */
export interface CheckOutcome extends CheckText {
  name: CheckName;
  detailsUrl?: string;
  /** Buttons a reviewer may press (GitHub: requested actions). */
  actions?: { identifier: string; label: string; description: string }[];
  /** Machine-readable facts for the store and the dashboard. */
  details?: Record<string, unknown>;
}

export type { CheckAnnotation };

export interface EnvironmentRef {
  id: number;
  name: string;
  kind: "preview" | "stage" | "production";
  /** DNS label under the gateway's base domain. */
  label: string;
  url: string;
}

/** Where results are told: check runs and deployments on GitHub, rows in the store in Git mode. */
export interface Publisher {
  /** The checks are under way for this commit. */
  started(sha: string, names: readonly CheckName[]): Promise<void>;
  finished(sha: string, outcome: CheckOutcome): Promise<void>;
  deploying(environment: EnvironmentRef, sha: string): Promise<void>;
  deployed(environment: EnvironmentRef, sha: string, result: { ok: true } | { ok: false; reason: string }): Promise<void>;
  /** The environment no longer serves anything. */
  retired(environment: EnvironmentRef): Promise<void>;
  /** The one summary comment of a pull request, created once and edited after. */
  comment(pullRequest: number, environment: EnvironmentRef, markdown: string): Promise<void>;
}

/** A compiled release swapped into the gateway; the deployer compiles, since that needs the runtime. */
export interface Deployer {
  /**
   * Compiles a release for the environment; nothing served changes until `install`. Throws
   * DeployError when the release cannot be built for this environment (a missing `$env`).
   */
  build(label: string, config: GatewayConfig, values: EnvironmentValues): Promise<BuiltRelease>;
  remove(label: string): Promise<void>;
}

/** A route the data plane in front (nginx) cannot express, handed to the Node gateway behind it, and why. */
export interface HybridRoute {
  route: string;
  reason: string;
}

export interface BuiltRelease {
  releaseHash: string;
  /**
   * With nginx serving the environment: the routes it hands to the Node gateway behind it (empty
   * when nginx serves every route). Absent where the Node gateway serves the environment alone.
   */
  hybridRoutes?: HybridRoute[];
  /** Serves it under the label from now on (called only once the store has recorded it as deployed). */
  install(): void;
}

export interface EnvironmentValues {
  name: string;
  vars: Record<string, string>;
  /** Names of the vars that are secrets: a fork's preview must not receive any. */
  secretNames: string[];
  consumers: { name: string; keyHashes: string[] }[];
  /**
   * A preview is fenced to public addresses, the operator's allow list and what the repository's
   * production release (its files and values, as deployed) forwards to.
   */
  egress?: { fenced: boolean; production?: { files: Record<string, string>; vars: Record<string, string> } };
}

export interface EnvironmentSpec {
  name: string;
  kind: EnvironmentRef["kind"];
  branch?: string;
  pullRequest?: number;
  /** A pull request from a fork: recorded so that a restart never restores its preview with secrets. */
  fork?: boolean;
}

export interface DeploymentRecord {
  environmentId: number;
  commitSha: string;
  releaseHash: string;
  /** The config files the release was built from, so the gateway can rebuild it at start. */
  files: Record<string, string>;
  trigger: "pull_request" | "push" | "poll" | "rollback" | "operator" | "install" | "sync";
  actor: string;
  outcome: "succeeded" | "failed";
  error?: string;
  report?: unknown;
  /** The routes nginx hands to the Node gateway behind it, kept beside the change report for the operator. */
  hybridRoutes?: HybridRoute[];
  /** What a succeeded deployment may replace (compare-and-set); default: given now. */
  guard?: SwapGuard;
}

/**
 * What a release swap may replace, checked where it is recorded: `order` replaces only what was
 * given at that order or before (a job's commit order; an operator's request time), `unlessPinned`
 * refuses while a rollback pins the environment, `pin` pins the new release (a rollback);
 * `rebuildOf` replaces exactly that running release (a rebuild after a key or value change).
 */
export type SwapGuard = { order: number; unlessPinned?: boolean; pin?: boolean } | { rebuildOf: number };

/** What the use cases remember: environments, values, approvals, deployments, the audit log. */
export interface Records {
  repository(owner: string, name: string): Promise<number>;
  environment(repositoryId: number, spec: EnvironmentSpec): Promise<EnvironmentRef>;
  findEnvironment(repositoryId: number, name: string): Promise<(EnvironmentRef & { deployedCommitSha: string | null; pinned: boolean; reportOnly: boolean }) | undefined>;
  /** Own values and consumers, overlaid on those of `inherit` (a stage) when given. */
  values(environmentId: number, inherit?: { repositoryId: number; name: string }): Promise<EnvironmentValues>;
  approvedFingerprints(repositoryId: number, pullRequest?: number): Promise<Map<string, string>>;
  approve(e: { repositoryId: number; pullRequest: number; headSha: string; fingerprints: string[]; actor: string }): Promise<void>;
  /**
   * A deployment happened (or failed); a succeeded one becomes the environment's running release
   * if its guard allows; when it does not, nothing is recorded and the answer says why.
   */
  recordDeployment(d: DeploymentRecord): Promise<"recorded" | "superseded" | "pinned">;
  /** Runs `fn` while no other swap of this environment runs, in this process or another on the same store. */
  exclusive<T>(environmentId: number, fn: () => Promise<T>): Promise<T>;
  markRetired(environmentId: number): Promise<void>;
  audit(e: { actor: string; action: string; environmentId?: number; commitSha?: string; details?: Record<string, unknown> }): Promise<void>;
}

/** A key minted for one smoke test, stored like any consumer's: revoked as soon as the test ends. */
export interface MintedKey {
  key: string;
  revoke(): Promise<void>;
}

/**
 * Calls a deployed preview through the real gateway (its listening address, the preview's Host
 * header), and mints the API key a smoke test needs. `send` never throws: a refused connection
 * or a timeout is an answer with an error.
 */
export interface SmokeTester {
  send(label: string, request: { method: string; path: string; headers: Record<string, string>; body?: string }, timeoutMs: number): Promise<SmokeAnswer>;
  mintKey(environmentId: number): Promise<MintedKey>;
}

/**
 * Calls an environment's gateway answered, per route ("METHOD /template") and consumer, summed
 * over the last `days` days: what a breaking change's impact is counted from.
 */
export interface UsageReader {
  /** How many days of usage are kept (GITWAY_USAGE_DAYS): a longer window is shortened to it, and says so. */
  keptDays?: number;
  calls(environmentLabel: string, routes: readonly string[], days: number): Promise<{ route: string; consumer: string; calls: number }[]>;
}

/** Whether the job still may act: its lease is held and no newer job for the same environment waits. */
export type Fence = () => Promise<boolean>;

export interface PipelineDeps {
  source: ConfigSource;
  publisher: Publisher;
  deployer: Deployer;
  records: Records;
  /** Still mine and still the newest: checked before anything is swapped or published. */
  fence: Fence;
  /**
   * When the work was given (a job's commit order): a swap replaces only what was given at this
   * order or before. Default: the time of the swap.
   */
  order?: number;
  now?: () => number;
  /**
   * The head of the branch production follows by default, read when production has nothing
   * deployed yet: the trusted settings then come from it (see trusted-settings.ts).
   */
  defaultBranchHead?: () => Promise<string | undefined>;
  /** Replays a served preview's examples (Gitway / smoke); without it no smoke test runs. */
  smoke?: SmokeTester;
  /** Production's usage; absent, a change report says nothing of who would be hit. */
  usage?: UsageReader;
  /** Where the repository's files are shown on the web, when the report is posted to GitHub: its "Where" column links there. */
  web?: RepositoryWeb;
}

/** A side of a change: the config read at a commit, or why it could not be read. */
export interface ReadSide {
  sha: string;
  config: GatewayConfig | undefined;
  diagnostics: Diagnostic[];
}

export type { ChangeReport };
