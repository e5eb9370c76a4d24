import { sql } from "drizzle-orm";
import { rowsOf, type Db, type Store } from "../store/index.js";

export interface NewJob {
  kind: string;
  environmentKey: string;
  /** Monotonic order of the commit the job is for; a newer one supersedes an older queued one. */
  commitOrder?: number;
  payload: unknown;
  /** X-GitHub-Delivery: a delivery seen before enqueues nothing. */
  deliveryId?: string;
  event?: string;
  /** Default true: queued jobs of the same kind and environment for older commits are superseded. */
  coalesce?: boolean;
  maxAttempts?: number;
  /** The commit the job is for: while a job of the same kind and environment for it waits or runs, nothing more is queued. */
  head?: string;
}

export interface Job {
  id: number;
  kind: string;
  environmentKey: string;
  commitOrder: number;
  payload: unknown;
  attempts: number;
  maxAttempts: number;
}

export type EnqueueResult = { enqueued: true; jobId: number } | { enqueued: false; reason: "redelivery" | "superseded" | "duplicate"; jobId?: number };

export interface QueueOptions {
  /** Backoff after the n-th failure: base * 2^(n-1), capped. */
  backoffBaseMs?: number;
  backoffCapMs?: number;
}

interface JobRow {
  id: string | number;
  kind: string;
  environment_key: string;
  commit_order: string | number;
  payload: unknown;
  attempts: number;
  max_attempts: number;
}

function toJob(r: JobRow): Job {
  return { id: Number(r.id), kind: r.kind, environmentKey: r.environment_key, commitOrder: Number(r.commit_order), payload: r.payload, attempts: r.attempts, maxAttempts: r.max_attempts };
}

function uniqueViolation(e: unknown): boolean {
  for (let x: unknown = e; x; x = (x as { cause?: unknown }).cause) if ((x as { code?: string }).code === "23505") return true;
  return false;
}

/**
 * A durable job queue in Postgres (or PGlite). At-least-once: a claimed job holds a lease; a worker
 * that dies leaves the lease to expire and another worker takes the job over.
 */
export class JobQueue {
  private readonly backoffBaseMs: number;
  private readonly backoffCapMs: number;

  constructor(
    readonly store: Store,
    options: QueueOptions = {},
  ) {
    this.backoffBaseMs = options.backoffBaseMs ?? 1_000;
    this.backoffCapMs = options.backoffCapMs ?? 300_000;
  }

  /** Enqueues, in one transaction with the delivery record when there is one. */
  enqueue(job: NewJob): Promise<EnqueueResult> {
    return this.store.db.transaction(async (tx) => this.enqueueIn(tx as unknown as Db, job));
  }

