import { randomBytes, createHash } from "node:crypto";
import { and, count, desc, eq, gte, inArray, lte, ne, sql, type SQL } from "drizzle-orm";
import { readConfig, hasErrors, SMOKE_CONSUMER, tryPath, type GatewayConfig } from "../config/index.js";
import { swapRelease, type Deployer, type SwapPlan, type SwapResult } from "../pipeline/index.js";
import { formatDiagnosticLine } from "../report/index.js";
import { engineReports, listVariables, revokeConsumer, rowsOf, setVariable, tables, usageTotals, type Db, type EngineReport, type StoreRecords } from "../store/index.js";
import { AdminError, type AdminOperations, type AuditEntry, type AuditFilter, type CheckView, type CommitView, type DeploymentView, type EngineView, type EnvironmentView, type KeyView, type Page, type SyncStatus, type UsageFilter, type UsageView, type VariableView } from "./types.js";

const { apiConsumers, apiKeys, auditLog, checkResults, deployments, environments, releases, repositories } = tables;

/** What the Git mode knows that the store does not: branch heads and commit details. */
export interface GitView {
  /** The commit Git says an environment should run, for environments of polled repositories. */
  desiredCommit(owner: string, name: string, environment: { name: string; kind: string; branch: string | null }): string | undefined;
  commit(owner: string, name: string, sha: string): Promise<{ message: string; author: string; at: string } | undefined>;
  /** An operator changed the environment: reconcile it afresh (and now, when `now`). */
  forget(owner: string, name: string, environment: string): void;
  /** Whether the repository is one the Git mode polls. */
  polls(owner: string, name: string): boolean;
  sync(): Promise<void>;
}

export interface AdminDeps {
  db: Db;
  records: StoreRecords;
  deployer: Deployer;
  /** Refuses these key hashes in every gateway process at once, whatever the rebuild that follows does. */
  revokeKeys?: (keyHashes: string[]) => Promise<void>;
  /** The hash of the release this process's gateway serves for a label. */
  running(label: string): string | undefined;
  /** Which data plane serves an environment of this kind (GATEWAY_ENGINE); the Node gateway when absent. */
  engineOf?: (kind: "production" | "stage" | "preview") => "node" | "nginx";
  secretKey: Buffer | undefined;
  git?: GitView;
  /** GitHub's catch-up sweep, for `sync` of GitHub App repositories. */
  githubSync?: () => Promise<void>;
  /** Queues the deployment of a GitHub App repository's production branch head (after an unpin). */
  githubRedeploy?: (owner: string, name: string, actor: string) => Promise<void>;
  /** How long an operator's change waits for the environment's turn (default 30 s). */
  turnWaitMs?: number;
  /** Web address of a commit, where the repository has one. */
  commitUrl?: (owner: string, name: string, sha: string) => string | undefined;
}

type EnvRow = typeof environments.$inferSelect & { owner: string; repoName: string };

/** Whether the releases a key or value change touches were rebuilt; each that was not, and why. */
export interface RebuildOutcome {
  ok: boolean;
  failed: { environment: string; reason: string }[];
}

const KEY_PREFIX = "gw_";

/** How long nginx instances may take to load a deployed release before they count as lagging. */
const ENGINE_GRACE_MS = 10_000;

/**
 * The sync status nginx instances add to an environment the store calls synced: failed when one
 * refused the deployed release (its message; the last good one keeps serving), progressing while they
 * load it, out-of-sync when one lags longer or none reports the environment at all.
 */
function engineStatus(engines: EngineView[], deployed: string, deployedAt: Date): [SyncStatus, string] | undefined {
  const refusing = engines.find((e) => e.error && e.release !== deployed);
  if (refusing) return ["failed", `nginx instance ${refusing.instance}: ${refusing.error}; ${refusing.release ? `the last good release (${shortRelease(refusing.release)}) keeps serving` : "nothing is served"}`];
  const fresh = Date.now() - deployedAt.getTime() < ENGINE_GRACE_MS;
  if (engines.length === 0) return [fresh ? "progressing" : "out-of-sync", "no nginx instance reports serving it (is a gateway agent running?)"];
  const lagging = engines.filter((e) => e.release !== deployed);
  if (lagging.length === 0) return undefined;
  const what = lagging.map((e) => `${e.instance} serves ${e.release ? shortRelease(e.release) : "nothing"}`).join(", ");
  return [fresh ? "progressing" : "out-of-sync", `nginx instance${lagging.length === 1 ? "" : "s"} ${what}, deployed is ${shortRelease(deployed)}`];
}

