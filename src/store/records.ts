import { and, desc, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "./db.js";
import { appendAudit, consumersOf, finishDeployment, markDeployed, resolveValues, saveRelease, startDeployment, upsertEnvironment, upsertRepository, type SwapGuard } from "./queries.js";
import { approvals, environments, repositories, releases } from "./schema.js";

type Kind = "preview" | "stage" | "production";

/** Advisory-lock keys of environment swaps: this base plus the environment's id (the migration lock is far below). */
const SWAP_LOCK_BASE = 0x6777_0000_0000;

/** At most `size` callers at once; the others wait their turn. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(size: number) {
    this.free = size;
  }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiting.push(r));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

export interface Naming {
  /** The DNS label of an environment (`<owner>-<repo>-<env>`, slugged). */
  label(owner: string, repo: string, environment: string): string;
  url(label: string): string;
}

export interface EnvironmentRow {
  id: number;
  name: string;
  kind: Kind;
  label: string;
  url: string;
  deployedCommitSha: string | null;
  pinned: boolean;
  reportOnly: boolean;
}

/**
 * The pipeline's memory in the database: environments, their values and keys, approvals,
 * deployments and the audit log. Secrets are decrypted only to build a release.
 */
export class StoreRecords {
  constructor(
    private readonly db: Db,
    private readonly naming: Naming,
    private readonly secretKey: Buffer | undefined,
    /** Store.withLock of a shared PostgreSQL: swaps of one environment in several processes take turns. */
    private readonly crossProcessLock?: <T>(key: number, fn: () => Promise<T>) => Promise<T>,
  ) {}

  private readonly chains = new Map<number, Promise<void>>();
  private readonly slots = new Slots(4);

  async repository(owner: string, name: string): Promise<number> {
    const [row] = await this.db.select({ id: repositories.id }).from(repositories).where(and(eq(repositories.owner, owner), eq(repositories.name, name)));
    return row ? row.id : upsertRepository(this.db, { owner, name });
  }

  private async names(repositoryId: number): Promise<{ owner: string; name: string }> {
    const [row] = await this.db.select({ owner: repositories.owner, name: repositories.name }).from(repositories).where(eq(repositories.id, repositoryId));
    if (!row) throw new Error(`repository ${repositoryId} is not recorded`);
    return row;
  }

  async environment(repositoryId: number, spec: { name: string; kind: Kind; branch?: string; pullRequest?: number; fork?: boolean }): Promise<EnvironmentRow> {
    const repo = await this.names(repositoryId);
    const label = this.naming.label(repo.owner, repo.name, spec.name);
    await upsertEnvironment(this.db, { repositoryId, name: spec.name, kind: spec.kind, hostName: label, ...(spec.branch ? { branch: spec.branch } : {}), ...(spec.pullRequest !== undefined ? { pullRequest: spec.pullRequest } : {}), ...(spec.fork ? { fork: true } : {}) });
    // A retired environment that comes back (a reopened pull request) is live again.
    await this.db
      .update(environments)
      .set({ lastActivityAt: sql`now()`, status: sql`CASE WHEN ${environments.status} = 'torn-down' THEN 'pending' ELSE ${environments.status} END` })
      .where(and(eq(environments.repositoryId, repositoryId), eq(environments.name, spec.name)));
    return (await this.findEnvironment(repositoryId, spec.name))!;
  }

  /** The URL a person opens for an environment's label. */
  url(label: string): string {
    return this.naming.url(label);
  }

  async findEnvironment(repositoryId: number, name: string): Promise<EnvironmentRow | undefined> {
    const [row] = await this.db.select().from(environments).where(and(eq(environments.repositoryId, repositoryId), eq(environments.name, name)));
    if (!row || row.status === "torn-down") return undefined;
    return { id: row.id, name: row.name, kind: row.kind, label: row.hostName, url: this.naming.url(row.hostName), deployedCommitSha: row.deployedCommitSha, pinned: row.pinnedReleaseId !== null, reportOnly: row.reportOnly };
  }

  async values(environmentId: number, inherit?: { repositoryId: number; name: string }): Promise<{ name: string; vars: Record<string, string>; secretNames: string[]; consumers: { name: string; keyHashes: string[] }[]; egress: { fenced: boolean; production?: { files: Record<string, string>; vars: Record<string, string> } } }> {
    const [env] = await this.db.select({ name: environments.name, kind: environments.kind, repositoryId: environments.repositoryId }).from(environments).where(eq(environments.id, environmentId));
    const ids = [environmentId];
    if (inherit) {
      const [parent] = await this.db.select({ id: environments.id }).from(environments).where(and(eq(environments.repositoryId, inherit.repositoryId), eq(environments.name, inherit.name)));
      if (parent) ids.unshift(parent.id);
    }
    const vars: Record<string, string> = {};
    const secret = new Set<string>();
    const consumers = new Map<string, string[]>();
    // The environment's own values win over the inherited ones: it comes last.
    for (const id of ids) {
      const own = await resolveValues(this.db, this.secretKey, id);
      Object.assign(vars, own.vars);
      for (const name of Object.keys(own.vars)) {
        if (own.secretNames.includes(name)) secret.add(name);
        else secret.delete(name);
      }
      for (const c of await consumersOf(this.db, id)) consumers.set(c.name, [...(consumers.get(c.name) ?? []), ...c.keyHashes]);
    }
    // Anything but a stage or production is fenced, an environment the store does not know included.
    const fenced = env?.kind !== "production" && env?.kind !== "stage";
    const production = fenced && env ? await this.productionRelease(env.repositoryId) : undefined;
    return { name: env?.name ?? "", vars, secretNames: [...secret], consumers: [...consumers].map(([name, keyHashes]) => ({ name, keyHashes })), egress: { fenced, ...(production ? { production } : {}) } };
  }

