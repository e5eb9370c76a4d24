import type { Octokit } from "./octokit.js";
import { outsideJobSignal, RateLimitedError } from "./request-limits.js";
import type { WritePacing } from "./write-pacing.js";

/**
 * What a reviewer waits for (check runs, the pull request's comment) goes before the records kept
 * beside it (GitHub Deployments and their statuses), which nobody waits on to review.
 */
export type WriteLane = "feedback" | "record";

/** One pending write. Its key says what it writes: a later write with the same key replaces it while it waits. */
export interface PendingWrite {
  key: string;
  lane: WriteLane;
  /** Runs when its turn comes, with the installation's newest client. */
  send(octokit: Octokit): Promise<void>;
}

type Log = (level: "info" | "warn" | "error", message: string) => void;

/** A rate limit longer than this is not waited for: the write is dropped with a warning (GitHub resets hourly). */
const LONGEST_RATE_LIMIT_WAIT_MS = 15 * 60_000;

/**
 * The GitHub writes of one installation, sent one at a time, never two at once (Octokit's
 * throttling then takes each request's turn from the installation's token bucket: a burst back to
 * back, then GitHub's advised one write a second; see write-pacing.ts) by this writer, never by a job: a job
 * hands its writes over and gives its worker slot back at once, so the pacing of one installation
 * holds up neither the deploys of its own pull requests nor anything of another installation.
 * A write still waiting is replaced by a newer one for the same thing (the latest state wins, and
 * a check known before its "in progress" was sent is created once, with its result).
 */
export class InstallationWriter {
  private readonly lanes: Record<WriteLane, Map<string, PendingWrite>> = { feedback: new Map(), record: new Map() };
  private sending: Promise<void> | undefined;
  private idleWaiters: (() => void)[] = [];
  private closed = false;
  private wakeFromPause: (() => void) | undefined;
  /** The write being sent now, by key: a job waiting on that key waits for it too. */
  private current: string | undefined;
  /** Who waits for a key to be sent (see whenSent). */
  private readonly sentWaiters = new Map<string, (() => void)[]>();
  /** Check runs created in progress and not completed yet, by check key: their completion is an update. */
  readonly openChecks = new Map<string, number>();

  constructor(
    private octokit: Octokit,
    private readonly label: string,
    private readonly log: Log,
    private readonly pacing?: WritePacing,
  ) {}

  /** Remembers a check run created in progress (a bounded memory: the oldest is forgotten first). */
  rememberOpenCheck(key: string, id: number): void {
    if (this.openChecks.size >= 10_000) this.openChecks.delete(this.openChecks.keys().next().value!);
    this.openChecks.set(key, id);
  }

  /** The installation's newest client (its token is renewed by Probot; any recent one will do). */
  useClient(octokit: Octokit): void {
    this.octokit = octokit;
  }

  get busy(): boolean {
    return this.sending !== undefined;
  }

  get pending(): number {
    return this.lanes.feedback.size + this.lanes.record.size;
  }

  enqueue(write: PendingWrite): void {
    if (this.closed) {
      this.log("warn", `GitHub write ${write.key} for installation ${this.label} dropped: the process is stopping`);
      return;
    }
    // Map.set keeps a replaced key in its place: the write keeps its turn and takes the newest content.
    this.lanes[write.lane].set(write.key, write);
    this.kick();
  }

  private kick(): void {
    // Sent outside any job's signal: the job that handed a write over may end (or be abandoned) first.
    this.sending ??= outsideJobSignal(() => this.sendAll()).finally(() => {
      this.sending = undefined;
      if (this.pending > 0 && !this.closed) this.kick();
      else for (const done of this.idleWaiters.splice(0)) done();
    });
  }