/** The operator's view and actions over the store, the gateway and the Git sources. */
export class Operations implements AdminOperations {
  private readonly commitCache = new Map<string, CommitView>();
  private readonly facts = new Map<number, { tryPath: string; inherit: string | undefined }>();

  constructor(private readonly deps: AdminDeps) {}

  private async rows(where?: SQL): Promise<EnvRow[]> {
    const rows = await this.deps.db
      .select({ env: environments, owner: repositories.owner, repoName: repositories.name })
      .from(environments)
      .innerJoin(repositories, eq(repositories.id, environments.repositoryId))
      .where(and(ne(environments.status, "torn-down"), where))
      .orderBy(repositories.owner, repositories.name, environments.name);
    return rows.map((r) => ({ ...r.env, owner: r.owner, repoName: r.repoName }));
  }

  /** A label, or a name that only one repository uses. */
  private async resolve(ref: string): Promise<EnvRow> {
    const byLabel = await this.rows(eq(environments.hostName, ref));
    if (byLabel[0]) return byLabel[0];
    const byName = await this.rows(eq(environments.name, ref));
    if (byName.length === 1) return byName[0]!;
    if (byName.length > 1) throw new AdminError("AMBIGUOUS", `${byName.length} repositories have an environment named ${ref}; use its label: ${byName.map((e) => e.hostName).join(", ")}`);
    throw new AdminError("NOT_FOUND", `no environment ${ref}`);
  }

  private async commitView(row: EnvRow, sha: string | null): Promise<CommitView | null> {
    if (!sha) return null;
    const key = `${row.owner}/${row.repoName}@${sha}`;
    const cached = this.commitCache.get(key);
    if (cached) return cached;
    const info = await this.deps.git?.commit(row.owner, row.repoName, sha).catch(() => undefined);
    const view: CommitView = { sha, message: info?.message ?? null, author: info?.author ?? null, at: info?.at ?? null, url: this.deps.commitUrl?.(row.owner, row.repoName, sha) ?? null };
    if (info) this.commitCache.set(key, view);
    return view;
  }

  private async pendingKeys(): Promise<Set<string>> {
    const rows = rowsOf<{ environment_key: string }>(await this.deps.db.execute(sql`SELECT DISTINCT environment_key FROM jobs WHERE status IN ('queued', 'running')`));
    return new Set(rows.map((r) => r.environment_key));
  }

