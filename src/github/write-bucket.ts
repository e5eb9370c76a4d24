/**
 * The pace of one installation's GitHub writes, as a token bucket: up to `burst` writes go out
 * back to back, and the bucket refills at one write every `intervalMs`. Over any span of time T it
 * lets at most burst + T / intervalMs writes through (with 20 and 1 s: 80 a minute, GitHub's limit
 * on content-creating requests), and under sustained load it keeps GitHub's advice of a write a
 * second. Pure: the caller passes the time and keeps the returned bucket.
 */
export interface BucketLimits {
  burst: number;
  intervalMs: number;
}

/** Tokens may be negative: turns already promised to writes still waiting for them. */
export interface Bucket {
  tokens: number;
  /** The time `tokens` was counted at; after an emptying it may lie ahead (nothing refills before). */
  at: number;
}

export function fullBucket(limits: BucketLimits, now: number): Bucket {
  return { tokens: limits.burst, at: now };
}

export function refilled(bucket: Bucket, limits: BucketLimits, now: number): Bucket {
  if (now <= bucket.at) return bucket;
  return { tokens: Math.min(limits.burst, bucket.tokens + (now - bucket.at) / limits.intervalMs), at: now };
}

/**
 * Takes the next turn: how long after `now` the write may go (0: at once). Turns are handed out in
 * the order they are asked for, so writes asked for together are spaced by the refill, not sent at once.
 */
export function reserve(bucket: Bucket, limits: BucketLimits, now: number): { bucket: Bucket; waitMs: number } {
  const current = refilled(bucket, limits, now);
  const tokens = current.tokens - 1;
  const ahead = Math.max(0, current.at - now);
  return { bucket: { tokens, at: current.at }, waitMs: tokens >= 0 ? ahead : ahead + Math.ceil(-tokens * limits.intervalMs) };
}

/**
 * GitHub asked to slow down until `until`: nothing is left to burst with, and the bucket starts
 * refilling only then, so writes resume at one an interval. A turn already promised keeps its
 * time (its writer waits for the reset anyway) and is still counted against the ones after it.
 */
export function emptied(bucket: Bucket, now: number, until: number): Bucket {
  return { tokens: Math.min(0, bucket.tokens), at: Math.max(now, until, bucket.at) };
}

/** Whether the bucket is full again at `now`: it holds nothing a new one would not. */
export function isFull(bucket: Bucket, limits: BucketLimits, now: number): boolean {
  return refilled(bucket, limits, now).tokens >= limits.burst;
}