  /** Resolves once nothing is waiting or being sent. */
  idle(): Promise<void> {
    if (!this.sending && this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Resolves once none of these keys waits or is being sent: the newest write of each was tried
   * (sent, or given up on with a warning). Never resolves if the process stops with one still
   * waiting, so what a caller records only then (the sweep's answer) is not recorded for writes lost.
   */
  whenSent(keys: Iterable<string>): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const key of new Set(keys)) {
      if (this.current !== key && !this.lanes.feedback.has(key) && !this.lanes.record.has(key)) continue;
      waits.push(new Promise<void>((resolve) => this.sentWaiters.set(key, [...(this.sentWaiters.get(key) ?? []), resolve])));
    }
    return Promise.all(waits).then(() => undefined);
  }

  /** Sends no more; what still waits is dropped (and said so). */
  close(): void {
    this.closed = true;
    this.wakeFromPause?.();
    const left = this.pending;
    if (left > 0) this.log("warn", `${left} GitHub write(s) for installation ${this.label} not sent: the process stopped first`);
    this.lanes.feedback.clear();
    this.lanes.record.clear();
    this.sentWaiters.clear();
    for (const done of this.idleWaiters.splice(0)) done();
  }

  /** The next write: feedback first, records when no feedback waits. */
  private take(): PendingWrite | undefined {
    for (const lane of [this.lanes.feedback, this.lanes.record]) {
      const first = lane.values().next();
      if (!first.done) {
        lane.delete(first.value.key);
        return first.value;
      }
    }
    return undefined;
  }

  private async sendAll(): Promise<void> {
    for (let write = this.take(); write && !this.closed; write = this.take()) {
      this.current = write.key;
      try {
        await write.send(this.octokit);
        this.settle(write.key);
      } catch (e) {
        if (e instanceof RateLimitedError && e.retryAt.getTime() - Date.now() <= LONGEST_RATE_LIMIT_WAIT_MS) {
          // Nothing of this installation can be written before the reset: wait for it here, in no
          // worker slot, and send no burst right after it.
          this.pacing?.empty(this.label, e.retryAt);
          const lane = this.lanes[write.lane];
          if (!lane.has(write.key)) this.lanes[write.lane] = new Map([[write.key, write], ...lane]);
          this.log("warn", `GitHub rate limit for installation ${this.label}: writes wait until ${e.retryAt.toISOString()}`);
          await this.pause(e.retryAt.getTime() - Date.now());
          continue;
        }
        this.log("warn", `GitHub write ${write.key} for installation ${this.label} failed: ${e instanceof Error ? e.message.split("\n")[0]!.slice(0, 300) : String(e)}`);
        // Tried and refused: sending it again each sweep would not change GitHub's answer.
        this.settle(write.key);
      } finally {
        this.current = undefined;
      }
    }
  }

  /** A key was tried; its waiters are done unless a newer write for it came meanwhile (they wait for that one). */
  private settle(key: string): void {
    if (this.closed || this.lanes.feedback.has(key) || this.lanes.record.has(key)) return;
    for (const done of this.sentWaiters.get(key) ?? []) done();
    this.sentWaiters.delete(key);
  }

  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, ms));
      this.wakeFromPause = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => (this.wakeFromPause = undefined));
  }
}

/** One writer per installation, for the whole process. */
export class GitHubWriters {
  private readonly writers = new Map<string, InstallationWriter>();

  constructor(
    private readonly log: Log,
    /** The installations' write buckets, which Octokit's throttling takes each write's turn from. */
    private readonly pacing?: WritePacing,
  ) {}

  /** The writer of this installation (`app` for the app's own client), handed the newest client. */
  of(installationId: number | undefined, octokit: Octokit): InstallationWriter {
    const label = installationId === undefined ? "app" : String(installationId);
    let writer = this.writers.get(label);
    if (!writer) {
      writer = new InstallationWriter(octokit, label, this.log, this.pacing);
      this.writers.set(label, writer);
    } else writer.useClient(octokit);
    return writer;
  }

  get pending(): number {
    let n = 0;
    for (const w of this.writers.values()) n += w.pending;
    return n;
  }

  /** A write is being sent now. */
  get sending(): boolean {
    return [...this.writers.values()].some((w) => w.busy);
  }

  /** Resolves once every installation's writes are sent. */
  async idle(): Promise<void> {
    await Promise.all([...this.writers.values()].map((w) => w.idle()));
  }

  /** At shutdown: sends what it can within `graceMs`, then drops the rest (logged). */
  async close(graceMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.idle(), new Promise((r) => (timer = setTimeout(r, Math.max(0, graceMs))))]);
    clearTimeout(timer);
    for (const w of this.writers.values()) w.close();
  }
}