  /**
   * The files and values of the repository's production release as deployed: the gateway reads
   * from them the upstreams a preview of that repository may reach whatever they resolve to.
   */
  async productionRelease(repositoryId: number): Promise<{ files: Record<string, string>; vars: Record<string, string> } | undefined> {
    const [row] = await this.db
      .select({ id: environments.id, bundle: releases.bundle })
      .from(environments)
      .innerJoin(releases, eq(releases.id, environments.deployedReleaseId))
      .where(and(eq(environments.repositoryId, repositoryId), eq(environments.kind, "production"), sql`${environments.status} <> 'torn-down'`));
    if (!row) return undefined;
    const { vars } = await resolveValues(this.db, this.secretKey, row.id);
    return { files: (row.bundle as { files?: Record<string, string> }).files ?? {}, vars };
  }

  async approvedFingerprints(repositoryId: number, pullRequest?: number): Promise<Map<string, string>> {
    const where = pullRequest === undefined ? eq(approvals.repositoryId, repositoryId) : and(eq(approvals.repositoryId, repositoryId), eq(approvals.pullRequest, pullRequest));
    const rows = await this.db.select({ fingerprint: approvals.fingerprint, by: approvals.approvedBy }).from(approvals).where(where);
    return new Map(rows.map((r) => [r.fingerprint, r.by]));
  }

