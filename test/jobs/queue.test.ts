import { spawn } from "node:child_process";
import pg from "pg";
import { fileURLToPath } from "node:url";
import { afterEach, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { JobQueue, Worker, type EnqueueResult, type Job } from "../../src/jobs/index.js";
import { markDeployed, migrateStore, rowsOf, saveRelease, upsertEnvironment, upsertRepository, type Store } from "../../src/store/index.js";
import { describeEachDriver, postgres } from "../store/drivers.js";

const open: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (open.length) await open.pop()!();
});

async function jobId(result: Promise<EnqueueResult>): Promise<number> {
  const r = await result;
  if (!r.enqueued) throw new Error(`not enqueued: ${r.reason}`);
  return r.jobId;
}

async function unfinished(q: JobQueue): Promise<number> {
  const [row] = rowsOf<{ n: string | number }>(await q.store.db.execute(sql`SELECT count(*) AS n FROM jobs WHERE status IN ('queued', 'running')`));
  return Number(row!.n);
}

function isUniqueViolation(e: unknown): boolean {
  for (let x: unknown = e; x; x = (x as { cause?: unknown }).cause) if ((x as { code?: string }).code === "23505") return true;
  return false;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(25);
  }
}

describeEachDriver("the job queue", (driver) => {
  async function queue(options?: ConstructorParameters<typeof JobQueue>[1]): Promise<JobQueue> {
    const store = await driver.open();
    open.push(() => store.close());
    await migrateStore(store);
    return new JobQueue(store, options);
  }

  it("enqueues nothing for a redelivered webhook", async () => {
    const q = await queue();
    const delivery = { kind: "deploy", environmentKey: "acme/shop:pr-1", commitOrder: 1, payload: {}, deliveryId: "72d3162e-cc78-11e3-81ab-4c9367dc0958", event: "push" };
    expect(await q.enqueue(delivery)).toMatchObject({ enqueued: true });
    expect(await q.enqueue(delivery)).toEqual({ enqueued: false, reason: "redelivery" });
    expect(await q.claim("w", 10_000)).toBeDefined();
    expect(await q.claim("w", 10_000)).toBeUndefined();
  });

  it("records a delivery in the transaction that enqueues its job: a failed enqueue leaves no record, so the redelivery is taken", async () => {
    const q = await queue();
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const delivery = { kind: "deploy", environmentKey: "acme/shop:pr-2", commitOrder: 1, deliveryId: "d-1", event: "push" };
    await expect(q.enqueue({ ...delivery, payload: circular })).rejects.toThrow();
    expect(await q.enqueue({ ...delivery, payload: { ok: true } })).toMatchObject({ enqueued: true });
    expect((await q.claim("w", 10_000))?.payload).toEqual({ ok: true });
  });

  it("enqueues inside a caller's transaction, and a rollback takes back both the delivery record and the job", async () => {
    const q = await queue();
    const delivery = { kind: "deploy", environmentKey: "acme/shop:pr-3", commitOrder: 1, payload: {}, deliveryId: "d-2", event: "push" };
    await expect(
      q.store.db.transaction(async (tx) => {
        expect(await q.enqueueIn(tx as unknown as Store["db"], delivery)).toMatchObject({ enqueued: true });
        throw new Error("the rest of the webhook handling failed");
      }),
    ).rejects.toThrow("the rest of the webhook handling failed");
    expect(await unfinished(q)).toBe(0);
    expect(await q.enqueue(delivery)).toMatchObject({ enqueued: true });
  });

  it("coalesces a burst of ten pushes into the newest one", async () => {
    const q = await queue();
    for (let i = 1; i <= 10; i++) await q.enqueue({ kind: "deploy", environmentKey: "acme/shop:production", commitOrder: i, payload: { sha: `c${i}` } });
    const job = await q.claim("w", 10_000);
    expect(job?.payload).toEqual({ sha: "c10" });
    expect(await q.claim("w", 10_000)).toBeUndefined();
  });

  it("supersedes at birth a job for an older commit that arrives late", async () => {
    const q = await queue();
    await q.enqueue({ kind: "deploy", environmentKey: "e", commitOrder: 5, payload: {} });
    const late = await q.enqueue({ kind: "deploy", environmentKey: "e", commitOrder: 3, payload: {} });
    expect(late).toMatchObject({ enqueued: false, reason: "superseded" });
    expect((await q.get((late as { jobId: number }).jobId))?.status).toBe("superseded");
  });

  it("records a delivery whose event it was not told as unknown", async () => {
    const q = await queue();
    await jobId(q.enqueue({ kind: "deploy", environmentKey: "e", payload: {}, deliveryId: "d-1" }));
    await jobId(q.enqueue({ kind: "deploy", environmentKey: "f", payload: {}, deliveryId: "d-2", event: "push" }));
    const rows = rowsOf<{ delivery_id: string; event: string }>(await q.store.db.execute(sql`SELECT delivery_id, event FROM webhook_deliveries ORDER BY delivery_id`));
    expect(rows.map((r) => [r.delivery_id, r.event])).toEqual([["d-1", "unknown"], ["d-2", "push"]]);
  });

  it("lets a claim fail loudly when the database fails, rather than reading as an empty queue", async () => {
    const q = await queue();
    await jobId(q.enqueue({ kind: "deploy", environmentKey: "e", payload: {} }));
    await q.store.db.execute(sql`ALTER TABLE jobs RENAME TO jobs_gone`);
    await expect(q.claim("w", 10_000)).rejects.toThrow(/jobs/);
  });

  it("deploys a burst in order, only the newest after the one running, and an old job finishing late cannot overwrite it", async () => {
    const q = await queue();
    const db = q.store.db;
    const repo = await upsertRepository(db, { owner: "acme", name: "shop" });
    const env = await upsertEnvironment(db, { repositoryId: repo, name: "production", kind: "production", hostName: "acme-shop-production" });
    const deployed: number[] = [];
    let release: (() => void) | undefined;
    const worker = new Worker(q, {
      deploy: async (job: Job) => {
        const order = job.commitOrder;
        if (order === 1) await new Promise<void>((r) => (release = r));
        const rel = await saveRelease(db, { repositoryId: repo, contentHash: `h${order}`, commitSha: `c${order}`, bundle: {} });
        if (await markDeployed(db, env, rel, order)) deployed.push(order);
      },
    }, { idleMs: 10, leaseMs: 5_000 });
    await q.enqueue({ kind: "deploy", environmentKey: "acme/shop:production", commitOrder: 1, payload: {} });
    worker.start();
    open.push(() => worker.stop());
    await until(async () => release !== undefined);
    for (let i = 2; i <= 10; i++) await q.enqueue({ kind: "deploy", environmentKey: "acme/shop:production", commitOrder: i, payload: {} });
    release!();
    await until(async () => deployed.includes(10));
    expect(deployed).toEqual([1, 10]);
    const late = await saveRelease(db, { repositoryId: repo, contentHash: "h4", commitSha: "c4", bundle: {} });
    expect(await markDeployed(db, env, late, 4)).toBe(false);
  });

  it("claims no job of an environment while another of its jobs runs, and takes another environment's job instead", async () => {
    const q = await queue();
    const a1 = await jobId(q.enqueue({ kind: "audit", environmentKey: "env-a", payload: {}, coalesce: false }));
    const a2 = await jobId(q.enqueue({ kind: "audit", environmentKey: "env-a", payload: {}, coalesce: false }));
    const b1 = await jobId(q.enqueue({ kind: "audit", environmentKey: "env-b", payload: {}, coalesce: false }));
    const first = await q.claim("w1", 10_000);
    expect(first?.id).toBe(a1);
    expect((await q.claim("w2", 10_000))?.id).toBe(b1);
    expect(await q.claim("w3", 10_000)).toBeUndefined();
    expect(await q.complete(first!, "w1")).toBe(true);
    expect((await q.claim("w3", 10_000))?.id).toBe(a2);
  });

  it("has the database refuse a second running job of one environment, whatever a claim's query missed", async () => {
    const q = await queue();
    const a1 = await jobId(q.enqueue({ kind: "audit", environmentKey: "env-a", payload: {}, coalesce: false }));
    const a2 = await jobId(q.enqueue({ kind: "audit", environmentKey: "env-a", payload: {}, coalesce: false }));
    expect((await q.claim("w1", 10_000))?.id).toBe(a1);
    // Two workers racing both pass the NOT EXISTS check; the partial unique index is what stops the second.
    await expect(q.store.db.execute(sql`UPDATE jobs SET status = 'running', lease_owner = 'w2' WHERE id = ${a2}`)).rejects.toSatisfy(isUniqueViolation);
    expect((await q.get(a2))?.status).toBe("queued");
  });

  it("does not start a job of an environment whose earlier job still counts as running after its lease ran out", async () => {
    const q = await queue();
    const a1 = await jobId(q.enqueue({ kind: "audit", environmentKey: "env-a", payload: {}, coalesce: false }));
    const a2 = await jobId(q.enqueue({ kind: "audit", environmentKey: "env-a", payload: {}, coalesce: false }));
    expect((await q.claim("slow-worker", 1))?.id).toBe(a1);
    await sleep(20);
    // a2 is due before a1 is taken over: the claim's own check lets it through, the index does not.
    await q.store.db.execute(sql`UPDATE jobs SET run_after = now() - interval '1 hour' WHERE id = ${a2}`);
    expect(await q.claim("w2", 10_000)).toBeUndefined();
    expect([(await q.get(a1))?.status, (await q.get(a2))?.status]).toEqual(["running", "queued"]);
  });

  it("runs different environments in parallel on two workers, never two jobs of one environment at once", async () => {
    const q = await queue();
    const running = new Map<string, number>();
    let overlapSameEnv = 0;
    let parallel = 0;
    let finished = 0;
    const handler = async (job: Job) => {
      const n = (running.get(job.environmentKey) ?? 0) + 1;
      running.set(job.environmentKey, n);
      if (n > 1) overlapSameEnv++;
      if ([...running.values()].filter((v) => v > 0).length > 1) parallel++;
      await sleep(40);
      running.set(job.environmentKey, running.get(job.environmentKey)! - 1);
      finished++;
    };
    for (let i = 0; i < 6; i++) {
      await q.enqueue({ kind: "audit", environmentKey: "env-a", payload: { i }, coalesce: false });
      await q.enqueue({ kind: "audit", environmentKey: "env-b", payload: { i }, coalesce: false });
    }
    const workers = [new Worker(q, { audit: handler }, { idleMs: 5 }), new Worker(q, { audit: handler }, { idleMs: 5 })];
    workers.forEach((w) => w.start());
    // Waits by reading the table, never by claiming (a claim here would take jobs from the workers).
    await until(async () => (await unfinished(q)) === 0, 20_000);
    await Promise.all(workers.map((w) => w.stop()));
    expect(finished).toBe(12);
    expect(overlapSameEnv).toBe(0);
    expect(parallel).toBeGreaterThan(0);
  });

  it("retries with exponential backoff and ends a job that keeps failing as failed, with its error kept", async () => {
    const q = await queue({ backoffBaseMs: 50, backoffCapMs: 200 });
    const { jobId } = (await q.enqueue({ kind: "deploy", environmentKey: "e", payload: {}, maxAttempts: 3 })) as { jobId: number };
    const attempts: number[] = [];
    const worker = new Worker(q, {
      deploy: async () => {
        attempts.push(Date.now());
        throw new Error("upstream config rejected: $env(TOKEN) missing");
      },
    }, { idleMs: 10 });
    worker.start();
    open.push(() => worker.stop());
    await until(async () => (await q.get(jobId))?.status === "failed");
    expect(await q.get(jobId)).toMatchObject({ status: "failed", attempts: 3, lastError: "upstream config rejected: $env(TOKEN) missing" });
    expect(attempts[1]! - attempts[0]!).toBeGreaterThanOrEqual(40);
    expect(attempts[2]! - attempts[1]!).toBeGreaterThanOrEqual(90);
  });

  /** Milliseconds from now until a job's run_after, and until its lease ends (null when it has none). */
  async function timing(q: JobQueue, id: number): Promise<{ runAfterMs: number; leaseMs: number | null }> {
    const [r] = rowsOf<{ run_after_ms: string | number; lease_ms: string | number | null }>(
      await q.store.db.execute(sql`SELECT extract(epoch FROM run_after - now()) * 1000 AS run_after_ms, extract(epoch FROM lease_expires_at - now()) * 1000 AS lease_ms FROM jobs WHERE id = ${id}`),
    );
    return { runAfterMs: Number(r!.run_after_ms), leaseMs: r!.lease_ms === null ? null : Number(r!.lease_ms) };
  }

  it("schedules the n-th retry base x 2^(n-1) from now, never later than the cap, and says retry until the last attempt fails", async () => {
    const q = await queue({ backoffBaseMs: 10_000, backoffCapMs: 25_000 });
    const id = await jobId(q.enqueue({ kind: "deploy", environmentKey: "e", payload: {}, maxAttempts: 4 }));
    const expected = [10_000, 20_000, 25_000];
    for (const delay of expected) {
      await q.store.db.execute(sql`UPDATE jobs SET run_after = now() WHERE id = ${id}`);
      const job = (await q.claim("w", 60_000))!;
      expect(await q.fail(job, "w", "boom")).toBe("retry");
      const { runAfterMs, leaseMs } = await timing(q, id);
      expect(runAfterMs).toBeGreaterThan(delay - 2_000);
      expect(runAfterMs).toBeLessThanOrEqual(delay);
      expect(leaseMs).toBeNull();
      expect(await q.get(id)).toEqual({ status: "queued", attempts: job.attempts, lastError: "boom", leaseOwner: null });
    }
    await q.store.db.execute(sql`UPDATE jobs SET run_after = now() WHERE id = ${id}`);
    const last = (await q.claim("w", 60_000))!;
    expect(last.attempts).toBe(4);
    expect(await q.fail(last, "w", "still broken")).toBe("failed");
    expect(await q.get(id)).toEqual({ status: "failed", attempts: 4, lastError: "still broken", leaseOwner: null });
    expect(await q.claim("w", 60_000)).toBeUndefined();
  });

  it("keeps the first 4,000 characters of an error", async () => {
    const q = await queue();
    const id = await jobId(q.enqueue({ kind: "deploy", environmentKey: "e", payload: {}, maxAttempts: 1 }));
    const job = (await q.claim("w", 60_000))!;
    expect(await q.fail(job, "w", "x".repeat(4_000) + "tail")).toBe("failed");
    expect((await q.get(id))?.lastError).toBe("x".repeat(4_000));
  });

  it("says lost, and changes nothing, when a worker fails or completes a job it no longer holds", async () => {
    const q = await queue();
    const id = await jobId(q.enqueue({ kind: "deploy", environmentKey: "e", payload: {} }));
    const job = (await q.claim("w1", 60_000))!;
    expect(await q.fail(job, "w2", "not mine")).toBe("lost");
    expect(await q.fail({ ...job, attempts: job.attempts + 1 }, "w1", "a later attempt")).toBe("lost");
    expect(await q.complete(job, "w2")).toBe(false);
    expect(await q.get(id)).toEqual({ status: "running", attempts: 1, lastError: null, leaseOwner: "w1" });
    expect(await q.complete(job, "w1")).toBe(true);
    expect(await q.fail(job, "w1", "after the fact")).toBe("lost");
    expect(await q.get(id)).toEqual({ status: "done", attempts: 1, lastError: null, leaseOwner: null });
  });

  it("renews a lease only for the worker and attempt that hold it, by the time asked for", async () => {
    const q = await queue();
    const id = await jobId(q.enqueue({ kind: "deploy", environmentKey: "e", payload: {} }));
    const job = (await q.claim("w1", 1_000))!;
    expect((await timing(q, id)).leaseMs).toBeLessThanOrEqual(1_000);
    expect(await q.heartbeat(job, "w1", 60_000)).toBe(true);
    const renewed = (await timing(q, id)).leaseMs!;
    expect(renewed).toBeGreaterThan(58_000);
    expect(renewed).toBeLessThanOrEqual(60_000);
    expect(await q.heartbeat(job, "w2", 60_000)).toBe(false);
    expect(await q.heartbeat({ ...job, attempts: 2 }, "w1", 60_000)).toBe(false);
    expect(await q.complete(job, "w1")).toBe(true);
    expect(await q.heartbeat(job, "w1", 60_000)).toBe(false);
  });

  it("tells a running job it is superseded only by a queued job of its kind and environment for a newer commit", async () => {
    const q = await queue();
    await jobId(q.enqueue({ kind: "deploy", environmentKey: "e", commitOrder: 5, payload: {} }));
    const running = (await q.claim("w", 60_000))!;
    expect(await q.superseded(running)).toBe(false);
    await jobId(q.enqueue({ kind: "report", environmentKey: "e", commitOrder: 9, payload: {} }));
    await jobId(q.enqueue({ kind: "deploy", environmentKey: "other", commitOrder: 9, payload: {} }));
    await jobId(q.enqueue({ kind: "deploy", environmentKey: "e", commitOrder: 5, payload: {}, coalesce: false }));
    expect(await q.superseded(running)).toBe(false);
    await jobId(q.enqueue({ kind: "deploy", environmentKey: "e", commitOrder: 6, payload: {} }));
    expect(await q.superseded(running)).toBe(true);
  });

  it("counts as pending what runs and what is due within a second, not what waits longer or has ended", async () => {
    const q = await queue({ backoffBaseMs: 60_000 });
    expect(await q.pendingCount()).toBe(0);
    const later = await jobId(q.enqueue({ kind: "deploy", environmentKey: "a", payload: {} }));
    expect(await q.pendingCount()).toBe(1);
    const job = (await q.claim("w", 60_000))!;
    expect(job.id).toBe(later);
    expect(await q.pendingCount()).toBe(1);
    expect(await q.fail(job, "w", "retry in a minute")).toBe("retry");
    expect(await q.pendingCount()).toBe(0);
    await jobId(q.enqueue({ kind: "deploy", environmentKey: "b", payload: {} }));
    const b = (await q.claim("w", 60_000))!;
    expect(await q.complete(b, "w")).toBe(true);
    expect(await q.pendingCount()).toBe(0);
  });

  it("hands a claimed job back whole: kind, environment, commit order, payload and attempt count", async () => {
    const q = await queue();
    const id = await jobId(q.enqueue({ kind: "preview", environmentKey: "acme/shop:pr-3", commitOrder: 42, payload: { sha: "abc", n: [1, 2] }, maxAttempts: 7 }));
    expect(await q.claim("w", 60_000)).toEqual({ id, kind: "preview", environmentKey: "acme/shop:pr-3", commitOrder: 42, payload: { sha: "abc", n: [1, 2] }, attempts: 1, maxAttempts: 7 });
    expect(await q.get(id + 1000)).toBeUndefined();
  });

  it("lets another worker take over a job whose worker stopped renewing its lease, and the first one cannot complete it", async () => {
    const q = await queue();
    const { jobId } = (await q.enqueue({ kind: "deploy", environmentKey: "e", payload: {} })) as { jobId: number };
    const dead = await q.claim("dead-worker", 150);
    expect(dead?.id).toBe(jobId);
    expect(await q.claim("live-worker", 5_000)).toBeUndefined();
    await sleep(250);
    const taken = await q.claim("live-worker", 5_000);
    expect(taken).toMatchObject({ id: jobId, attempts: 2 });
    expect(await q.complete(dead!, "dead-worker")).toBe(false);
    expect(await q.complete(taken!, "live-worker")).toBe(true);
    expect((await q.get(jobId))?.status).toBe("done");
  });

  it("hands a worker only jobs of the kinds it asks for, a job whose lease expired included, and nothing when it asks for none", async () => {
    const q = await queue();
    const github = await jobId(q.enqueue({ kind: "github", environmentKey: "a", payload: {} }));
    const git = await jobId(q.enqueue({ kind: "git", environmentKey: "b", payload: {} }));
    expect(await q.claim("w", 60_000, [])).toBeUndefined();
    expect((await q.claim("git-worker", 150, ["git", "poll"]))?.id).toBe(git);
    expect(await q.claim("git-worker", 150, ["git", "poll"])).toBeUndefined();
    await sleep(250);
    // The git job's lease expired: only a worker for its kind takes it over.
    expect((await q.claim("github-worker", 60_000, ["github"]))?.id).toBe(github);
    expect(await q.claim("github-worker", 60_000, ["github"])).toBeUndefined();
    expect(await q.claim("another-git-worker", 60_000, ["git"])).toMatchObject({ id: git, attempts: 2 });
  });
});

