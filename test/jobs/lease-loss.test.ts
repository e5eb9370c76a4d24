import { sql } from "drizzle-orm";
import { afterEach, expect, it } from "vitest";
import { JobQueue, LeaseLostError, Worker, type Job } from "../../src/jobs/index.js";
import { migrateStore } from "../../src/store/index.js";
import { describeEachDriver } from "../store/drivers.js";

const open: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (open.length) await open.pop()!();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The real queue, with switches that make lease renewal fail as it does when the database is away,
 * or hang as it does when the database stops answering; it counts renewals.
 */
class QueueWithFlakyRenewal extends JobQueue {
  renewalFails = false;
  renewalHangs = false;
  renewals = 0;
  override heartbeat(job: Job, workerId: string, leaseMs: number): Promise<boolean> {
    this.renewals++;
    if (this.renewalHangs) return new Promise(() => {});
    return this.renewalFails ? Promise.reject(new Error("connection terminated unexpectedly")) : super.heartbeat(job, workerId, leaseMs);
  }
}

describeEachDriver("lease loss", (driver) => {
  async function queue(): Promise<QueueWithFlakyRenewal> {
    const store = await driver.open();
    open.push(() => store.close());
    await migrateStore(store);
    return new QueueWithFlakyRenewal(store);
  }

  /** A handler that runs until its signal fires (or 3 s), recording when and why it stopped. */
  function patientHandler() {
    const seen: { aborted: boolean; reason?: unknown } = { aborted: false };
    const handler = (_job: Job, signal: AbortSignal) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 3_000);
        signal.addEventListener("abort", () => {
          clearTimeout(timer);
          Object.assign(seen, { aborted: true, reason: signal.reason });
          resolve();
        });
      });
    return { seen, handler };
  }

  it("fires the job's signal and stops when renewing the lease throws", async () => {
    const q = await queue();
    const { jobId } = (await q.enqueue({ kind: "deploy", environmentKey: "e", payload: {} })) as { jobId: number };
    const { seen, handler } = patientHandler();
    const worker = new Worker(q, { deploy: handler }, { leaseMs: 300 });
    const started = Date.now();
    q.renewalFails = true;
    await worker.runOne();
    expect(seen).toMatchObject({ aborted: true, reason: { code: "LEASE_LOST" } });
    expect(seen.reason).toBeInstanceOf(LeaseLostError);
    expect(seen.reason).toMatchObject({ name: "LeaseLostError", message: `job ${jobId}: lease lost (renewal failed: connection terminated unexpectedly)` });
    expect(Date.now() - started).toBeLessThan(1_500);
    // It neither completed nor failed the job: after the lease runs out another worker takes it.
    expect((await q.get(jobId))?.status).toBe("running");
  });

  it("gives the lease up when a renewal has not answered for a whole lease, without asking again meanwhile", async () => {
    const q = await queue();
    const { jobId } = (await q.enqueue({ kind: "deploy", environmentKey: "e", payload: {} })) as { jobId: number };
    const { seen, handler } = patientHandler();
    q.renewalHangs = true;
    const started = Date.now();
    expect(await new Worker(q, { deploy: handler }, { leaseMs: 600 }).runOne()).toBe(true);
    expect(seen.reason).toMatchObject({ name: "LeaseLostError", message: `job ${jobId}: lease lost (not renewed for 600 ms)` });
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(q.renewals).toBe(1);
  });

  it("says why when another worker took the job, and stops renewing once it let the job go", async () => {
    const q = await queue();
    const { jobId } = (await q.enqueue({ kind: "deploy", environmentKey: "e", payload: {} })) as { jobId: number };
    const { seen, handler } = patientHandler();
    const running = new Worker(q, { deploy: handler }, { leaseMs: 300 }).runOne();
    await sleep(50);
    await q.store.db.execute(sql`UPDATE jobs SET lease_owner = 'other-worker' WHERE id = ${jobId}`);
    expect(await running).toBe(true);
    expect(seen.reason).toMatchObject({ name: "LeaseLostError", message: `job ${jobId}: lease lost (another worker holds it)` });
    const renewals = q.renewals;
    await sleep(500); // five renewal intervals
    expect(q.renewals).toBe(renewals);
  });

  it("renews every third of the lease, not more often", async () => {
    const q = await queue();
    await q.enqueue({ kind: "deploy", environmentKey: "e", payload: {} });
    await new Worker(q, { deploy: async () => void (await sleep(1_100)) }, { leaseMs: 1_500 }).runOne();
    expect(q.renewals).toBeGreaterThanOrEqual(1);
    expect(q.renewals).toBeLessThanOrEqual(2);
  });

  it("stops waiting for a handler that ignores its signal once another worker holds the job", async () => {
    const q = await queue();
    const { jobId } = (await q.enqueue({ kind: "deploy", environmentKey: "e", payload: {} })) as { jobId: number };
    let finished = false;
    const worker = new Worker(q, { deploy: () => sleep(3_000).then(() => void (finished = true)) }, { leaseMs: 300 });
    const running = worker.runOne();
    await sleep(50);
    await q.store.db.execute(sql`UPDATE jobs SET lease_owner = 'other-worker' WHERE id = ${jobId}`);
    const started = Date.now();
    await running;
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(finished).toBe(false);
    expect((await q.get(jobId))?.leaseOwner).toBe("other-worker");
  });

  it("holdsLease is the deploy step's fence: true while held, false once taken over or for an older attempt", async () => {
    const q = await queue();
    await q.enqueue({ kind: "deploy", environmentKey: "e", payload: {} });
    const first = (await q.claim("w1", 150))!;
    expect(await q.holdsLease(first, "w1")).toBe(true);
    expect(await q.holdsLease(first, "w2")).toBe(false);
    await sleep(250);
    expect(await q.holdsLease(first, "w1")).toBe(false);
    const again = (await q.claim("w1", 5_000))!;
    expect(again.attempts).toBe(first.attempts + 1);
    expect(await q.holdsLease(again, "w1")).toBe(true);
    expect(await q.holdsLease(first, "w1")).toBe(false);
  });
});