  async enqueueIn(tx: Db, job: NewJob): Promise<EnqueueResult> {
    if (job.deliveryId !== undefined) {
      const inserted = rowsOf(await tx.execute(sql`INSERT INTO webhook_deliveries (delivery_id, event) VALUES (${job.deliveryId}, ${job.event ?? "unknown"}) ON CONFLICT DO NOTHING RETURNING delivery_id`));
      if (inserted.length === 0) return { enqueued: false, reason: "redelivery" };
    }
    const order = job.commitOrder ?? 0;
    let status: "queued" | "superseded" = "queued";
    if (job.coalesce !== false) {
      // Serialise enqueues of one environment so two bursts cannot both think they are newest.
      await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${"gitway-env:" + job.environmentKey}))`);
      if (job.head !== undefined) {
        // The same head twice (a sweep and a webhook at start-up) would only cancel the first.
        const [same] = rowsOf<{ id: string | number }>(await tx.execute(sql`SELECT id FROM jobs WHERE environment_key = ${job.environmentKey} AND kind = ${job.kind} AND head_sha = ${job.head} AND status IN ('queued', 'running') ORDER BY id DESC LIMIT 1`));
        if (same) return { enqueued: false, reason: "duplicate", jobId: Number(same.id) };
      }
      const newer = rowsOf(await tx.execute(sql`SELECT 1 FROM jobs WHERE environment_key = ${job.environmentKey} AND kind = ${job.kind} AND status IN ('queued', 'running', 'done') AND commit_order > ${order} LIMIT 1`));
      if (newer.length > 0) status = "superseded";
      else await tx.execute(sql`UPDATE jobs SET status = 'superseded', updated_at = now() WHERE environment_key = ${job.environmentKey} AND kind = ${job.kind} AND status = 'queued' AND commit_order <= ${order}`);
    }
    const [row] = rowsOf<{ id: string | number }>(
      await tx.execute(sql`INSERT INTO jobs (kind, environment_key, commit_order, payload, status, max_attempts, delivery_id, head_sha)
        VALUES (${job.kind}, ${job.environmentKey}, ${order}, ${JSON.stringify(job.payload)}::jsonb, ${status}, ${job.maxAttempts ?? 5}, ${job.deliveryId ?? null}, ${job.head ?? null}) RETURNING id`),
    );
    const jobId = Number(row!.id);
    return status === "queued" ? { enqueued: true, jobId } : { enqueued: false, reason: "superseded", jobId };
  }

  /**
   * Takes the next runnable job: queued and due, or running with an expired lease (its worker died).
   * Environments with a live running job are skipped; the partial unique index on running jobs per
   * environment makes that a guarantee even when two workers race. With `kinds`, only jobs of those
   * kinds are taken: a worker that cannot run a kind (a process not connected to GitHub, say) leaves
   * its jobs to one that can, rather than failing them.
   */
  async claim(workerId: string, leaseMs: number, kinds?: readonly string[]): Promise<Job | undefined> {
    if (kinds !== undefined && kinds.length === 0) return undefined;
    const ofKinds = kinds === undefined ? sql`` : sql`AND j.kind IN (${sql.join(kinds.map((k) => sql`${k}`), sql`, `)})`;
    try {
      const rows = rowsOf<JobRow>(
        await this.store.db.execute(sql`
          UPDATE jobs SET status = 'running', lease_owner = ${workerId}, lease_expires_at = now() + ${leaseMs} * interval '1 millisecond',
                 attempts = attempts + 1, updated_at = now()
          WHERE id = (
            SELECT j.id FROM jobs j
            WHERE ((j.status = 'queued' AND j.run_after <= now()) OR (j.status = 'running' AND j.lease_expires_at < now()))
              ${ofKinds}
              AND NOT EXISTS (SELECT 1 FROM jobs r WHERE r.environment_key = j.environment_key AND r.status = 'running' AND r.lease_expires_at >= now() AND r.id <> j.id)
            ORDER BY j.run_after, j.id
            FOR UPDATE SKIP LOCKED
            LIMIT 1)
          RETURNING id, kind, environment_key, commit_order, payload, attempts, max_attempts`),
      );
      return rows[0] ? toJob(rows[0]) : undefined;
    } catch (e) {
      if (uniqueViolation(e)) return undefined; // another worker took this environment a moment ago
      throw e;
    }
  }

  /** Extends the lease; false when the job is no longer this worker's (its lease expired and was taken). */
  async heartbeat(job: Job, workerId: string, leaseMs: number): Promise<boolean> {
    const rows = rowsOf(await this.store.db.execute(sql`UPDATE jobs SET lease_expires_at = now() + ${leaseMs} * interval '1 millisecond', updated_at = now() WHERE id = ${job.id} AND status = 'running' AND lease_owner = ${workerId} AND attempts = ${job.attempts} RETURNING id`));
    return rows.length === 1;
  }

  /**
   * The fencing check before an effect that must happen once (a release swap): true only while this
   * worker's lease on this very attempt is live. The attempt count is the fencing token: a worker
   * that lost the lease and later claimed the job again cannot act on behalf of its old attempt.
   */
  async holdsLease(job: Job, workerId: string): Promise<boolean> {
    const rows = rowsOf(await this.store.db.execute(sql`SELECT id FROM jobs WHERE id = ${job.id} AND status = 'running' AND lease_owner = ${workerId} AND attempts = ${job.attempts} AND lease_expires_at > now()`));
    return rows.length === 1;
  }

  /** A newer job of the same kind and environment waits: this one's result would be overwritten at once. */
  async superseded(job: Job): Promise<boolean> {
    const rows = rowsOf(await this.store.db.execute(sql`SELECT 1 FROM jobs WHERE environment_key = ${job.environmentKey} AND kind = ${job.kind} AND status = 'queued' AND commit_order > ${job.commitOrder} LIMIT 1`));
    return rows.length > 0;
  }

  /** Jobs queued and due soon, or running: zero when the worker has nothing left to do. */
  async pendingCount(): Promise<number> {
    const [row] = rowsOf<{ n: number }>(await this.store.db.execute(sql`SELECT count(*)::int AS n FROM jobs WHERE status = 'running' OR (status = 'queued' AND run_after <= now() + interval '1 second')`));
    return Number(row?.n ?? 0);
  }

  async complete(job: Job, workerId: string): Promise<boolean> {
    const rows = rowsOf(await this.store.db.execute(sql`UPDATE jobs SET status = 'done', lease_owner = NULL, lease_expires_at = NULL, last_error = NULL, updated_at = now() WHERE id = ${job.id} AND status = 'running' AND lease_owner = ${workerId} AND attempts = ${job.attempts} RETURNING id`));
    return rows.length === 1;
  }

  /** Schedules a retry with exponential backoff, or ends the job as failed with its error kept. */
  async fail(job: Job, workerId: string, error: string): Promise<"retry" | "failed" | "lost"> {
    const final = job.attempts >= job.maxAttempts;
    const delay = Math.min(this.backoffCapMs, this.backoffBaseMs * 2 ** Math.max(0, job.attempts - 1));
    const rows = rowsOf(
      await this.store.db.execute(sql`UPDATE jobs SET status = ${final ? "failed" : "queued"}, last_error = ${error.slice(0, 4000)},
        run_after = now() + ${final ? 0 : delay} * interval '1 millisecond', lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
        WHERE id = ${job.id} AND status = 'running' AND lease_owner = ${workerId} AND attempts = ${job.attempts} RETURNING id`),
    );
    return rows.length === 0 ? "lost" : final ? "failed" : "retry";
  }

  /**
   * Hands a claimed job back untried (its process is stopping): queued and due at once, the attempt
   * not counted. The attempt number stays as it is, since it is the fencing token of the old lease.
   */
  async release(job: Job, workerId: string): Promise<boolean> {
    const rows = rowsOf(
      await this.store.db.execute(sql`UPDATE jobs SET status = 'queued', max_attempts = max_attempts + 1, run_after = now(), lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
        WHERE id = ${job.id} AND status = 'running' AND lease_owner = ${workerId} AND attempts = ${job.attempts} RETURNING id`),
    );
    return rows.length === 1;
  }

  /** Reschedules a job for `at` (a rate limit's reset) without using one of its attempts. */
  async defer(job: Job, workerId: string, at: Date, reason: string): Promise<boolean> {
    const rows = rowsOf(
      await this.store.db.execute(sql`UPDATE jobs SET status = 'queued', max_attempts = max_attempts + 1, run_after = ${at.toISOString()}::timestamptz, last_error = ${reason.slice(0, 4000)},
        lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
        WHERE id = ${job.id} AND status = 'running' AND lease_owner = ${workerId} AND attempts = ${job.attempts} RETURNING id`),
    );
    return rows.length === 1;
  }

  async get(id: number): Promise<{ status: string; attempts: number; lastError: string | null; leaseOwner: string | null } | undefined> {
    const [r] = rowsOf<{ status: string; attempts: number; last_error: string | null; lease_owner: string | null }>(await this.store.db.execute(sql`SELECT status, attempts, last_error, lease_owner FROM jobs WHERE id = ${id}`));
    return r ? { status: r.status, attempts: r.attempts, lastError: r.last_error, leaseOwner: r.lease_owner } : undefined;
  }
}
