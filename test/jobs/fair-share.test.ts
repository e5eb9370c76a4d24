import { afterEach, expect, it } from "vitest";
import { fairShare, JobQueue, Worker, type Job } from "../../src/jobs/index.js";
import { migrateStore } from "../../src/store/index.js";
import { describeEachDriver } from "../store/drivers.js";

const open: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (open.length) await open.pop()!();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tenant = (job: Job) => String((job.payload as { installationId: number }).installationId);

describeEachDriver("a fair share of the worker's slots", (driver) => {
  async function setup(jobs: { installationId: number; env: string }[]) {
    const store = await driver.open();
    open.push(() => store.close());
    await migrateStore(store);
    const q = new JobQueue(store);
    for (const j of jobs) await q.enqueue({ kind: "gh", environmentKey: j.env, payload: j });
    const running = new Set<string>();
    const started: string[] = [];
    const handler = async (job: Job) => {
      const env = job.environmentKey;
      running.add(env);
      started.push(env);
      await sleep(1_500);
      running.delete(env);
    };
    const worker = new Worker(q, { gh: fairShare(q, 1, tenant, handler) }, { concurrency: 2, idleMs: 20 });
    worker.start();
    open.push(() => worker.stop(3_000));
    return { running, started };
  }

  it("gives a slot to another installation's waiting job rather than to a second job of a busy one", async () => {
    const { running, started } = await setup([
      { installationId: 1, env: "a1" },
      { installationId: 1, env: "a2" },
      { installationId: 1, env: "a3" },
      { installationId: 2, env: "b1" },
    ]);
    const end = Date.now() + 10_000;
    while (!started.includes("b1") && Date.now() < end) await sleep(20);
    expect(started.slice(0, 2)).toEqual(["a1", "b1"]);
    expect([...running].sort()).toEqual(["a1", "b1"]);
  });

  it("lets an installation alone use every slot", async () => {
    const { running } = await setup([
      { installationId: 1, env: "a1" },
      { installationId: 1, env: "a2" },
    ]);
    const end = Date.now() + 10_000;
    while (running.size < 2 && Date.now() < end) await sleep(20);
    expect([...running].sort()).toEqual(["a1", "a2"]);
  });
});
