/**
 * npm run bench:queue — jobs per second through enqueue, then claim -> run (no-op) -> complete with
 * two workers, on PostgreSQL (DATABASE_URL, default the machine's) and on embedded PGlite, in one run.
 * Each round uses a fresh database; medians of ROUNDS rounds of JOBS jobs.
 */
import { JobQueue, Worker } from "../src/jobs/index.js";
import { migrateStore, openStore, type Store } from "../src/store/index.js";
import { median } from "./bench-data.js";
import { freshDatabase } from "./fresh-postgres.js";

const JOBS = Number(process.env.BENCH_JOBS ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DATABASE_URL = process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test";

async function freshPostgres(): Promise<{ store: Store; drop: () => Promise<void> }> {
  const db = await freshDatabase(DATABASE_URL);
  const store = await openStore({ databaseUrl: db.url });
  return {
    store,
    drop: async () => {
      await store.close();
      await db.drop();
    },
  };
}

async function round(open: () => Promise<{ store: Store; drop: () => Promise<void> }>): Promise<{ enqueue: number; process: number }> {
  const { store, drop } = await open();
  try {
    await migrateStore(store);
    const q = new JobQueue(store);
    let t = performance.now();
    for (let i = 0; i < JOBS; i++) await q.enqueue({ kind: "deploy", environmentKey: `acme/shop:pr-${i}`, commitOrder: 1, payload: { i } });
    const enqueue = JOBS / ((performance.now() - t) / 1000);
    let done = 0;
    const handlers = { deploy: async () => void done++ };
    const workers = [new Worker(q, handlers, { idleMs: 2 }), new Worker(q, handlers, { idleMs: 2 })];
    t = performance.now();
    workers.forEach((w) => w.start());
    const deadline = Date.now() + 120_000;
    while (done < JOBS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    const processRate = done / ((performance.now() - t) / 1000);
    await Promise.all(workers.map((w) => w.stop()));
    return { enqueue, process: processRate };
  } finally {
    await drop();
  }
}

const targets = [
  { name: "PostgreSQL", open: freshPostgres },
  { name: "PGlite (embedded)", open: async () => ({ store: await openStore({ dataDir: "memory://" }), drop: async () => {} }) },
];
console.log(`\n## queue benchmark: ${JOBS} jobs, 2 workers in one process, median of ${ROUNDS} rounds\n`);
console.log("| store | enqueue jobs/s | claim -> complete jobs/s (2 workers) |");
console.log("| --- | --- | --- |");
for (const target of targets) {
  const rounds = [];
  for (let i = 0; i < ROUNDS; i++) rounds.push(await round(target.open));
  console.log(`| ${target.name} | ${median(rounds.map((r) => r.enqueue)).toFixed(0)} | ${median(rounds.map((r) => r.process)).toFixed(0)} |`);
}
console.log("\ntarget: >= 500 jobs/s through claim -> complete on PostgreSQL");
