import { and, eq, isNull, lte, ne, or, sql } from "drizzle-orm";
import type { Db } from "./db.js";
import { apiConsumers, apiKeys, auditLog, deployments, environments, environmentVariables, installations, releases, repositories, revokedKeys } from "./schema.js";
import { decryptSecret, encryptSecret, maskSecret } from "./secrets.js";

export async function upsertInstallation(db: Db, id: number, account: string): Promise<void> {
  await db.insert(installations).values({ id, account }).onConflictDoUpdate({ target: installations.id, set: { account } });
}

export async function upsertRepository(db: Db, r: { owner: string; name: string; installationId?: number; source?: string; remoteUrl?: string; defaultBranch?: string }): Promise<number> {
  const [row] = await db
    .insert(repositories)
    .values({ owner: r.owner, name: r.name, installationId: r.installationId ?? null, source: r.source ?? "github", remoteUrl: r.remoteUrl ?? null, defaultBranch: r.defaultBranch ?? "main" })
    .onConflictDoUpdate({ target: [repositories.owner, repositories.name], set: { installationId: r.installationId ?? null, defaultBranch: r.defaultBranch ?? "main" } })
    .returning({ id: repositories.id });
  return row!.id;
}

/** Releases are immutable: the same content hash returns the existing row. */
export async function saveRelease(db: Db, r: { repositoryId: number; contentHash: string; commitSha: string; bundle: unknown }): Promise<number> {
  const [row] = await db.insert(releases).values(r).onConflictDoNothing().returning({ id: releases.id });
  if (row) return row.id;
  const [existing] = await db.select({ id: releases.id }).from(releases).where(and(eq(releases.repositoryId, r.repositoryId), eq(releases.contentHash, r.contentHash)));
  return existing!.id;
}

export async function upsertEnvironment(db: Db, e: { repositoryId: number; name: string; kind: "preview" | "stage" | "production"; hostName: string; branch?: string; pullRequest?: number; fork?: boolean }): Promise<number> {
  const [row] = await db
    .insert(environments)
    .values({ ...e, branch: e.branch ?? null, pullRequest: e.pullRequest ?? null, fork: e.fork === true })
    // A fork flag, once set, stays: a later job that does not know is never a reason to hand out secrets.
    .onConflictDoUpdate({ target: [environments.repositoryId, environments.name], set: { hostName: e.hostName, updatedAt: sql`now()`, ...(e.fork ? { fork: true } : {}) } })
    .returning({ id: environments.id });
  return row!.id;
}

/**
 * What a release swap may replace, checked in the same statement that swaps (compare-and-set):
 * - `order`: a deployment given at `order` (a job's commit order, an operator's request time)
 *   replaces only what was given at the same order or before, so a slow job for an older commit
 *   finishing late cannot overwrite a newer deployment; `unlessPinned` refuses while a rollback
 *   pins the environment (jobs), `pin` makes the new release the pin (a rollback);
 * - `rebuildOf`: a rebuild of the running release (new keys or values) replaces exactly that
 *   release, keeping its order and status, so it never writes back over a newer one.
 */
export type SwapGuard = { order: number; unlessPinned?: boolean; pin?: boolean } | { rebuildOf: number };

export async function markDeployed(db: Db, environmentId: number, releaseId: number, guard: number | SwapGuard): Promise<boolean> {
  const g: SwapGuard = typeof guard === "number" ? { order: guard } : guard;
  if ("rebuildOf" in g) {
    const rows = await db
      .update(environments)
      .set({ deployedReleaseId: releaseId, updatedAt: sql`now()`, pinnedReleaseId: sql`CASE WHEN ${environments.pinnedReleaseId} IS NULL THEN NULL ELSE ${releaseId}::bigint END` })
      .where(and(eq(environments.id, environmentId), eq(environments.deployedReleaseId, g.rebuildOf), ne(environments.status, "torn-down")))
      .returning({ id: environments.id });
    return rows.length === 1;
  }
  const rows = await db
    .update(environments)
    .set({ deployedReleaseId: releaseId, deployedCommitOrder: g.order, status: "ready", lastError: null, updatedAt: sql`now()`, ...(g.pin ? { pinnedReleaseId: releaseId } : {}) })
    .where(and(eq(environments.id, environmentId), or(isNull(environments.deployedCommitOrder), lte(environments.deployedCommitOrder, g.order)), g.unlessPinned ? isNull(environments.pinnedReleaseId) : undefined))
    .returning({ id: environments.id });
  return rows.length === 1;
}

export async function startDeployment(db: Db, d: { environmentId: number; releaseId: number; trigger: string; actor: string }): Promise<number> {
  const [row] = await db.insert(deployments).values(d).returning({ id: deployments.id });
  return row!.id;
}

export async function finishDeployment(db: Db, id: number, outcome: "succeeded" | "failed" | "superseded", error?: string): Promise<void> {
  await db.update(deployments).set({ outcome, finishedAt: sql`now()`, error: error ?? null }).where(eq(deployments.id, id));
}

export async function appendAudit(db: Db, e: { actor: string; action: string; environmentId?: number; commitSha?: string; approval?: string; details?: Record<string, unknown> }): Promise<void> {
  await db.insert(auditLog).values({ actor: e.actor, action: e.action, environmentId: e.environmentId ?? null, commitSha: e.commitSha ?? null, approval: e.approval ?? null, details: e.details ?? {} });
}

const context = (environmentId: number, name: string) => `env:${environmentId}:${name}`;

