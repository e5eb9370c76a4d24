import { sql } from "drizzle-orm";
import { afterEach, expect, it } from "vitest";
import { JobQueue, Worker, type Job } from "../../src/jobs/index.js";
import { migrateStore, rowsOf } from "../../src/store/index.js";
import { describeEachDriver } from "../store/drivers.js";

const open: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (open.length) await open.pop()!();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await sleep(10);
  }
}

/** A handler that holds each job until the test lets it go, recording which ran at the same time. */
function gatedHandler() {
  const running = new Map<number, () => void>();
  const together: number[] = [];
  const ran: Job[] = [];
  const handler = (job: Job) =>
    new Promise<void>((resolve) => {
      ran.push(job);
      running.set(job.id, () => {
        running.delete(job.id);
        resolve();
      });
      together.push(running.size);
    });
  return { running, together, ran, handler, releaseAll: () => [...running.values()].forEach((r) => r()) };
}

describeEachDriver(
  "a worker with several slots",
  (driver) => {
    async function queue(): Promise<JobQueue> {
      const store = await driver.open();
      open.push(() => store.close());
      await migrateStore(store);
      return new JobQueue(store, { backoffBaseMs: 50 });
    }
    function start(worker: Worker): Worker {
      worker.start();
      open.push(() => worker.stop(100));
      return worker;
    }

    it("runs up to its concurrency of jobs at once, and never two of one environment", async () => {
      const q = await queue();
      for (const env of ["a", "a", "b", "c", "d", "e"]) await q.enqueue({ kind: "slow", environmentKey: env, payload: { env }, coalesce: false });
      const gate = gatedHandler();
      start(new Worker(q, { slow: gate.handler }, { concurrency: 3, idleMs: 10 }));
      await until("three jobs running", () => gate.running.size === 3);
      await sleep(200);
      expect(gate.running.size).toBe(3);
      const envs = () => [...gate.running.keys()].map((id) => gate.ran.find((j) => j.id === id)!.environmentKey);
      expect(new Set(envs()).size).toBe(3);
      const done = async () => Number(rowsOf<{ n: number }>(await q.store.db.execute(sql`SELECT count(*)::int AS n FROM jobs WHERE status = 'done'`))[0]!.n);
      const end = Date.now() + 10_000;
      while ((await done()) < 6 && Date.now() < end) {
        expect(new Set(envs()).size).toBe(gate.running.size);
        gate.releaseAll();
        await sleep(30);
      }
      expect(await done()).toBe(6);
      expect(Math.max(...gate.together)).toBe(3);
    });

    it("at a job's deadline fires its signal with the reason, lets it wrap up, and fails it for a retry", async () => {
      const q = await queue();
      const { jobId } = (await q.enqueue({ kind: "stuck", environmentKey: "e", payload: {}, maxAttempts: 2 })) as { jobId: number };
      const reasons: string[] = [];
      const wrappedUp: number[] = [];
      const started = Date.now();
      const worker = new Worker(
        q,
        {
          stuck: (job, signal) =>
            new Promise<void>((_resolve, reject) => {
              signal.addEventListener("abort", () => {
                reasons.push((signal.reason as Error).message);
                // The handler's own clean-up (completing its checks) takes a moment.
                setTimeout(() => {
                  wrappedUp.push(job.attempts);
                  reject(signal.reason as Error);
                }, 50);
              });
            }),
        },
        { jobTimeoutMs: 300, idleMs: 10 },
      );
      expect(await worker.runOne()).toBe(true);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(reasons).toEqual(["the job did not finish within its deadline of 0.3 s"]);
      expect(wrappedUp).toEqual([1]);
      expect(await q.get(jobId)).toMatchObject({ status: "queued", attempts: 1, lastError: "the job did not finish within its deadline of 0.3 s" });
      await sleep(120);
      expect(await worker.runOne()).toBe(true);
      expect(await q.get(jobId)).toMatchObject({ status: "failed", attempts: 2 });
    });

    it("fails a job whose handler ignores its deadline after the wrap-up time, without waiting for it", async () => {
      const q = await queue();
      const { jobId } = (await q.enqueue({ kind: "deaf", environmentKey: "e", payload: {} })) as { jobId: number };
      const started = Date.now();
      const worker = new Worker(q, { deaf: () => new Promise<void>(() => {}) }, { jobTimeoutMs: 200, wrapUpMs: 200 });
      expect(await worker.runOne()).toBe(true);
      expect(Date.now() - started).toBeLessThan(1_500);
      expect((await q.get(jobId))?.status).toBe("queued");
    });

    it("queues a job whose error carries retryAt again for that time, without using an attempt", async () => {
      const q = await queue();
      const { jobId } = (await q.enqueue({ kind: "limited", environmentKey: "e", payload: {}, maxAttempts: 1 })) as { jobId: number };
      const retryAt = new Date(Date.now() + 60_000);
      const worker = new Worker(q, { limited: () => Promise.reject(Object.assign(new Error("rate limited"), { retryAt })) });
      expect(await worker.runOne()).toBe(true);
      expect(await q.get(jobId)).toMatchObject({ status: "queued", attempts: 1, lastError: "rate limited" });
      const [row] = rowsOf<{ run_after: string | Date; max_attempts: number }>(await q.store.db.execute(sql`SELECT run_after, max_attempts FROM jobs WHERE id = ${jobId}`));
      expect(Math.abs(new Date(row!.run_after).getTime() - retryAt.getTime())).toBeLessThan(1_000);
      expect(row!.max_attempts).toBe(2);
      expect(await worker.runOne()).toBe(false); // not due before the reset
    });

    it("when stopped, lets a running job finish within the grace time", async () => {
      const q = await queue();
      const { jobId } = (await q.enqueue({ kind: "slow", environmentKey: "e", payload: {} })) as { jobId: number };
      const worker = new Worker(q, { slow: () => sleep(300).then(() => undefined) }, { concurrency: 2, idleMs: 10 });
      worker.start();
      await until("the job running", async () => (await q.get(jobId))?.status === "running");
      const started = Date.now();
      await worker.stop(5_000);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect((await q.get(jobId))?.status).toBe("done");
    });

    it("when stopped, hands back the lease of a job still running after the grace time, so another worker takes it at once", async () => {
      const q = await queue();
      const { jobId } = (await q.enqueue({ kind: "slow", environmentKey: "e", payload: {} })) as { jobId: number };
      let aborted = "";
      const worker = new Worker(
        q,
        {
          slow: (_job, signal) =>
            new Promise<void>(() => {
              signal.addEventListener("abort", () => (aborted = (signal.reason as { code: string }).code));
            }),
        },
        { idleMs: 10, leaseMs: 60_000 },
      );
      worker.start();
      await until("the job running", async () => (await q.get(jobId))?.status === "running");
      const started = Date.now();
      await worker.stop(300);
      expect(Date.now() - started).toBeLessThan(2_500);
      expect(aborted).toBe("WORKER_STOPPING");
      expect(await q.get(jobId)).toMatchObject({ status: "queued", leaseOwner: null });
      const next = await q.claim("another", 10_000);
      expect(next).toMatchObject({ id: jobId, attempts: 2, maxAttempts: 6 });
    });
  },
);