  private async view(row: EnvRow, pending: Set<string>, reports: Map<string, EngineReport[]>): Promise<EnvironmentView> {
    const hashOf = async (id: number | null) => (id === null ? null : ((await this.deps.db.select({ hash: releases.contentHash, commit: releases.commitSha }).from(releases).where(eq(releases.id, id)))[0] ?? null));
    const deployed = await hashOf(row.deployedReleaseId);
    const pinned = await hashOf(row.pinnedReleaseId);
    const running = this.deps.running(row.hostName) ?? null;
    const gitDesired = this.deps.git?.desiredCommit(row.owner, row.repoName, { name: row.name, kind: row.kind, branch: row.branch });
    // No remote to ask (the GitHub App mode): after a failure, the commit last tried is the one wanted, so a
    // failed promotion of a newer commit shows as failed rather than as the older commit synced.
    const lastTried = gitDesired === undefined && !pinned && row.status === "failed" ? await this.lastTriedCommit(row.id) : undefined;
    const desiredCommit = pinned ? pinned.commit : (gitDesired ?? lastTried ?? row.deployedCommitSha ?? null);
    const repo = `${row.owner}/${row.repoName}`;
    const keys = [`git:${repo}:${row.name}`, `gh:${repo}:${row.name}`, ...(row.branch ? [`gh:${repo}:branch:${row.branch}`] : [])];
    let status: SyncStatus = "synced";
    let reason: string | null = null;
    if (keys.some((k) => pending.has(k))) [status, reason] = ["progressing", "a deployment is queued or running"];
    // Failed until a newer commit deploys: a failure of the very commit that runs again is stale.
    else if (row.status === "failed" && !(running && desiredCommit && desiredCommit === row.deployedCommitSha)) {
      status = "failed";
      reason = `${row.lastError ?? "the last deployment failed"}; ${running ? `the last good release (${shortRelease(running)}) keeps serving` : "nothing is served"}`;
    } else if (!running) [status, reason] = ["missing", row.lastError ? `nothing is served: ${row.lastError}` : "nothing is served yet"];
    else if (desiredCommit && row.deployedCommitSha !== desiredCommit) {
      status = "out-of-sync";
      reason = row.deployedCommitSha === "" ? "serves a config deployed outside Git by an operator" : `runs ${row.deployedCommitSha?.slice(0, 7) ?? "nothing"}, ${pinned ? "pinned to" : "Git says"} ${desiredCommit.slice(0, 7)}`;
      if (pinned && gitDesired && gitDesired !== pinned.commit) reason = `pinned to ${pinned.commit.slice(0, 7)}; the branch is at ${gitDesired.slice(0, 7)}`;
      if (row.reportOnly) reason += " (report only: not corrected)";
    } else if (pinned && gitDesired && gitDesired !== pinned.commit) [status, reason] = ["out-of-sync", `pinned to ${pinned.commit.slice(0, 7)}; the branch is at ${gitDesired.slice(0, 7)} (unpin to deploy it)`];
    const engine = this.deps.engineOf?.(row.kind) ?? "node";
    const engines: EngineView[] = engine === "nginx" ? (reports.get(row.hostName) ?? []).map((r) => ({ instance: r.instanceId, release: r.releaseHash, error: r.lastError, updatedAt: r.updatedAt.toISOString() })) : [];
    if (engine === "nginx" && status === "synced" && deployed) [status, reason] = engineStatus(engines, deployed.hash, row.updatedAt) ?? [status, reason];
    return {
      repository: repo,
      name: row.name,
      label: row.hostName,
      kind: row.kind,
      status,
      reason,
      pinned: row.pinnedReleaseId !== null,
      reportOnly: row.reportOnly,
      url: this.deps.records.url(row.hostName),
      tryUrl: joinUrl(this.deps.records.url(row.hostName), row.deployedReleaseId === null ? "/" : ((await this.releaseFacts(row.deployedReleaseId))?.tryPath ?? "/")),
      runningRelease: running,
      engine,
      engines,
      desiredRelease: pinned?.hash ?? deployed?.hash ?? null,
      commit: await this.commitView(row, row.deployedCommitSha || null),
      desiredCommit,
      branch: row.branch,
      pullRequest: row.pullRequest,
      lastError: row.lastError,
      risk: await this.riskOf(row),
      smoke: await this.smokeOf(row),
      updatedAt: row.updatedAt.toISOString(),
    };
  }

  private async lastTriedCommit(environmentId: number): Promise<string | undefined> {
    const [latest] = await this.deps.db.select({ commit: deployments.commitSha }).from(deployments).where(eq(deployments.environmentId, environmentId)).orderBy(desc(deployments.id)).limit(1);
    return latest?.commit ?? undefined;
  }

  /** What the change report of the running commit's deployment left open: breaking changes nobody approved. */
  private async riskOf(row: EnvRow): Promise<EnvironmentView["risk"]> {
    const none = { breaking: 0, security: 0 };
    if (!row.deployedCommitSha) return none;
    const [latest] = await this.deps.db
      .select({ report: deployments.report })
      .from(deployments)
      .where(and(eq(deployments.environmentId, row.id), eq(deployments.outcome, "succeeded"), eq(deployments.commitSha, row.deployedCommitSha), sql`jsonb_typeof(${deployments.report}->'changes') = 'array'`))
      .orderBy(desc(deployments.id))
      .limit(1);
    const changes = (latest?.report as { changes?: unknown } | undefined)?.changes;
    if (!Array.isArray(changes)) return none;
    const open = changes.filter((c): c is { level: string; category?: string } => typeof c === "object" && c !== null && (c as { level?: unknown }).level === "breaking" && !(c as { accepted?: unknown }).accepted);
    return { breaking: open.length, security: open.filter((c) => c.category === "security").length };
  }

