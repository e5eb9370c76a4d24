import type { Redis } from "ioredis";

export interface WindowCount {
  /** Requests counted in the current fixed window, this one included when allowed. */
  current: number;
  previous: number;
}

/**
 * Counters for a sliding-window limit: the current and previous fixed windows, weighted by how
 * far the current window has run. `hit` counts a request only when it is within the limit.
 */
export interface RateLimitStore {
  hit(key: string, windowMs: number, limit: number, now: number): Promise<{ allowed: boolean; count: number }> | { allowed: boolean; count: number };
  close(): Promise<void>;
}

function estimate(previous: number, current: number, windowMs: number, now: number): number {
  const elapsed = (now % windowMs) / windowMs;
  return previous * (1 - elapsed) + current;
}

/** One process's counters. */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly windows = new Map<string, { start: number; current: number; previous: number; windowMs: number }>();
  private sweeps = 0;

  hit(key: string, windowMs: number, limit: number, now: number): { allowed: boolean; count: number } {
    const start = now - (now % windowMs);
    let w = this.windows.get(key);
    if (!w || w.start < start - windowMs) w = { start, current: 0, previous: 0, windowMs };
    else if (w.start < start) w = { start, current: 0, previous: w.current, windowMs };
    this.windows.set(key, w);
    const count = estimate(w.previous, w.current + 1, windowMs, now);
    const allowed = count <= limit;
    if (allowed) w.current++;
    if (++this.sweeps % 10_000 === 0) this.sweep(now);
    return { allowed, count: Math.ceil(count) };
  }

  /**
   * Forget callers idle for two of their own windows, so memory follows active callers. Each entry
   * keeps its window: policies with different windows share the store, and one policy's short
   * window must not reset another's long one.
   */
  private sweep(now: number): void {
    for (const [k, w] of this.windows) if (w.start < now - 2 * w.windowMs) this.windows.delete(k);
  }

  async close(): Promise<void> {}
}

// KEYS: current window, previous window. ARGV: window ms, limit, elapsed fraction.
const HIT = `
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local prev = tonumber(redis.call('GET', KEYS[2]) or '0')
local est = prev * (1 - tonumber(ARGV[3])) + cur + 1
if est > tonumber(ARGV[2]) then return {0, math.ceil(est)} end
redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]) * 2)
return {1, math.ceil(est)}
`;

/** Counters in Redis, shared by every gateway process: one atomic script per request. */
export class RedisRateLimitStore implements RateLimitStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = "gitway:rl:",
  ) {}

  async hit(key: string, windowMs: number, limit: number, now: number): Promise<{ allowed: boolean; count: number }> {
    const start = now - (now % windowMs);
    const [allowed, count] = (await this.redis.eval(HIT, 2, `${this.prefix}${key}:${start}`, `${this.prefix}${key}:${start - windowMs}`, windowMs, limit, (now - start) / windowMs)) as [number, number];
    return { allowed: allowed === 1, count };
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
