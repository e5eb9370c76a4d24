/**
 * What an operator sees and does, as the admin API (JSON under /api/), the CLI and the dashboard
 * share it. Environments are addressed by their label (`<owner>-<repo>-<env>`, unique), or by
 * name when only one repository has an environment of that name.
 */

export type SyncStatus = "synced" | "out-of-sync" | "progressing" | "failed" | "missing";

export interface CommitView {
  sha: string;
  message: string | null;
  author: string | null;
  /** ISO time of the commit, when known. */
  at: string | null;
  /** A web page for the commit, where the repository has one. */
  url: string | null;
}

export interface EnvironmentView {
  /** "owner/name". */
  repository: string;
  name: string;
  label: string;
  kind: "production" | "stage" | "preview";
  status: SyncStatus;
  /** Why it is out of sync or failed, in a sentence. */
  reason: string | null;
  pinned: boolean;
  reportOnly: boolean;
  url: string;
  /** A URL that answers: the first GET route without parameters of what runs (the base URL when there is none). */
  tryUrl: string;
  /** Release hash the gateway serves now; null when it serves nothing. */
  runningRelease: string | null;
  /** The data plane that serves it: the Node gateway, or nginx kept in step by gateway agents (GATEWAY_ENGINE). */
  engine: "node" | "nginx";
  /** With nginx: what each instance reports it serves, and its refusal of a newer release, if any. */
  engines: EngineView[];
  /** Release hash Git (or a pin) says it should serve, when known. */
  desiredRelease: string | null;
  /** The commit deployed (what runs). */
  commit: CommitView | null;
  /** The commit it should run (branch head, or the pinned release's commit). */
  desiredCommit: string | null;
  branch: string | null;
  pullRequest: number | null;
  lastError: string | null;
  /** Unapproved breaking changes the running commit carries (of them, security ones), from its deployment's change report. */
  risk: { breaking: number; security: number };
  /** The smoke test of the running commit on this preview (Git mode: the store keeps it), or null. */
  smoke: { conclusion: string; title: string } | null;
  updatedAt: string;
}

export interface EngineView {
  instance: string;
  release: string | null;
  error: string | null;
  updatedAt: string;
}

export interface DeploymentView {
  id: number;
  release: string;
  commit: string | null;
  trigger: string;
  actor: string;
  startedAt: string;
  finishedAt: string | null;
  outcome: "running" | "succeeded" | "failed" | "superseded";
  error: string | null;
  /** The change report against the deployment before it: { summary, changes }, as `gitway diff --format json`. */
  report: { summary: { breaking: number; warning: number; info: number; accepted: number }; changes: unknown[] } | null;
  /** With nginx serving the environment: the routes it hands to the Node gateway behind it, and why (empty otherwise). */
  hybridRoutes: { route: string; reason: string }[];
}

export interface CheckView {
  name: string;
  commit: string;
  conclusion: string;
  title: string;
  summary: string;
  at: string;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  repository: string | null;
  environment: string | null;
  /** The environment's label, unique across repositories (for links). */
  label?: string | null;
  commit: string | null;
  details: Record<string, unknown>;
}

export interface AuditFilter {
  repository?: string;
  environment?: string;
  actor?: string;
  action?: string;
  /** ISO times. */
  since?: string;
  until?: string;
}

export interface KeyView {
  id: number;
  consumer: string;
  createdAt: string;
  /** Set when the key belongs to another environment this one inherits keys from (a preview's `previews.inherit`): revoke it there. */
  inheritedFrom?: string;
  /** That environment's label (for links). */
  inheritedFromLabel?: string;
}

export interface VariableView {
  name: string;
  secret: boolean;
  /** Plain values only; a secret's value is never shown again once set. */
  value: string | null;
}

export interface Page {
  limit: number;
  offset: number;
}

export type AdminErrorCode = "NOT_FOUND" | "AMBIGUOUS" | "BAD_REQUEST" | "CONFLICT" | "UNAUTHORIZED";

/** Callers match on `code`; the message is for the operator and never holds a secret. */
export class AdminError extends Error {
  constructor(
    readonly code: AdminErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "AdminError";
  }
}

export const HTTP_STATUS: Record<AdminErrorCode, number> = { NOT_FOUND: 404, AMBIGUOUS: 409, BAD_REQUEST: 400, CONFLICT: 409, UNAUTHORIZED: 401 };

/** Everything the admin API, the CLI (through the API) and the dashboard can read and do. */
export interface AdminOperations {
  environments(): Promise<EnvironmentView[]>;
  /** Throws AdminError NOT_FOUND / AMBIGUOUS. */
  environment(ref: string): Promise<EnvironmentView>;
  deployments(ref: string, page: Page): Promise<DeploymentView[]>;
  checks(ref: string): Promise<CheckView[]>;
  audit(filter: AuditFilter, page: Page): Promise<{ entries: AuditEntry[]; total: number }>;
  keys(ref: string): Promise<KeyView[]>;
  /** The key is returned once and only its hash is kept. */
  createKey(ref: string, consumer: string, actor: string): Promise<{ consumer: string; key: string }>;
  /** `rebuild` says whether the running releases were rebuilt without the key (it is refused either way). */
  revokeKey(ref: string, consumer: string, actor: string): Promise<{ revoked: number; rebuild?: { ok: boolean; failed: { environment: string; reason: string }[] } }>;
  variables(ref: string): Promise<VariableView[]>;
  setVariable(ref: string, name: string, value: string, secret: boolean, actor: string): Promise<void>;
  /** Reconcile now: every environment, or one. */
  sync(ref: string | undefined, actor: string): Promise<void>;
  /**
   * Pin to a release (id) or the release of a commit (SHA); newer commits wait until unpinned.
   * `from` is the release asked for; `release` the one now served, which differs when keys or
   * values changed since (they are part of a release).
   */
  rollback(ref: string, target: string, actor: string): Promise<{ release: string; commit: string | null; from: string }>;
  unpin(ref: string, actor: string): Promise<void>;
  /** Serve a directory's config outside Git (drift, corrected at the next tick unless report-only). */
  deployFiles(ref: string, files: Record<string, string>, actor: string): Promise<{ release: string }>;
  setReportOnly(ref: string, reportOnly: boolean, actor: string): Promise<void>;
  /** Calls the environment's gateway answered in the last `days` days (default 30), per operation and consumer. */
  usage(ref: string, query: UsageFilter): Promise<UsageView>;
}

export interface UsageFilter {
  /** An operationId, or "METHOD /path/{template}". */
  operation?: string;
  days?: number;
}

/** Calls per operation and consumer over a window: consumer names and counts, never keys or addresses. */
export interface UsageView {
  environment: string;
  days: number;
  total: number;
  rows: { operation: string; route: string; consumer: string; calls: number; byStatus: Record<string, number> }[];
}
