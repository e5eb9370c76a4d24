import cluster, { type Worker } from "node:cluster";

/**
 * N gateway processes on one port (node:cluster: the primary holds the listening socket and hands
 * connections to the workers). Not wired yet: src/main.ts decides when to use it (GATEWAY_WORKERS)
 * and what each worker runs; each worker must learn of new releases on its own (LISTEN/NOTIFY) and
 * share rate limits through Redis, since workers share no memory.
 */
export interface ClusterOptions {
  workers: number;
  /** What a worker process runs (it opens the gateway server on the shared port). */
  runWorker: () => Promise<void>;
  log?: (level: "info" | "warn" | "error", message: string) => void;
  /** A worker that dies is replaced after this wait, doubled (to 30 s) while they keep dying fast. */
  restartDelayMs?: number;
}

export interface ClusterHandle {
  /** In the primary: the live workers' pids. */
  pids(): number[];
  /** In the primary: stops every worker (SIGTERM, then SIGKILL after `graceMs`) and stops restarting them. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts the cluster: in the primary, forks and supervises; in a worker, runs `runWorker`. */
export async function startCluster(options: ClusterOptions): Promise<ClusterHandle | undefined> {
  if (!cluster.isPrimary) {
    await options.runWorker();
    return undefined;
  }
  if (!Number.isSafeInteger(options.workers) || options.workers < 1) throw new RangeError(`workers must be a whole number >= 1, not ${options.workers}`);
  const log = options.log ?? (() => {});
  const baseDelay = options.restartDelayMs ?? 500;
  let delay = baseDelay;
  let stopping = false;
  const live = new Set<Worker>();

  const fork = () => {
    const w = cluster.fork();
    const born = Date.now();
    live.add(w);
    w.once("exit", (code, signal) => {
      live.delete(w);
      if (stopping) return;
      // A worker that dies soon after starting would otherwise be restarted in a tight loop.
      delay = Date.now() - born < 5_000 ? Math.min(30_000, delay * 2) : baseDelay;
      log("warn", `gateway worker ${w.process.pid} exited (${signal ?? `code ${code}`}); starting another in ${delay} ms`);
      setTimeout(() => stopping || fork(), delay).unref();
    });
  };
  for (let i = 0; i < options.workers; i++) fork();

  return {
    pids: () => [...live].map((w) => w.process.pid!).filter((p) => p !== undefined),
    stop: async (graceMs = 10_000) => {
      stopping = true;
      const exits = [...live].map((w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : w.once("exit", () => resolve()))));
      for (const w of live) w.process.kill("SIGTERM");
      const timer = setTimeout(() => {
        for (const w of live) w.process.kill("SIGKILL");
      }, graceMs);
      await Promise.all(exits);
      clearTimeout(timer);
    },
  };
}
