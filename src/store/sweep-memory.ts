import { and, eq, sql } from "drizzle-orm";
import { rowsOf, type Db } from "./db.js";
import { sweepDecisions } from "./schema.js";

export interface RememberedRow {
  decision: string;
  retries: number;
  retryAfter: Date | null;
  /** When this decision was recorded. */
  since: Date;
}

/** The sweep's memory per environment and head (table sweep_decisions), and what the queue holds for a head. */
export class SweepMemory {
  constructor(private readonly db: Db) {}

  async recall(environmentKey: string, headSha: string): Promise<RememberedRow | undefined> {
    const [row] = await this.db
      .select({ decision: sweepDecisions.decision, retries: sweepDecisions.retries, retryAfter: sweepDecisions.retryAfter, since: sweepDecisions.updatedAt })
      .from(sweepDecisions)
      .where(and(eq(sweepDecisions.environmentKey, environmentKey), eq(sweepDecisions.headSha, headSha)));
    return row;
  }

  /** Keeps the retry count unless given: a head queued again after a failure stays counted. */
  async remember(environmentKey: string, headSha: string, decision: string, retry?: { retries: number; retryAfter: Date }): Promise<void> {
    const retries = retry?.retries ?? 0;
    const after = retry?.retryAfter ?? null;
    await this.db
      .insert(sweepDecisions)
      .values({ environmentKey, headSha, decision, retries, retryAfter: after })
      .onConflictDoUpdate({
        target: [sweepDecisions.environmentKey, sweepDecisions.headSha],
        set: retry ? { decision, retries, retryAfter: after, updatedAt: sql`now()` } : { decision, updatedAt: sql`now()` },
      });
  }

  /** The status of the newest job recorded for this environment and head. */
  async jobStatus(environmentKey: string, headSha: string): Promise<string | undefined> {
    const [row] = rowsOf<{ status: string }>(await this.db.execute(sql`SELECT status FROM jobs WHERE environment_key = ${environmentKey} AND head_sha = ${headSha} ORDER BY id DESC LIMIT 1`));
    return row?.status;
  }
}