// Only on PostgreSQL: two enqueues at the same time need two connections (PGlite has one).
describeEachDriver("enqueues racing on one environment", (driver) => {
  async function queue(): Promise<JobQueue & { store: Store & { url: string } }> {
    const store = (await driver.open()) as Store & { url: string };
    open.push(() => store.close());
    await migrateStore(store);
    return new JobQueue(store) as JobQueue & { store: Store & { url: string } };
  }

  it("leaves only the newest commit's job queued when an older one is enqueued while the newer one's transaction is open", async () => {
    const q = await queue();
    let inserted!: () => void;
    const newerInserted = new Promise<void>((r) => (inserted = r));
    const newer = q.store.db.transaction(async (tx) => {
      const r = await q.enqueueIn(tx as never, { kind: "deploy", environmentKey: "e", commitOrder: 2, payload: {} });
      inserted();
      await sleep(300); // still uncommitted while the older one arrives
      return r;
    });
    await newerInserted;
    const older = q.enqueue({ kind: "deploy", environmentKey: "e", commitOrder: 1, payload: {} });
    expect(await newer).toMatchObject({ enqueued: true });
    expect(await older).toMatchObject({ enqueued: false, reason: "superseded" });
    const queued = rowsOf<{ commit_order: string | number }>(await q.store.db.execute(sql`SELECT commit_order FROM jobs WHERE status = 'queued'`));
    expect(queued.map((r) => Number(r.commit_order))).toEqual([2]);
  });

  it("does not wait on an advisory lock someone else holds on the bare environment name", async () => {
    const q = await queue();
    const other = new pg.Client({ connectionString: q.store.url });
    await other.connect();
    open.push(() => other.end());
    await other.query("SELECT pg_advisory_lock(hashtext($1))", ["acme/shop:production"]);
    const result = await Promise.race([q.enqueue({ kind: "deploy", environmentKey: "acme/shop:production", payload: {} }), sleep(3_000).then(() => "blocked")]);
    expect(result).toMatchObject({ enqueued: true });
  });
}, [postgres]);

