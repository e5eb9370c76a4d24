import { randomUUID } from "node:crypto";
import type { Job, JobQueue } from "./queue.js";

export type JobHandler = (job: Job, signal: AbortSignal) => Promise<void>;

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

  /** Claims and runs one job; false when there was none. */
  async runOne(): Promise<boolean> {
    const job = await this.queue.claim(this.id, this.leaseMs);
    if (!job) return false;
    const abort = new AbortController();
    const beat = setInterval(() => {
      this.queue.heartbeat(job, this.id, this.leaseMs).then(
        (mine) => mine || abort.abort(new Error("lease lost")),
        () => {},
      );
    }, Math.max(50, this.leaseMs / 3));
    try {
      const handler = this.handlers[job.kind];
      if (!handler) throw new Error(`no handler for job kind ${job.kind}`);
      await handler(job, abort.signal);
      clearInterval(beat);
      await this.queue.complete(job, this.id);
    } catch (e) {
      clearInterval(beat);
      this.options.onError?.(job, e);
      await this.queue.fail(job, this.id, e instanceof Error ? e.message : String(e));
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
