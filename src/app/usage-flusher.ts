import type { UsageCounter, UsageRow } from "../gateway/index.js";
import type { Log } from "./log.js";

export interface UsageFlusherOptions {
  counter: UsageCounter;
  /** Stores the rows (adding to what is there); rejects when the store is away. */
  write: (rows: UsageRow[]) => Promise<void>;
  log: Log;
  /** Default 10 s. */
  intervalMs?: number;
}

/**
 * Moves a gateway process's counts into the store every few seconds and at stop. A store that is
 * away only delays them: the rows go back into the counter (bounded, so a long outage drops new
 * keys, and says how many calls it dropped) and the next flush tries again. Requests never wait
 * for the store: counting is in memory, and one flush at a time runs beside them.
 */
export class UsageFlusher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private failing = false;

  constructor(private readonly options: UsageFlusherOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.options.intervalMs ?? 10_000);
    this.timer.unref();
  }

  /** Writes what is counted; while a flush is under way (a slow store), waits for it instead of starting another. */
  flush(): Promise<void> {
    if (!this.running) this.running = this.flushOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  private async flushOnce(): Promise<void> {
    const { counter, log } = this.options;
    const dropped = counter.takeDropped();
    if (dropped > 0) log("warn", `usage: ${dropped} call(s) not counted: the buffer of distinct usage rows is full while the store is away`);
    const rows = counter.drain();
    if (rows.length === 0) return;
    try {
      await this.options.write(rows);
      if (this.failing) log("info", `usage: the store answers again; ${rows.length} usage row(s) written`);
      this.failing = false;
    } catch (e) {
      counter.restore(rows);
      if (!this.failing) log("warn", `usage: counts kept in memory until the store answers (${reason(e)})`);
      this.failing = true;
    }
  }

  /** Stops the timer and writes what is left (waiting at most `graceMs` for the store). */
  async stop(graceMs = 5_000): Promise<void> {
    clearInterval(this.timer);
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), graceMs)));
    // A flush already under way first, then one for what was counted since.
    const done = (this.running ?? Promise.resolve()).then(() => this.flush());
    const outcome = await Promise.race([done, gaveUp]);
    clearTimeout(timer);
    const left = this.options.counter.size;
    if (outcome === "timeout" || left > 0) this.options.log("warn", `usage: ${left} usage row(s) not written at stop: the store did not answer`);
  }
}

/** The driver's own words: drizzle wraps them in "Failed query: <the whole statement and its parameters>". */
function reason(e: unknown): string {
  const cause = e instanceof Error && e.cause instanceof Error ? e.cause : e;
  return cause instanceof Error ? cause.message : String(cause);
}
