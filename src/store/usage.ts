import { and, eq, gte, inArray, sql } from "drizzle-orm";
import type { Db } from "./db.js";
import { usage } from "./schema.js";

/** One hour's calls of one consumer to one route, as the gateway's counter holds them. */
export interface UsageBucket {
  /** Start of the hour, epoch milliseconds. */
  hour: number;
  environment: string;
  operation: string;
  route: string;
  consumer: string;
  status: string;
  count: number;
}

/** Rows per INSERT: well under PostgreSQL's 65,535 bind parameters (7 a row). */
const BATCH = 1_000;

/**
 * Adds the buckets' calls to the stored rows (an upsert that adds), so every process may write its
 * own. One transaction: a write that fails wrote nothing, so the caller may hand every bucket back
 * and write it again without counting a call twice. A statement stuck behind a lock is given up
 * after `timeoutMs` (the counts wait in memory for the next try).
 */
export async function addUsage(db: Db, buckets: readonly UsageBucket[], timeoutMs = 10_000): Promise<void> {
  if (buckets.length === 0) return;
  await db.transaction(async (tx) => {
    await tx.execute(sql.raw(`SET LOCAL statement_timeout = ${Math.max(1, Math.round(timeoutMs))}`));
    for (let i = 0; i < buckets.length; i += BATCH) {
      const rows = buckets.slice(i, i + BATCH).map((b) => ({ environment: b.environment, hour: new Date(b.hour), route: b.route, operation: b.operation, consumer: b.consumer, statusClass: b.status, calls: b.count }));
      await tx
        .insert(usage)
        .values(rows)
        .onConflictDoUpdate({ target: [usage.environment, usage.hour, usage.route, usage.consumer, usage.statusClass], set: { calls: sql`${usage.calls} + excluded.calls`, operation: sql`excluded.operation` } });
    }
  });
}

/** Calls of one consumer to one operation over a window, split by status class. */
export interface UsageTotal {
  operation: string;
  route: string;
  consumer: string;
  calls: number;
  byStatus: Record<string, number>;
}

export interface UsageQuery {
  /** Environment label. */
  environment: string;
  days: number;
  /** Only these routes ("METHOD /template"). */
  routes?: readonly string[];
  /** Only this operation (its operationId, or its route). */
  operation?: string;
  /** Clock for the window's start (tests). */
  now?: number;
}

/** Calls per operation and consumer in the last `days` days, most called first. */
export async function usageTotals(db: Db, q: UsageQuery): Promise<UsageTotal[]> {
  if (q.routes && q.routes.length === 0) return [];
  const since = new Date((q.now ?? Date.now()) - q.days * 86_400_000);
  const where = [eq(usage.environment, q.environment), gte(usage.hour, since)];
  if (q.routes) where.push(inArray(usage.route, [...q.routes]));
  if (q.operation !== undefined) where.push(sql`(${usage.operation} = ${q.operation} OR ${usage.route} = ${q.operation})`);
  const rows = await db
    .select({ route: usage.route, operation: sql<string>`max(${usage.operation})`, consumer: usage.consumer, status: usage.statusClass, calls: sql<string>`sum(${usage.calls})` })
    .from(usage)
    .where(and(...where))
    .groupBy(usage.route, usage.consumer, usage.statusClass);
  const totals = new Map<string, UsageTotal>();
  for (const r of rows) {
    const key = `${r.route}\u0000${r.consumer}`;
    const calls = Number(r.calls);
    const t = totals.get(key) ?? { operation: r.operation, route: r.route, consumer: r.consumer, calls: 0, byStatus: {} };
    t.calls += calls;
    t.byStatus[r.status] = (t.byStatus[r.status] ?? 0) + calls;
    totals.set(key, t);
  }
  return [...totals.values()].sort((a, b) => b.calls - a.calls || a.operation.localeCompare(b.operation) || a.consumer.localeCompare(b.consumer));
}

/** The store as the pipeline's usage port: calls per route and consumer over a window. */
export function usageReader(db: Db, keptDays: number): { keptDays: number; calls(environment: string, routes: readonly string[], days: number): Promise<{ route: string; consumer: string; calls: number }[]> } {
  return {
    keptDays,
    calls: async (environment, routes, days) => (await usageTotals(db, { environment, days, routes })).map((t) => ({ route: t.route, consumer: t.consumer, calls: t.calls })),
  };
}
