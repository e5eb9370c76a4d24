import { sql } from "drizzle-orm";
import { afterEach, expect, it } from "vitest";
import { JobQueue, Worker, type Job } from "../../src/jobs/index.js";
import { migrateStore } from "../../src/store/index.js";
import { describeEachDriver } from "../store/drivers.js";

const open: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (open.length) await open.pop()!();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeEachDriver(
  "a worker",
  (driver) => {
    async function queue(): Promise<JobQueue> {
      const store = await driver.open();
      open.push(() => store.close());
      await migrateStore(store);
      return new JobQueue(store);
    }

    function start(worker: Worker): Worker {
      worker.start();
      open.push(() => worker.stop());
      return worker;
    }

    it("names itself after its process unless given an id", async () => {
      const q = await queue();
      expect(new Worker(q, {}).id).toMatch(new RegExp(`^worker-${process.pid}-[0-9a-f]{8}$`));
      expect(new Worker(q, {}, { id: "w-1" }).id).toBe("w-1");
    });

    it("runs one job and says whether there was one", async () => {
      const q = await queue();
      const ran: unknown[] = [];
      const worker = new Worker(q, { audit: async (job) => void ran.push(job.payload) });
      expect(await worker.runOne()).toBe(false);
      await q.enqueue({ kind: "audit", environmentKey: "e", payload: { n: 1 } });
      expect(await worker.runOne()).toBe(true);
      expect(ran).toEqual([{ n: 1 }]);
      expect(await worker.runOne()).toBe(false);
    });

    it("leaves a job of a kind it has no handler for in the queue, untried, rather than failing it", async () => {
      const q = await queue();
      const { jobId } = (await q.enqueue({ kind: "mystery", environmentKey: "e", payload: {}, maxAttempts: 1 })) as { jobId: number };
      const errors: unknown[] = [];
      const worker = new Worker(q, { audit: async () => {} }, { onError: (_job: Job, e) => void errors.push(e) });
      expect(await worker.runOne()).toBe(false);
      expect(await q.get(jobId)).toMatchObject({ status: "queued", attempts: 0, lastError: null });
      expect(errors).toEqual([]);
      expect(await new Worker(q, { mystery: async () => {} }).runOne()).toBe(true);
      expect(await q.get(jobId)).toMatchObject({ status: "done", attempts: 1 });
    });

    it("shares one queue with a worker of other kinds: each runs only the jobs it has a handler for, and none is failed", async () => {
      const q = await queue();
      const ran: [string, string][] = [];
      const errors: unknown[] = [];
      const handler = (worker: string) => async (job: Job) => void ran.push([worker, job.kind]);
      const ids: number[] = [];
      for (let i = 0; i < 6; i++) {
        const kind = i % 2 === 0 ? "github" : "git";
        ids.push(((await q.enqueue({ kind, environmentKey: `${kind}-${i}`, payload: {}, maxAttempts: 1 })) as { jobId: number }).jobId);
      }
      // The Git-mode worker starts first and polls fast: before the fix it took GitHub jobs too and failed them.
      start(new Worker(q, { git: handler("git-worker") }, { id: "git-worker", idleMs: 5, onError: (_job: Job, e) => void errors.push(e) }));
      await sleep(300);
      start(new Worker(q, { github: handler("github-worker") }, { id: "github-worker", idleMs: 5, onError: (_job: Job, e) => void errors.push(e) }));
      const deadline = Date.now() + 10_000;
      while (ran.length < 6 && Date.now() < deadline) await sleep(20);
      expect(errors).toEqual([]);
      expect(ran.filter(([, kind]) => kind === "git").map(([w]) => w)).toEqual(["git-worker", "git-worker", "git-worker"]);
      expect(ran.filter(([, kind]) => kind === "github").map(([w]) => w)).toEqual(["github-worker", "github-worker", "github-worker"]);
      for (const id of ids) expect(await q.get(id)).toMatchObject({ status: "done", attempts: 1 });
    });

    it("renews its lease while a job runs longer than the lease, so no other worker takes the job", async () => {
      const q = await queue();
      const { jobId } = (await q.enqueue({ kind: "slow", environmentKey: "e", payload: {} })) as { jobId: number };
      let finished = false;
      start(new Worker(q, { slow: async () => void (await sleep(2_500), (finished = true)) }, { leaseMs: 1_000, idleMs: 10 }));
      while ((await q.get(jobId))?.status !== "running") await sleep(10);
      await sleep(1_800); // well past one lease
      expect(finished).toBe(false);
      expect(await q.claim("other", 10_000)).toBeUndefined();
      while (!finished) await sleep(20);
      await sleep(100);
      expect((await q.get(jobId))?.status).toBe("done");
    });

    it("tells a handler through its signal when its lease was taken", async () => {
      const q = await queue();
      const { jobId } = (await q.enqueue({ kind: "slow", environmentKey: "e", payload: {} })) as { jobId: number };
      let reason = "";
      start(
        new Worker(q, {
          slow: (_job, signal) =>
            new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, 5_000);
              signal.addEventListener("abort", () => {
                clearTimeout(timer);
                reason = (signal.reason as { code?: string }).code ?? "";
                resolve();
              });
            }),
        }, { leaseMs: 150, idleMs: 10 }),
      );
      while ((await q.get(jobId))?.status !== "running") await sleep(10);
      await q.store.db.execute(sql`UPDATE jobs SET lease_owner = 'thief' WHERE id = ${jobId}`);
      const deadline = Date.now() + 3_000;
      while (reason === "" && Date.now() < deadline) await sleep(20);
      expect(reason).toBe("LEASE_LOST");
    });

    /** The real queue, counting claims; `down` makes a claim fail as it does when the database is away. */
    class CountingQueue extends JobQueue {
      claims = 0;
      down = false;
      override claim(workerId: string, leaseMs: number, kinds?: readonly string[]): Promise<Job | undefined> {
        this.claims++;
        return this.down ? Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:5432")) : super.claim(workerId, leaseMs, kinds);
      }
    }

    async function countingQueue(): Promise<CountingQueue> {
      const store = await driver.open();
      open.push(() => store.close());
      await migrateStore(store);
      return new CountingQueue(store);
    }

    it("waits its idle time between polls of an empty queue, 200 ms unless told", async () => {
      const q = await countingQueue();
      start(new Worker(q, {}));
      await sleep(1_000);
      expect(q.claims).toBeGreaterThanOrEqual(2);
      expect(q.claims).toBeLessThanOrEqual(6);
      const quick = await countingQueue();
      start(new Worker(quick, {}, { idleMs: 20 }));
      await sleep(1_000);
      expect(quick.claims).toBeGreaterThan(10);
    });

    it("keeps polling, at its idle pace, while the database is away, and runs the job once it is back", async () => {
      const q = await countingQueue();
      const { jobId } = (await q.enqueue({ kind: "audit", environmentKey: "e", payload: {} })) as { jobId: number };
      q.down = true;
      start(new Worker(q, { audit: async () => {} }, { idleMs: 100 }));
      await sleep(600);
      expect(q.claims).toBeGreaterThanOrEqual(2);
      expect(q.claims).toBeLessThanOrEqual(8);
      q.down = false;
      const deadline = Date.now() + 5_000;
      while ((await q.get(jobId))?.status !== "done" && Date.now() < deadline) await sleep(20);
      expect((await q.get(jobId))?.status).toBe("done");
    });

    it("takes the next job at once after one, without its idle wait", async () => {
      const q = await queue();
      const ids: number[] = [];
      for (const env of ["a", "b", "c", "d"]) ids.push(((await q.enqueue({ kind: "audit", environmentKey: env, payload: {} })) as { jobId: number }).jobId);
      const ran: number[] = [];
      const started = Date.now();
      start(new Worker(q, { audit: async (job) => void ran.push(job.id) }, { idleMs: 3_000 }));
      while (ran.length < 4 && Date.now() - started < 5_000) await sleep(10);
      expect(ran).toEqual(ids);
      expect(Date.now() - started).toBeLessThan(2_500);
    });

    it("claims nothing more once stopped", async () => {
      const q = await queue();
      const ran: number[] = [];
      const worker = new Worker(q, { audit: async (job) => void ran.push(job.id) }, { idleMs: 10 });
      worker.start();
      await worker.stop();
      const { jobId } = (await q.enqueue({ kind: "audit", environmentKey: "e", payload: {} })) as { jobId: number };
      await sleep(200);
      expect(ran).toEqual([]);
      expect((await q.get(jobId))?.status).toBe("queued");
    });
  },
);