/** Sets a `$env` value; a secret is encrypted before it reaches the database. */
export async function setVariable(db: Db, key: Buffer | undefined, v: { environmentId: number; name: string; value: string; secret: boolean }): Promise<void> {
  if (v.secret && !key) throw new Error("a secret cannot be stored without GITWAY_SECRET_KEY");
  const stored = v.secret ? encryptSecret(key!, v.value, context(v.environmentId, v.name)) : v.value;
  await db
    .insert(environmentVariables)
    .values({ environmentId: v.environmentId, name: v.name, secret: v.secret, value: stored })
    .onConflictDoUpdate({ target: [environmentVariables.environmentId, environmentVariables.name], set: { value: stored, secret: v.secret, updatedAt: sql`now()` } });
}

/**
 * The values a release needs, secrets decrypted (for compiling a release only; never logged or
 * returned by an API), and which of them are secrets.
 */
export async function resolveValues(db: Db, key: Buffer | undefined, environmentId: number): Promise<{ vars: Record<string, string>; secretNames: string[] }> {
  const rows = await db.select().from(environmentVariables).where(eq(environmentVariables.environmentId, environmentId));
  const vars: Record<string, string> = {};
  const secretNames: string[] = [];
  for (const r of rows) {
    if (r.secret && !key) throw new Error("secrets are stored for this environment but GITWAY_SECRET_KEY is not set");
    vars[r.name] = r.secret ? decryptSecret(key!, r.value, context(environmentId, r.name)) : r.value;
    if (r.secret) secretNames.push(r.name);
  }
  return { vars, secretNames };
}

export async function resolveVariables(db: Db, key: Buffer | undefined, environmentId: number): Promise<Record<string, string>> {
  return (await resolveValues(db, key, environmentId)).vars;
}

/** For display: secrets masked, never whole. */
export async function listVariables(db: Db, environmentId: number): Promise<{ name: string; secret: boolean; value: string }[]> {
  const rows = await db.select().from(environmentVariables).where(eq(environmentVariables.environmentId, environmentId));
  return rows.map((r) => ({ name: r.name, secret: r.secret, value: r.secret ? maskSecret("x".repeat(Math.max(0, Buffer.from(r.value.slice(3), "base64").length - 28))) : r.value }));
}

export async function addConsumer(db: Db, environmentId: number, name: string, keyHashes: string[]): Promise<number> {
  const [row] = await db.insert(apiConsumers).values({ environmentId, name }).returning({ id: apiConsumers.id });
  if (keyHashes.length > 0) await db.insert(apiKeys).values(keyHashes.map((keyHash) => ({ consumerId: row!.id, keyHash })));
  return row!.id;
}

export async function consumersOf(db: Db, environmentId: number): Promise<{ name: string; keyHashes: string[] }[]> {
  const rows = await db.select({ name: apiConsumers.name, keyHash: apiKeys.keyHash }).from(apiConsumers).leftJoin(apiKeys, eq(apiKeys.consumerId, apiConsumers.id)).where(eq(apiConsumers.environmentId, environmentId));
  const byName = new Map<string, string[]>();
  for (const r of rows) {
    const list = byName.get(r.name) ?? [];
    if (r.keyHash) list.push(r.keyHash);
    byName.set(r.name, list);
  }
  return [...byName].map(([name, keyHashes]) => ({ name, keyHashes }));
}

/** Adds one key (by its hash) to an environment's consumer, creating the consumer when it is new. */
export async function addKey(db: Db, environmentId: number, consumer: string, keyHash: string): Promise<void> {
  await db.transaction(async (tx) => {
    const t = tx as unknown as Db;
    await t.insert(apiConsumers).values({ environmentId, name: consumer }).onConflictDoNothing();
    const [row] = await t.select({ id: apiConsumers.id }).from(apiConsumers).where(and(eq(apiConsumers.environmentId, environmentId), eq(apiConsumers.name, consumer)));
    await t.insert(apiKeys).values({ consumerId: row!.id, keyHash });
  });
}

/** Revokes a consumer of an environment, by name, with all its keys (kept as revoked); returns their hashes. */
export async function removeConsumer(db: Db, environmentId: number, consumer: string): Promise<string[]> {
  const [row] = await db.select({ id: apiConsumers.id }).from(apiConsumers).where(and(eq(apiConsumers.environmentId, environmentId), eq(apiConsumers.name, consumer)));
  return row ? revokeConsumer(db, row.id) : [];
}

/**
 * Deletes a consumer and its keys, keeping the keys' hashes as revoked (one transaction): a gateway
 * process that missed the announcement, or cannot rebuild a release with the key inside, still
 * refuses them once it reads `revokedKeyHashes`.
 */
export async function revokeConsumer(db: Db, consumerId: number): Promise<string[]> {
  return db.transaction(async (tx) => {
    const gone = await tx.delete(apiKeys).where(eq(apiKeys.consumerId, consumerId)).returning({ hash: apiKeys.keyHash });
    const [consumer] = await tx.delete(apiConsumers).where(eq(apiConsumers.id, consumerId)).returning({ environmentId: apiConsumers.environmentId });
    if (gone.length > 0) await tx.insert(revokedKeys).values(gone.map((k) => ({ keyHash: k.hash, environmentId: consumer?.environmentId ?? null }))).onConflictDoNothing();
    return gone.map((k) => k.hash);
  });
}

export async function revokedKeyHashes(db: Db): Promise<string[]> {
  return (await db.select({ hash: revokedKeys.keyHash }).from(revokedKeys)).map((r) => r.hash);
}
