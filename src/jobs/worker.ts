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

/** The reason of a job's AbortSignal when its deadline passed. */
export class JobTimeoutError extends Error {
  readonly code = "JOB_TIMEOUT";
  constructor(message: string) {
    super(message);
    this.name = "JobTimeoutError";
  }
}

/** The reason of a job's AbortSignal when its process stops before the job could finish. */
export class WorkerStoppingError extends Error {
  readonly code = "WORKER_STOPPING";
  constructor(message: string) {
    super(message);
    this.name = "WorkerStoppingError";
  }
}

/** An error carrying `retryAt` (a rate limit's reset) reschedules the job for then without using an attempt. */
function retryAtOf(e: unknown): Date | undefined {
  const at = (e as { retryAt?: unknown } | null)?.retryAt;
  return at instanceof Date && !Number.isNaN(at.getTime()) ? at : undefined;
}

export interface WorkerOptions {
  id?: string;
  leaseMs?: number;
  /** Wait between polls when the queue is empty. */
  idleMs?: number;
  /** Jobs run at once (the queue never hands out two of one environment). Default 1. */
  concurrency?: number;
  /** A job's deadline; unset: none. */
  jobTimeoutMs?: number;
  /** After the deadline, how long the handler may take to wrap up (complete its checks) before the job is failed anyway. */
  wrapUpMs?: number;
  onError?: (job: Job, error: unknown) => void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/**
 * Runs jobs until stopped: claim, run the kind's handler while renewing the lease, then complete,
 * or fail with backoff. A handler whose lease is lost, whose deadline passed or whose process
 * stops is told through its AbortSignal.
 */
export class Worker {
  readonly id: string;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wake!: () => void;
  private readonly stopping = new Promise<void>((r) => (this.wake = r));
  private readonly leaseMs: number;
  private readonly idleMs: number;
  private readonly concurrency: number;
  private readonly active = new Set<Promise<void>>();
  private readonly controllers = new Set<AbortController>();

  constructor(
    private readonly queue: JobQueue,
    private readonly handlers: Record<string, JobHandler>,
    private readonly options: WorkerOptions = {},
  ) {
    this.id = options.id ?? `worker-${process.pid}-${randomUUID().slice(0, 8)}`;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.idleMs = options.idleMs ?? 200;
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? 1));
  }

  /** The kinds it can run now (handlers may be added and removed while it runs: GitHub connected later). */
  private kinds(): string[] {
    return Object.keys(this.handlers);
  }

  /** Jobs this worker is running now. */
  get running(): number {
    return this.active.size;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /**
   * Stops taking jobs, waits up to `graceMs` for the running ones to finish, then aborts those left
   * and hands their leases back, so another process takes them over at once rather than after the lease.
   */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.loop;
    if (this.active.size === 0) return;
    const all = Promise.all([...this.active]);
    const finished = await Promise.race([all.then(() => true), sleep(graceMs).then(() => false)]);
    if (finished) return;
    for (const c of this.controllers) if (!c.signal.aborted) c.abort(new WorkerStoppingError("the process is stopping"));
    await Promise.race([all, sleep(2_000)]);
  }

  /** Claims and runs one job; false when there was none. */
  async runOne(): Promise<boolean> {
    const job = await this.queue.claim(this.id, this.leaseMs, this.kinds());
    if (!job) return false;
    await this.execute(job);
    return true;
  }

  /**
   * Runs a claimed job. The lease is renewed every third of its length; when a renewal says the job
   * is no longer ours, fails, or has not succeeded for a whole lease, the handler's signal fires and
   * the worker stops waiting for it at once: another worker may already run the job, so this one
   * must neither finish nor report it (a handler that goes on anyway is stopped at the release swap
   * by `JobQueue.holdsLease`). At the deadline the signal fires too, and the handler gets a short
   * while to complete its checks with the reason before the job is failed (and retried).
   */
  private async execute(job: Job): Promise<void> {
    const abort = new AbortController();
    this.controllers.add(abort);
    let renewedAt = Date.now();
    let renewing = false;
    const aborted = new Promise<Error>((resolve) => {
      abort.signal.addEventListener("abort", () => resolve(abort.signal.reason as Error), { once: true });
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
    const timeoutMs = this.options.jobTimeoutMs;
    const deadline =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            if (!abort.signal.aborted) abort.abort(new JobTimeoutError(`the job did not finish within its deadline of ${timeoutMs / 1000} s`));
          }, timeoutMs);
    try {
      const handler = this.handlers[job.kind];
      if (!handler) throw new Error(`no handler for job kind ${job.kind}`);
      const run = handler(job, abort.signal);
      run.catch(() => {}); // it may end after the worker stopped waiting; nobody else waits for it
      const outcome = await Promise.race([run.then(() => undefined), aborted]);
      if (outcome instanceof LeaseLostError) {
        this.options.onError?.(job, outcome);
        return;
      }
      if (outcome instanceof WorkerStoppingError) {
        await this.queue.release(job, this.id);
        return;
      }
      if (outcome instanceof JobTimeoutError) {
        // Give the handler a moment to complete its open checks with the reason; then fail it regardless.
        const settled = await Promise.race([run.then(() => "done" as const, () => "failed" as const), sleep(this.options.wrapUpMs ?? 10_000).then(() => "stuck" as const)]);
        if (abort.signal.reason instanceof WorkerStoppingError) return;
        if (settled === "done") {
          await this.queue.complete(job, this.id);
          return;
        }
        this.options.onError?.(job, outcome);
        await this.queue.fail(job, this.id, outcome.message);
        return;
      }
      clearInterval(beat);
      await this.queue.complete(job, this.id);
    } catch (e) {
      clearInterval(beat);
      const reason = abort.signal.reason as unknown;
      if (reason instanceof LeaseLostError) return;
      if (reason instanceof WorkerStoppingError) {
        await this.queue.release(job, this.id).catch(() => {});
        return;
      }
      const retryAt = retryAtOf(e);
      if (retryAt) {
        await this.queue.defer(job, this.id, retryAt, e instanceof Error ? e.message : String(e)).catch(() => {});
        return;
      }
      this.options.onError?.(job, e);
      await this.queue.fail(job, this.id, e instanceof Error ? e.message : String(e)).catch(() => {});
    } finally {
      clearInterval(beat);
      if (deadline) clearTimeout(deadline);
      this.controllers.delete(abort);
    }
  }

  /** Resolves after `ms` (never, without), or at once when the worker is stopped. */
  private nap(ms?: number): Promise<void> {
    if (ms === undefined) return this.stopping;
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([new Promise<void>((r) => (timer = setTimeout(r, ms))), this.stopping]).finally(() => clearTimeout(timer));
  }

  /** Claims while a slot is free; naps when the queue is empty or every slot is busy. */
  private async run(): Promise<void> {
    while (!this.stopped) {
      if (this.active.size >= this.concurrency) {
        await Promise.race([...this.active, this.nap()]);
        continue;
      }
      let job: Job | undefined;
      try {
        job = await this.queue.claim(this.id, this.leaseMs, this.kinds());
      } catch {
        job = undefined; // the database was away; try again after the idle wait
      }
      if (job && this.stopped) {
        await this.queue.release(job, this.id).catch(() => {});
        break;
      }
      if (!job) {
        await this.nap(this.idleMs);
        continue;
      }
      const running: Promise<void> = this.execute(job).finally(() => this.active.delete(running));
      this.active.add(running);
    }
  }
}
