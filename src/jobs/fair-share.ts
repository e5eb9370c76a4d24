import { sql } from "drizzle-orm";
import { rowsOf } from "../store/index.js";
import type { Job, JobQueue } from "./queue.js";
import type { JobHandler } from "./worker.js";

/** Thrown to give a slot back: the worker queues the job again for `retryAt` without using an attempt. */
export class SlotYieldedError extends Error {
  readonly code = "SLOT_YIELDED";
  constructor(
    message: string,
    readonly retryAt: Date,
  ) {
    super(message);
    this.name = "SlotYieldedError";
  }
}

/**
 * Keeps one tenant (a GitHub installation, whose writes are paced: a burst, then one a second) from holding
 * every slot of a worker while other tenants' jobs wait: a job of a tenant that already runs `share`
 * jobs in this process yields its slot for a second, but only when a job of another tenant (or one
 * with none, such as the Git mode's) is due. Alone, a tenant may use every slot.
 */
export function fairShare(queue: JobQueue, share: number, tenantOf: (job: Job) => string | undefined, handler: JobHandler): JobHandler {
  const running = new Map<string, number>();
  return async (job, signal) => {
    const tenant = tenantOf(job);
    if (tenant === undefined) return handler(job, signal);
    if ((running.get(tenant) ?? 0) >= share && (await othersDue(queue, tenant))) {
      throw new SlotYieldedError(`installation ${tenant} already runs ${share} jobs here and others wait`, new Date(Date.now() + 1_000));
    }
    running.set(tenant, (running.get(tenant) ?? 0) + 1);
    try {
      return await handler(job, signal);
    } finally {
      const n = (running.get(tenant) ?? 1) - 1;
      if (n > 0) running.set(tenant, n);
      else running.delete(tenant);
    }
  };
}

async function othersDue(queue: JobQueue, tenant: string): Promise<boolean> {
  const rows = rowsOf(await queue.store.db.execute(sql`SELECT 1 FROM jobs WHERE status = 'queued' AND run_after <= now() AND (payload->>'installationId') IS DISTINCT FROM ${tenant} LIMIT 1`));
  return rows.length > 0;
}