  /** The newest smoke check of this preview's running commit: checks are kept per commit, so the environment is read from its details. */
  private async smokeOf(row: EnvRow): Promise<EnvironmentView["smoke"]> {
    if (row.kind !== "preview" || !row.deployedCommitSha) return null;
    const [latest] = await this.deps.db
      .select({ conclusion: checkResults.conclusion, title: checkResults.title })
      .from(checkResults)
      .where(and(eq(checkResults.repositoryId, row.repositoryId), eq(checkResults.commitSha, row.deployedCommitSha), eq(checkResults.name, "smoke"), sql`${checkResults.details}->>'environment' = ${row.name}`))
      .orderBy(desc(checkResults.id))
      .limit(1);
    return latest ?? null;
  }

  async environments(): Promise<EnvironmentView[]> {
    const pending = await this.pendingKeys();
    const reports = await engineReports(this.deps.db);
    return Promise.all((await this.rows()).map((r) => this.view(r, pending, reports)));
  }

  async environment(ref: string): Promise<EnvironmentView> {
    return this.view(await this.resolve(ref), await this.pendingKeys(), await engineReports(this.deps.db));
  }

  async deployments(ref: string, page: Page): Promise<DeploymentView[]> {
    const env = await this.resolve(ref);
    const rows = await this.deps.db
      .select({ d: deployments, hash: releases.contentHash })
      .from(deployments)
      .innerJoin(releases, eq(releases.id, deployments.releaseId))
      .where(eq(deployments.environmentId, env.id))
      .orderBy(desc(deployments.startedAt), desc(deployments.id))
      .limit(page.limit)
      .offset(page.offset);
    return rows.map(({ d, hash }) => ({
      id: d.id,
      release: hash,
      commit: d.commitSha || null,
      trigger: d.trigger,
      actor: d.actor,
      startedAt: d.startedAt.toISOString(),
      finishedAt: d.finishedAt?.toISOString() ?? null,
      outcome: d.outcome,
      error: d.error,
      ...reportParts(d.report),
    }));
  }

  /** What the checks said of the commits this environment ran or should run (newest first). */
  async checks(ref: string): Promise<CheckView[]> {
    const env = await this.resolve(ref);
    const deployed = await this.deps.db.select({ sha: deployments.commitSha }).from(deployments).where(eq(deployments.environmentId, env.id)).orderBy(desc(deployments.id)).limit(20);
    const desired = this.deps.git?.desiredCommit(env.owner, env.repoName, { name: env.name, kind: env.kind, branch: env.branch });
    const commits = [...new Set([desired, env.deployedCommitSha, ...deployed.map((d) => d.sha)].filter((c): c is string => Boolean(c)))];
    if (commits.length === 0) return [];
    const rows = await this.deps.db.select().from(checkResults).where(and(eq(checkResults.repositoryId, env.repositoryId), inArray(checkResults.commitSha, commits))).orderBy(desc(checkResults.id)).limit(60);
    return rows.map((r) => ({ name: r.name, commit: r.commitSha, conclusion: r.conclusion, title: r.title, summary: r.summary, at: r.createdAt.toISOString() }));
  }

  async audit(filter: AuditFilter, page: Page): Promise<{ entries: AuditEntry[]; total: number }> {
    const where: SQL[] = [];
    if (filter.actor) where.push(eq(auditLog.actor, filter.actor));
    if (filter.action) where.push(eq(auditLog.action, filter.action));
    if (filter.since) where.push(gte(auditLog.at, parseTime(filter.since, "since")));
    if (filter.until) where.push(lte(auditLog.at, parseTime(filter.until, "until")));
    if (filter.environment) where.push(sql`(${environments.name} = ${filter.environment} OR ${environments.hostName} = ${filter.environment})`);
    if (filter.repository) where.push(sql`(${repositories.owner} || '/' || ${repositories.name}) = ${filter.repository}`);
    const base = () =>
      this.deps.db
        .select({ a: auditLog, env: environments.name, label: environments.hostName, owner: repositories.owner, repo: repositories.name })
        .from(auditLog)
        .leftJoin(environments, eq(environments.id, auditLog.environmentId))
        .leftJoin(repositories, eq(repositories.id, environments.repositoryId))
        .where(and(...where));
    const rows = await base().orderBy(desc(auditLog.at), desc(auditLog.id)).limit(page.limit).offset(page.offset);
    const [total] = await this.deps.db
      .select({ n: count() })
      .from(auditLog)
      .leftJoin(environments, eq(environments.id, auditLog.environmentId))
      .leftJoin(repositories, eq(repositories.id, environments.repositoryId))
      .where(and(...where));
    return {
      total: Number(total?.n ?? 0),
      entries: rows.map((r) => ({ id: r.a.id, at: r.a.at.toISOString(), actor: r.a.actor, action: r.a.action, repository: r.owner ? `${r.owner}/${r.repo}` : null, environment: r.env, label: r.label, commit: r.a.commitSha, details: r.a.details as Record<string, unknown> })),
    };
  }