  async approve(e: { repositoryId: number; pullRequest: number; headSha: string; fingerprints: string[]; actor: string }): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx
        .insert(approvals)
        .values(e.fingerprints.map((fingerprint) => ({ repositoryId: e.repositoryId, pullRequest: e.pullRequest, fingerprint, approvedBy: e.actor, headSha: e.headSha })))
        .onConflictDoNothing();
      const [env] = await tx.select({ id: environments.id }).from(environments).where(and(eq(environments.repositoryId, e.repositoryId), eq(environments.pullRequest, e.pullRequest)));
      await appendAudit(tx as unknown as Db, { actor: e.actor, action: "breaking.approved", ...(env ? { environmentId: env.id } : {}), commitSha: e.headSha, approval: e.fingerprints.join(","), details: { pullRequest: e.pullRequest, fingerprints: e.fingerprints } });
    });
  }

  /**
   * A deployment happened (or failed). A succeeded one becomes the environment's running release
   * only through the compare-and-set of `guard` (default: given now); when the guard refuses it,
   * nothing is recorded and the answer says why (something given later runs, or a rollback pins it).
   */
  async recordDeployment(d: { environmentId: number; commitSha: string; releaseHash: string; files: Record<string, string>; trigger: string; actor: string; outcome: "succeeded" | "failed"; error?: string; report?: unknown; hybridRoutes?: { route: string; reason: string }[]; guard?: SwapGuard }): Promise<"recorded" | "superseded" | "pinned"> {
    return this.db.transaction(async (tx) => {
      const db = tx as unknown as Db;
      const [env] = await db.select({ repositoryId: environments.repositoryId, deployedReleaseId: environments.deployedReleaseId, pinned: environments.pinnedReleaseId }).from(environments).where(eq(environments.id, d.environmentId));
      let releaseId: number | undefined;
      if (d.outcome === "succeeded") {
        releaseId = await saveRelease(db, { repositoryId: env!.repositoryId, contentHash: d.releaseHash, commitSha: d.commitSha, bundle: { files: d.files } });
        const guard = d.guard ?? { order: Date.now() };
        if (!(await markDeployed(db, d.environmentId, releaseId, guard))) return "order" in guard && guard.unlessPinned && env?.pinned != null ? "pinned" : "superseded";
      } else releaseId = env?.deployedReleaseId ?? undefined;
      if (releaseId === undefined) {
        // Nothing ever deployed here: a failed first deployment is told by the environment's status.
        await db.update(environments).set({ status: "failed", lastError: d.error ?? null, updatedAt: sql`now()` }).where(eq(environments.id, d.environmentId));
        await appendAudit(db, { actor: d.actor, action: "deployment.failed", environmentId: d.environmentId, commitSha: d.commitSha, details: { trigger: d.trigger, error: d.error } });
        return "recorded";
      }
      const id = await startDeployment(db, { environmentId: d.environmentId, releaseId, trigger: d.trigger, actor: d.actor });
      // The routes nginx hands to the Node gateway ride in the report's column: the operator reads both on the deployment.
      const report = d.hybridRoutes?.length ? { ...(typeof d.report === "object" && d.report !== null ? d.report : {}), hybridRoutes: d.hybridRoutes } : (d.report ?? null);
      await db.execute(sql`UPDATE deployments SET commit_sha = ${d.commitSha}, report = ${JSON.stringify(report)}::jsonb WHERE id = ${id}`);
      await finishDeployment(db, id, d.outcome, d.error);
      if (d.outcome === "succeeded") {
        await db.update(environments).set({ desiredReleaseId: releaseId, deployedCommitSha: d.commitSha }).where(eq(environments.id, d.environmentId));
      } else {
        await db.update(environments).set({ status: "failed", lastError: d.error ?? null, updatedAt: sql`now()` }).where(eq(environments.id, d.environmentId));
      }
      await appendAudit(db, { actor: d.actor, action: d.outcome === "succeeded" ? "deployment.succeeded" : "deployment.failed", environmentId: d.environmentId, commitSha: d.commitSha, details: { trigger: d.trigger, release: d.releaseHash || undefined, error: d.error } });
      return "recorded";
    });
  }

  /** The release an environment runs now, as the store says (read afresh: inside `exclusive`, nobody changes it). */
  async deployedRelease(environmentId: number): Promise<{ id: number; commitSha: string; files: Record<string, string> } | undefined> {
    const [row] = await this.db.select({ id: releases.id, commitSha: releases.commitSha, bundle: releases.bundle }).from(environments).innerJoin(releases, eq(releases.id, environments.deployedReleaseId)).where(eq(environments.id, environmentId));
    return row ? { id: row.id, commitSha: row.commitSha, files: (row.bundle as { files?: Record<string, string> }).files ?? {} } : undefined;
  }

  /**
   * Runs `fn` while no other swap of the environment runs: in this process by a chain per
   * environment, across processes on one PostgreSQL by an advisory lock (when given). At most a
   * few environments hold a pooled connection for their lock at once, so the swaps' own queries
   * always find one.
   */
  exclusive<T>(environmentId: number, fn: () => Promise<T>): Promise<T> {
    const previous = this.chains.get(environmentId) ?? Promise.resolve();
    const locked = this.crossProcessLock;
    const run = previous.then(() => (locked ? this.slots.run(() => locked(SWAP_LOCK_BASE + environmentId, fn)) : fn()));
    const tail = run.then(
      () => {},
      () => {},
    );
    this.chains.set(environmentId, tail);
    void tail.then(() => {
      if (this.chains.get(environmentId) === tail) this.chains.delete(environmentId);
    });
    return run;
  }

  /** The live environments of a repository (what an uninstall or a sweep must look at). */
  async environmentsOf(repositoryId: number): Promise<(EnvironmentRow & { pullRequest: number | null; branch: string | null; lastActivityAt: Date })[]> {
    const rows = await this.db.select().from(environments).where(and(eq(environments.repositoryId, repositoryId), sql`${environments.status} <> 'torn-down'`));
    return rows.map((row) => ({ id: row.id, name: row.name, kind: row.kind, label: row.hostName, url: this.naming.url(row.hostName), deployedCommitSha: row.deployedCommitSha, pinned: row.pinnedReleaseId !== null, reportOnly: row.reportOnly, pullRequest: row.pullRequest, branch: row.branch, lastActivityAt: row.lastActivityAt }));
  }

  async markRetired(environmentId: number): Promise<void> {
    await this.db.update(environments).set({ status: "torn-down", deployedReleaseId: null, deployedCommitSha: null, deployedCommitOrder: null, updatedAt: sql`now()` }).where(eq(environments.id, environmentId));
  }

  async audit(e: { actor: string; action: string; environmentId?: number; commitSha?: string; details?: Record<string, unknown> }): Promise<void> {
    await appendAudit(this.db, e);
  }

  /** Every environment that should be serving, with the files of its release: what a gateway loads at start. */
  async servingReleases(label?: string): Promise<{ label: string; name: string; kind: Kind; repositoryId: number; environmentId: number; files: Record<string, string>; hash: string; fork: boolean }[]> {
    const rows = await this.db
      .select({ label: environments.hostName, name: environments.name, kind: environments.kind, repositoryId: environments.repositoryId, id: environments.id, bundle: releases.bundle, hash: releases.contentHash, fork: environments.fork })
      .from(environments)
      .innerJoin(releases, eq(releases.id, environments.deployedReleaseId))
      .where(and(inArray(environments.status, ["ready", "failed", "deploying", "pending"]), label === undefined ? undefined : eq(environments.hostName, label)))
      .orderBy(desc(environments.id));
    return rows.map((r) => ({ label: r.label, name: r.name, kind: r.kind, repositoryId: r.repositoryId, environmentId: r.id, files: (r.bundle as { files?: Record<string, string> }).files ?? {}, hash: r.hash, fork: r.fork }));
  }
}
