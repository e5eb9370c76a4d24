import { randomUUID } from "node:crypto";
import type { Job, JobQueue } from "./queue.js";

export type JobHandler = (job: Job, signal: AbortSignal) => Promise<void>;

/** The reason of a job's AbortSignal when its worker lost the lease. */
export class LeaseLostError extends Error {
  readonly code = "LEASE_LOST";
  constructor(message: string) {
    super(message);
    this.name = "LeaseLostError";
  }
}

export interface WorkerOptions {
  id?: string;
  leaseMs?: number;
  /** Wait between polls when the queue is empty. */
  idleMs?: number;
  onError?: (job: Job, error: unknown) => void;
}

/**
 * Runs jobs until stopped: claim, run the kind's handler while renewing the lease, then complete,
 * or fail with backoff. A handler whose lease is lost is told through its AbortSignal.
 */
export class Worker {
  readonly id: string;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private readonly leaseMs: number;
  private readonly idleMs: number;

  constructor(
    private readonly queue: JobQueue,
    private readonly handlers: Record<string, JobHandler>,
    private readonly options: WorkerOptions = {},
  ) {
    this.id = options.id ?? `worker-${process.pid}-${randomUUID().slice(0, 8)}`;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.idleMs = options.idleMs ?? 200;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  /**
   * Claims and runs one job; false when there was none. The lease is renewed every third of its
   * length; when a renewal says the job is no longer ours, fails, or has not succeeded for a whole
   * lease, the handler's signal fires and the worker stops waiting for it at once: another worker
   * may already run the job, so this one must neither finish nor report it. (A handler that goes on
   * anyway is stopped at the release swap by `JobQueue.holdsLease`.)
   */
  async runOne(): Promise<boolean> {
    const job = await this.queue.claim(this.id, this.leaseMs);
    if (!job) return false;
    const abort = new AbortController();
    let renewedAt = Date.now();
    let renewing = false;
    const lost = new Promise<LeaseLostError>((resolve) => {
      abort.signal.addEventListener("abort", () => resolve(abort.signal.reason as LeaseLostError), { once: true });
    });
    const lose = (why: string) => {
      if (!abort.signal.aborted) abort.abort(new LeaseLostError(`job ${job.id}: lease lost (${why})`));
    };
    const beat = setInterval(() => {
      if (Date.now() - renewedAt >= this.leaseMs) return lose(`not renewed for ${this.leaseMs} ms`);
      if (renewing) return;
      renewing = true;
      this.queue.heartbeat(job, this.id, this.leaseMs).then(
        (mine) => {
          renewing = false;
          if (mine) renewedAt = Date.now();
          else lose("another worker holds it");
        },
        (e: unknown) => {
          renewing = false;
          lose(`renewal failed: ${e instanceof Error ? e.message : String(e)}`);
        },
      );
    }, Math.max(50, this.leaseMs / 3));
    try {
      const handler = this.handlers[job.kind];
      if (!handler) throw new Error(`no handler for job kind ${job.kind}`);
      const run = handler(job, abort.signal);
      const outcome = await Promise.race([run.then(() => undefined), lost]);
      if (outcome instanceof LeaseLostError) {
        run.catch(() => {}); // it may still end later; nobody waits for it
        this.options.onError?.(job, outcome);
        return true;
      }
      clearInterval(beat);
      await this.queue.complete(job, this.id);
    } catch (e) {
      clearInterval(beat);
      this.options.onError?.(job, e);
      if (!abort.signal.aborted) await this.queue.fail(job, this.id, e instanceof Error ? e.message : String(e));
    } finally {
      clearInterval(beat);
    }
    return true;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let worked = false;
      try {
        worked = await this.runOne();
      } catch {
        worked = false; // the database was away; try again after the idle wait
      }
      if (!worked && !this.stopped) await new Promise((r) => setTimeout(r, this.idleMs));
    }
  }
}