  /** The keys that open the environment: its own, then those it inherits (marked with where they live). */
  async keys(ref: string): Promise<KeyView[]> {
    const env = await this.resolve(ref);
    const keysOf = async (environmentId: number) => {
      const rows = await this.deps.db.select({ id: apiKeys.id, consumer: apiConsumers.name, at: apiKeys.createdAt }).from(apiKeys).innerJoin(apiConsumers, eq(apiConsumers.id, apiKeys.consumerId)).where(eq(apiConsumers.environmentId, environmentId)).orderBy(apiConsumers.name, apiKeys.id);
      return rows.map((r) => ({ id: r.id, consumer: r.consumer, createdAt: r.at.toISOString() }));
    };
    const own: KeyView[] = await keysOf(env.id);
    const parentName = await this.inheritedFrom(env);
    const [parent] = parentName ? await this.rows(and(eq(environments.repositoryId, env.repositoryId), eq(environments.name, parentName))) : [];
    if (!parent) return own;
    return [...own, ...(await keysOf(parent.id)).map((k) => ({ ...k, inheritedFrom: parent.name, inheritedFromLabel: parent.hostName }))];
  }

  /** The environment whose keys and values a preview's running release inherits, if any. */
  private async inheritedFrom(env: EnvRow): Promise<string | undefined> {
    if (env.kind !== "preview" || env.deployedReleaseId === null) return undefined;
    return (await this.releaseFacts(env.deployedReleaseId))?.inherit;
  }

  /** What the dashboard and the CLI need of a release's config, read once per release (releases never change). */
  private async releaseFacts(releaseId: number): Promise<{ tryPath: string; inherit: string | undefined } | undefined> {
    const cached = this.facts.get(releaseId);
    if (cached) return cached;
    const [release] = await this.deps.db.select({ bundle: releases.bundle }).from(releases).where(eq(releases.id, releaseId));
    const files = (release?.bundle as { files?: Record<string, string> } | undefined)?.files;
    if (!files) return undefined;
    const config = readConfig(new Map(Object.entries(files))).config;
    const facts = { tryPath: config ? tryPath(config) : "/", inherit: config?.settings.previews.inherit };
    if (this.facts.size > 500) this.facts.clear();
    this.facts.set(releaseId, facts);
    return facts;
  }

  async createKey(ref: string, consumer: string, actor: string): Promise<{ consumer: string; key: string }> {
    if (!/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/.test(consumer)) throw new AdminError("BAD_REQUEST", "a consumer name is 1 to 64 letters, digits, dots, dashes, underscores or @");
    if (consumer === SMOKE_CONSUMER) throw new AdminError("BAD_REQUEST", `${SMOKE_CONSUMER} is the consumer of the smoke test's own keys (minted and revoked by Gitway); choose another name`);
    // Usage counts calls without a key under this name: a consumer of that name would be mixed up with them.
    if (consumer === "anonymous") throw new AdminError("BAD_REQUEST", 'the consumer name "anonymous" is reserved: usage counts calls without a key under it');
    const env = await this.resolve(ref);
    const key = KEY_PREFIX + randomBytes(24).toString("base64url");
    await this.deps.db.transaction(async (tx) => {
      const db = tx as unknown as Db;
      await db.insert(apiConsumers).values({ environmentId: env.id, name: consumer }).onConflictDoNothing();
      const [row] = await db.select({ id: apiConsumers.id }).from(apiConsumers).where(and(eq(apiConsumers.environmentId, env.id), eq(apiConsumers.name, consumer)));
      await db.insert(apiKeys).values({ consumerId: row!.id, keyHash: createHash("sha256").update(key).digest("hex") });
    });
    await this.deps.records.audit({ actor, action: "key.created", environmentId: env.id, details: { consumer } });
    await this.redeployAffected(env, actor);
    return { consumer, key };
  }

