import { execFileSync } from "node:child_process";
import { constants, mkdtempSync, openSync, closeSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GIT_JOB_KIND, GitMirror, GitReconciler, runGitWork, sourcesFromList, type GitWork } from "../../src/git/index.js";
import { JobQueue, Worker } from "../../src/jobs/index.js";
import { migrateStore, openStore, StorePublisher, StoreRecords, type Store } from "../../src/store/index.js";
import { shopFiles } from "../github/shop-repo.js";

let root: string;
let store: Store | undefined;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "gitway-job-signal-"));
});
afterEach(async () => {
  await store?.close();
  store = undefined;
  rmSync(root, { recursive: true, force: true });
});

/** A repository with the shop's config on main. */
function sourceRepo(): string {
  const repo = join(root, "shop");
  mkdirSync(join(repo, "config"), { recursive: true });
  for (const [path, text] of Object.entries(shopFiles({ upstream: "http://127.0.0.1:9" }))) {
    mkdirSync(join(repo, path, ".."), { recursive: true });
    writeFileSync(join(repo, path), text);
  }
  const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=T", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false", ...args], { cwd: repo });
  git("init", "--quiet", "--initial-branch=main");
  git("add", "-A");
  git("commit", "--quiet", "-m", "shop");
  return repo;
}

/**
 * Makes every git process that reads the mirror's objects hang: Git opens objects/info/alternates
 * first, and a FIFO nobody writes to never opens. Returns whether any process still waits on it.
 */
function hangReads(mirrorDir: string): () => boolean {
  const fifo = join(mirrorDir, "objects/info/alternates");
  mkdirSync(join(fifo, ".."), { recursive: true });
  rmSync(fifo, { force: true });
  execFileSync("mkfifo", [fifo]);
  return () => {
    try {
      closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
      return true; // a reader holds it open: a git process is still there
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENXIO") return false;
      throw e;
    }
  };
}

async function eventually(check: () => boolean, ms = 2_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

describe("git processes of a Git-mode job", () => {
  it("end when the job's signal aborts a snapshot read that hangs, and none is left behind", async () => {
    const mirror = new GitMirror(sourceRepo(), join(root, "mirror.git"));
    await mirror.fetch();
    const sha = (await mirror.branches()).get("main")!;
    const waiting = hangReads(mirror.dir);
    const started = Date.now();
    await expect(mirror.snapshot(sha, { timeoutMs: 60_000 }, AbortSignal.timeout(300))).rejects.toThrow(/stopped/);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await eventually(() => !waiting())).toBe(true);
  }, 20_000);

  it("end when the job's signal aborts a fetch from a remote that never answers, its HTTP helper killed too", async () => {
    const open = new Set<Socket>();
    let connected = 0;
    const server = createServer((socket) => {
      connected++;
      open.add(socket);
      socket.resume(); // read (and drop) what git sends, so its end is seen
      socket.on("close", () => open.delete(socket));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const mirror = new GitMirror(`http://127.0.0.1:${(server.address() as { port: number }).port}/shop.git`, join(root, "hung.git"));
      const started = Date.now();
      await expect(mirror.fetch(AbortSignal.timeout(500))).rejects.toThrow(/stopped/);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(connected).toBeGreaterThan(0);
      expect(await eventually(() => open.size === 0)).toBe(true);
    } finally {
      for (const s of open) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  }, 20_000);

  it("end at the job's deadline (GITWAY_JOB_TIMEOUT_SECONDS): the job fails with the reason and is retried, its git processes killed", async () => {
    store = await openStore({ dataDir: "memory://" });
    await migrateStore(store);
    const records = new StoreRecords(store.db, { label: (o, r, e) => `${o}-${r}-${e}`, url: (l) => `http://${l}.gitway.test/` }, undefined);
    const queued: { kind: string; environmentKey: string; commitOrder: number; payload: GitWork }[] = [];
    const reconciler = new GitReconciler(sourcesFromList(sourceRepo()), join(root, "data"), { records, enqueue: async (job) => void queued.push(job), isServing: () => false, log: () => {}, maxFileBytes: 1024 * 1024 });
    await reconciler.tick();
    expect(queued).toHaveLength(1);
    const waiting = hangReads(reconciler.states[0]!.mirror.dir);
    const queue = new JobQueue(store);
    const enqueued = await queue.enqueue(queued[0]!);
    if (!enqueued.enqueued) throw new Error("the job was not queued");
    const deployer = { build: () => Promise.reject(new Error("never reached")), remove: async () => {} };
    const worker = new Worker(queue, { [GIT_JOB_KIND]: (job, signal) => runGitWork({ reconciler, records, deployer, publisherFor: (id) => new StorePublisher(store!.db, id), fence: async () => true, signal }, job.payload as GitWork) }, { jobTimeoutMs: 500, wrapUpMs: 3_000 });
    const started = Date.now();
    expect(await worker.runOne()).toBe(true);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(await queue.get(enqueued.jobId)).toMatchObject({ status: "queued", lastError: expect.stringMatching(/deadline of 0.5 s/) });
    expect(await eventually(() => !waiting())).toBe(true);
  }, 30_000);
});
