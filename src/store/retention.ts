import { sql } from "drizzle-orm";
import { rowsOf, type Db } from "./db.js";
import { usage } from "./schema.js";

export interface Pruned {
  jobs: number;
  deliveries: number;
  checkResults: number;
}

/**
 * Deletes what only matters for a while: finished jobs, webhook delivery ids (kept to spot
 * redeliveries, which GitHub makes within days) and check results, all older than `days`. The
 * newest check result of each environment and check stays, so the dashboard still says what an
 * environment that has not changed for long last reported. The audit log is never pruned.
 */
export async function pruneOlderThan(db: Db, days: number): Promise<Pruned> {
  const cutoff = sql`now() - ${days} * interval '1 day'`;
  const count = (r: unknown) => rowsOf(r).length;
  const jobs = count(await db.execute(sql`DELETE FROM jobs WHERE status IN ('done', 'failed', 'superseded') AND updated_at < ${cutoff} RETURNING id`));
  const deliveries = count(await db.execute(sql`DELETE FROM webhook_deliveries WHERE received_at < ${cutoff} RETURNING delivery_id`));
  const checkResults = count(
    await db.execute(sql`DELETE FROM check_results WHERE created_at < ${cutoff}
      AND id NOT IN (SELECT max(id) FROM check_results GROUP BY repository_id, environment_id, name) RETURNING id`),
  );
  return { jobs, deliveries, checkResults };
}

/**
 * Usage counts have their own window (GITWAY_USAGE_DAYS, longer than the rest): a change report
 * asks who called an operation lately. Returns how many hourly rows went.
 */
export async function pruneUsageOlderThan(db: Db, days: number): Promise<number> {
  const rows = await db.delete(usage).where(sql`${usage.hour} < now() - ${days} * interval '1 day'`).returning({ hour: usage.hour });
  return rows.length;
}

/**
 * Revoked keys of torn-down environments: no release of theirs is served any more, so no process
 * needs the hash to refuse the key. A preview mints and revokes a smoke-test key on every deploy;
 * without this, every gateway process would hold them all in memory for good.
 */
export async function pruneRevokedKeysOfRetiredEnvironments(db: Db): Promise<number> {
  return rowsOf(await db.execute(sql`DELETE FROM revoked_keys r USING environments e WHERE r.environment_id = e.id AND e.status = 'torn-down' RETURNING r.key_hash`)).length;
}