  async revokeKey(ref: string, consumer: string, actor: string): Promise<{ revoked: number; rebuild: RebuildOutcome }> {
    const env = await this.resolve(ref);
    const [row] = await this.deps.db.select({ id: apiConsumers.id }).from(apiConsumers).where(and(eq(apiConsumers.environmentId, env.id), eq(apiConsumers.name, consumer)));
    if (!row) throw new AdminError("NOT_FOUND", `${env.hostName} has no consumer ${consumer}`);
    const gone = await revokeConsumer(this.deps.db, row.id);
    // Refused at once, before and whatever the rebuild: a rebuild that fails must not leave the key working.
    await this.deps.revokeKeys?.(gone);
    await this.deps.records.audit({ actor, action: "key.revoked", environmentId: env.id, details: { consumer, keys: gone.length } });
    const rebuild = await this.redeployAffected(env, actor);
    return { revoked: gone.length, rebuild };
  }

  async variables(ref: string): Promise<VariableView[]> {
    const env = await this.resolve(ref);
    return (await listVariables(this.deps.db, env.id)).map((v) => ({ name: v.name, secret: v.secret, value: v.secret ? null : v.value }));
  }

  async setVariable(ref: string, name: string, value: string, secret: boolean, actor: string): Promise<void> {
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(name)) throw new AdminError("BAD_REQUEST", `${JSON.stringify(name.slice(0, 40))} is not a variable name ($env names are letters, digits and _)`);
    if (value.length > 64 * 1024) throw new AdminError("BAD_REQUEST", "a value is at most 64 KiB");
    const env = await this.resolve(ref);
    if (secret && !this.deps.secretKey) throw new AdminError("CONFLICT", "secrets cannot be stored: GITWAY_SECRET_KEY is not set (openssl rand -base64 32)");
    await setVariable(this.deps.db, this.deps.secretKey, { environmentId: env.id, name, value, secret });
    // The value itself never reaches the audit log.
    await this.deps.records.audit({ actor, action: "value.set", environmentId: env.id, details: { name, secret } });
    await this.redeployAffected(env, actor);
  }

  async sync(ref: string | undefined, actor: string): Promise<void> {
    if (ref) {
      const env = await this.resolve(ref);
      this.deps.git?.forget(env.owner, env.repoName, env.name);
      await this.deps.records.audit({ actor, action: "environment.sync", environmentId: env.id });
    } else {
      await this.deps.records.audit({ actor, action: "sync" });
    }
    await Promise.all([this.deps.git?.sync(), this.deps.githubSync?.()]);
  }

  async rollback(ref: string, target: string, actor: string): Promise<{ release: string; commit: string | null; from: string }> {
    const given = Date.now();
    const env = await this.resolve(ref);
    const release = await this.ownRelease(env, target);
    // The pin names the release that now runs (values and keys of today), which is a listed deployment.
    const hash = await this.deployBundle(env, release.commitSha, (release.bundle as { files: Record<string, string> }).files, "rollback", actor, { order: given, pin: true });
    await this.deps.records.audit({ actor, action: "environment.pinned", environmentId: env.id, commitSha: release.commitSha, details: { release: hash, ...(hash !== release.contentHash ? { from: release.contentHash } : {}) } });
    return { release: hash, commit: release.commitSha || null, from: release.contentHash };
  }

  /**
   * The release a prefix names among this environment's own deployments (never another
   * environment's or a preview's): at least 7 hex characters of a release id or a commit SHA,
   * matching exactly one.
   */
  private async ownRelease(env: EnvRow, target: string): Promise<typeof releases.$inferSelect> {
    const prefix = target.trim().toLowerCase();
    if (!/^[0-9a-f]{7,64}$/.test(prefix)) throw new AdminError("BAD_REQUEST", "roll back to a release id or a commit SHA: at least 7 hex characters of it");
    const own = await this.deps.db
      .selectDistinct({ r: releases })
      .from(deployments)
      .innerJoin(releases, eq(releases.id, deployments.releaseId))
      .where(and(eq(deployments.environmentId, env.id), eq(deployments.outcome, "succeeded"), sql`(${releases.contentHash} LIKE ${prefix + "%"} OR ${releases.commitSha} LIKE ${prefix + "%"})`))
      .orderBy(desc(releases.id))
      .limit(200);
    const byHash = own.filter(({ r }) => r.contentHash.startsWith(prefix));
    if (byHash.length === 1) return byHash[0]!.r;
    const commits = [...new Set(own.filter(({ r }) => r.commitSha !== "" && r.commitSha.startsWith(prefix)).map(({ r }) => r.commitSha))];
    if (byHash.length === 0 && commits.length === 1) return own.find(({ r }) => r.commitSha === commits[0])!.r;
    if (byHash.length + commits.length > 1) {
      const names = [...byHash.map(({ r }) => `release ${r.contentHash}`), ...commits.map((c) => `commit ${c.slice(0, 12)}`)];
      throw new AdminError("AMBIGUOUS", `${prefix} matches ${names.length} of ${env.hostName}'s releases (${names.slice(0, 5).join(", ")}); give more characters`);
    }
    throw new AdminError("NOT_FOUND", `${env.hostName} never ran a release or commit starting with ${prefix}; gitway deployments of it are listed on its page and by GET /api/environments/${env.hostName}/deployments`);
  }

  async unpin(ref: string, actor: string): Promise<void> {
    const env = await this.resolve(ref);
    if (env.pinnedReleaseId === null) throw new AdminError("CONFLICT", `${env.hostName} is not pinned`);
    await this.deps.db.update(environments).set({ pinnedReleaseId: null }).where(eq(environments.id, env.id));
    await this.deps.records.audit({ actor, action: "environment.unpinned", environmentId: env.id });
    // What Git says runs again: the Git mode's next poll, or in App mode the production branch's head, queued now.
    if (this.deps.git?.polls(env.owner, env.repoName)) {
      this.deps.git.forget(env.owner, env.repoName, env.name);
      await this.deps.git.sync();
    } else if (env.kind !== "preview") await this.deps.githubRedeploy?.(env.owner, env.repoName, actor);
  }

  async deployFiles(ref: string, files: Record<string, string>, actor: string): Promise<{ release: string }> {
    const given = Date.now();
    const env = await this.resolve(ref);
    const hash = await this.deployBundle(env, "", files, "operator", actor, { order: given });
    this.deps.git?.forget(env.owner, env.repoName, env.name);
    return { release: hash };
  }

  async setReportOnly(ref: string, reportOnly: boolean, actor: string): Promise<void> {
    const env = await this.resolve(ref);
    await this.deps.db.update(environments).set({ reportOnly }).where(eq(environments.id, env.id));
    await this.deps.records.audit({ actor, action: reportOnly ? "environment.report-only" : "environment.auto-sync", environmentId: env.id });
    this.deps.git?.forget(env.owner, env.repoName, env.name);
  }

  /**
   * Builds files into a release for the environment and serves it, through the same turn and
   * compare-and-set as jobs (given at the request's time): a config with errors is refused whole,
   * and so is the request when something given after it already runs.
   */
  private async deployBundle(env: EnvRow, commitSha: string, files: Record<string, string>, trigger: "rollback" | "operator", actor: string, guard: { order: number; pin?: boolean }): Promise<string> {
    const { config, diagnostics } = readConfig(new Map(Object.entries(files)));
    if (!config || hasErrors(diagnostics)) {
      const lines = diagnostics.filter((d) => d.severity === "error").slice(0, 20).map((d) => formatDiagnosticLine(d));
      throw new AdminError("BAD_REQUEST", `the config has errors; nothing was deployed:\n${lines.join("\n")}`);
    }
    let result: SwapResult;
    try {
      result = await swapRelease(this.deps, { id: env.id, label: env.hostName }, async () => ({ config, values: await this.deps.records.values(env.id, await this.inheritOf(env, config)), record: { commitSha, files, trigger, actor, guard } }));
    } catch (e) {
      throw new AdminError("CONFLICT", `not deployed: ${(e as Error).message}`);
    }
    if (!result.swapped) throw new AdminError("CONFLICT", `not deployed: ${env.hostName} already runs a deployment given after this request; look at it and try again`);
    return result.releaseHash;
  }

  private async inheritOf(env: EnvRow, config: GatewayConfig): Promise<{ repositoryId: number; name: string } | undefined> {
    const inherit = config.settings.previews.inherit;
    return env.kind === "preview" && inherit ? { repositoryId: env.repositoryId, name: inherit } : undefined;
  }

  /**
   * Keys and values are part of a release: rebuild the environment's running release, and those
   * of the previews that inherit from it, so the change is served at once.
   */
  private async redeployAffected(changed: EnvRow, actor: string): Promise<RebuildOutcome> {
    const failed: RebuildOutcome["failed"] = [];
    const live = await this.rows(and(eq(environments.repositoryId, changed.repositoryId), sql`${environments.deployedReleaseId} IS NOT NULL`));
    for (const env of live) {
      // In the environment's turn, the release rebuilt is the one that runs then (a job may have
      // swapped a newer one meanwhile), and the compare-and-set replaces exactly that one.
      const plan = async (): Promise<SwapPlan | undefined> => {
        const release = await this.deps.records.deployedRelease(env.id);
        if (!release) return undefined;
        const { config } = readConfig(new Map(Object.entries(release.files)));
        if (!config) return undefined;
        const inherit = await this.inheritOf(env, config);
        if (env.id !== changed.id && inherit?.name !== changed.name) return undefined;
        return { config, values: await this.deps.records.values(env.id, inherit), record: { commitSha: release.commitSha, files: release.files, trigger: "operator", actor, guard: { rebuildOf: release.id } } };
      };
      try {
        await swapRelease(this.deps, { id: env.id, label: env.hostName }, plan);
      } catch (e) {
        await this.deps.records.audit({ actor, action: "deployment.failed", environmentId: env.id, details: { reason: (e as Error).message } });
        failed.push({ environment: env.hostName, reason: (e as Error).message });
      }
    }
    return { ok: failed.length === 0, failed };
  }

  /** Every repository Gitway knows. */
  async usage(ref: string, query: UsageFilter): Promise<UsageView> {
    const env = await this.resolve(ref);
    const days = query.days ?? 30;
    if (!Number.isInteger(days) || days < 1 || days > 366) throw new AdminError("BAD_REQUEST", `days must be a whole number from 1 to 366, not ${days}`);
    if (query.operation !== undefined && (query.operation === "" || query.operation.length > 2048)) throw new AdminError("BAD_REQUEST", "operation must be an operationId or METHOD /path of at most 2048 characters");
    const rows = await usageTotals(this.deps.db, { environment: env.hostName, days, ...(query.operation !== undefined ? { operation: query.operation } : {}) });
    return { environment: env.hostName, days, total: rows.reduce((n, r) => n + r.calls, 0), rows };
  }

  async repositories(): Promise<{ repository: string; source: string }[]> {
    const rows = await this.deps.db.select({ owner: repositories.owner, name: repositories.name, source: repositories.source }).from(repositories).where(inArray(repositories.id, this.deps.db.select({ id: environments.repositoryId }).from(environments)));
    return rows.map((r) => ({ repository: `${r.owner}/${r.name}`, source: r.source }));
  }
}

