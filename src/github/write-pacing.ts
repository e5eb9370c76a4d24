import { emptied, fullBucket, isFull, refilled, reserve, type Bucket, type BucketLimits } from "./write-bucket.js";

/** GitHub's advice once the burst is spent: at least a second between writes. */
export const WRITE_INTERVAL_MS = 1_000;

/** Buckets kept before full ones (the same as none) are forgotten. */
const REMEMBERED_INSTALLATIONS = 1_000;

type Task = (...args: unknown[]) => unknown;

/**
 * The write pace of every installation in this process, one token bucket each (write-bucket.ts).
 * Octokit's throttling plugin asks it for each write's turn instead of keeping its own fixed gap
 * (see `throttleGroups`); the installation's writer empties the bucket when GitHub says to slow down.
 */
export class WritePacing {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly limits: BucketLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Resolves when this installation's next write may go. */
  turn(installation: string): Promise<void> {
    const now = this.now();
    const { bucket, waitMs } = reserve(this.buckets.get(installation) ?? fullBucket(this.limits, now), this.limits, now);
    this.keep(installation, bucket, now);
    return waitMs <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, waitMs));
  }

  /** GitHub answered with a rate limit: no burst before `until`, then one write an interval. */
  empty(installation: string, until: Date): void {
    const now = this.now();
    this.keep(installation, emptied(this.buckets.get(installation) ?? fullBucket(this.limits, now), now, until.getTime()), now);
  }

  /** Writes this installation could send back to back now. */
  available(installation: string): number {
    const now = this.now();
    const bucket = this.buckets.get(installation);
    if (!bucket) return this.limits.burst;
    return bucket.at > now ? 0 : Math.max(0, Math.floor(refilled(bucket, this.limits, now).tokens));
  }

  /**
   * Stand-ins for the throttling plugin's `write` and `notifications` groups (Bottleneck groups
   * keyed by installation, which would add fixed gaps of 1 s between writes and 3 s between
   * notifying ones): a write waits for its installation's turn in the bucket, which already counts
   * notifying writes, so those wait for nothing more. The plugin keeps answering rate limits.
   */
  throttleGroups(): { write: unknown; notifications: unknown } {
    const group = (wait: (id: string) => Promise<void>) => ({
      key: (id = "") => ({
        // Bottleneck's signature: schedule([options], task, ...args).
        async schedule(...args: unknown[]): Promise<unknown> {
          const at = typeof args[0] === "function" ? 0 : 1;
          await wait(id);
          return (args[at] as Task)(...args.slice(at + 1));
        },
      }),
    });
    return { write: group((id) => this.turn(id)), notifications: group(() => Promise.resolve()) };
  }

  private keep(installation: string, bucket: Bucket, now: number): void {
    this.buckets.set(installation, bucket);
    if (this.buckets.size <= REMEMBERED_INSTALLATIONS) return;
    for (const [id, b] of this.buckets) if (isFull(b, this.limits, now)) this.buckets.delete(id);
  }
}