// Only on PostgreSQL: a second process cannot open the same in-memory PGlite database.
describeEachDriver("a worker process killed", (driver) => {
  it("leaves its job to another worker, which completes it once the lease expires", async () => {
    const store = (await driver.open()) as Store & { url: string };
    open.push(() => store.close());
    await migrateStore(store);
    const q = new JobQueue(store);
    const { jobId } = (await q.enqueue({ kind: "deploy", environmentKey: "acme/shop:pr-9", payload: { sha: "abc" } })) as { jobId: number };
    const script = fileURLToPath(new URL("./fixtures/doomed-worker.ts", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", script, store.url, "800"], { stdio: ["ignore", "pipe", "inherit"] });
    const claimed = await new Promise<string>((resolve) => child.stdout!.on("data", (c: Buffer) => resolve(c.toString().trim())));
    expect(claimed).toBe(`claimed ${jobId}`);
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    expect((await q.get(jobId))?.leaseOwner).toBe("doomed-worker");
    const done: number[] = [];
    const worker = new Worker(q, { deploy: async (job) => void done.push(job.id) }, { idleMs: 50 });
    worker.start();
    await until(async () => (await q.get(jobId))?.status === "done");
    await worker.stop();
    expect(done).toEqual([jobId]);
    expect(await q.get(jobId)).toMatchObject({ status: "done", attempts: 2 });
  });
}, [postgres]);