function parseTime(value: string, name: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new AdminError("BAD_REQUEST", `${name} must be a time like 2026-11-25T10:00:00Z`);
  return d;
}

/** Release ids are shown at this length everywhere (CLI, API, dashboard, audit, checks); any unique prefix of 7 or more is accepted. */
export const RELEASE_ID_LENGTH = 16;

export function shortRelease(hash: string): string {
  return hash.slice(0, RELEASE_ID_LENGTH);
}

/** An environment's base URL and a route path, without a doubled slash. */
export function joinUrl(base: string, path: string): string {
  return base.replace(/\/+$/, "") + (path.startsWith("/") ? path : "/" + path);
}

/** A deployment's report column holds the change report and, with nginx in front, the routes it hands to the Node gateway. */
function reportParts(stored: unknown): Pick<DeploymentView, "report" | "hybridRoutes"> {
  if (typeof stored !== "object" || stored === null) return { report: null, hybridRoutes: [] };
  const { hybridRoutes, ...rest } = stored as { hybridRoutes?: unknown; summary?: unknown };
  const routes = Array.isArray(hybridRoutes) ? hybridRoutes.filter((h): h is { route: string; reason: string } => typeof h?.route === "string" && typeof h?.reason === "string").map(({ route, reason }) => ({ route, reason })) : [];
  return { report: rest.summary ? (rest as DeploymentView["report"]) : null, hybridRoutes: routes };
}
