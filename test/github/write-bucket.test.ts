import { describe, expect, it } from "vitest";
import { emptied, fullBucket, isFull, reserve, type Bucket, type BucketLimits } from "../../src/github/write-bucket.js";

const limits: BucketLimits = { burst: 20, intervalMs: 1_000 };

/** Asks for a turn at each of `asks` (ms) in order, as a serial writer does: the next ask is never before the last send. */
function sendTimes(asks: number[], l: BucketLimits = limits, start: Bucket = fullBucket(l, 0)): number[] {
  let bucket = start;
  let last = -Infinity;
  return asks.map((ask) => {
    const at = Math.max(ask, last);
    const turn = reserve(bucket, l, at);
    bucket = turn.bucket;
    last = at + turn.waitMs;
    return last;
  });
}

/** The most sends in any window of `span` ms (a window starting at a send is the fullest). */
function busiestWindow(times: number[], span: number): number {
  let most = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[j]! < times[i]! - span + 1) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

describe("an installation's write bucket", () => {
  it("lets a burst of 20 writes go back to back, then one a second", () => {
    const times = sendTimes(Array.from({ length: 25 }, () => 0));
    expect(times.slice(0, 20)).toEqual(Array.from({ length: 20 }, () => 0));
    expect(times.slice(20)).toEqual([1_000, 2_000, 3_000, 4_000, 5_000]);
  });

  it("refills at one write a second up to the burst, never beyond", () => {
    const spent = sendTimes(Array.from({ length: 20 }, () => 0));
    expect(spent.at(-1)).toBe(0);
    let bucket = fullBucket(limits, 0);
    for (let i = 0; i < 20; i++) bucket = reserve(bucket, limits, 0).bucket;
    // Five seconds later five writes go at once and the sixth waits for the next refill.
    const after = sendTimes([5_000, 5_000, 5_000, 5_000, 5_000, 5_000], limits, bucket);
    expect(after).toEqual([5_000, 5_000, 5_000, 5_000, 5_000, 6_000]);
    expect(isFull(bucket, limits, 19_999)).toBe(false);
    expect(isFull(bucket, limits, 20_000)).toBe(true);
    expect(isFull(bucket, limits, 3_600_000)).toBe(true);
    // An hour idle holds no more than the burst.
    const later = sendTimes(Array.from({ length: 21 }, () => 3_600_000), limits, bucket);
    expect(later.filter((t) => t === 3_600_000)).toHaveLength(20);
    expect(later.at(-1)).toBe(3_601_000);
  });

  it("sends at most burst + 60 writes in any minute, and one a second when the load goes on", () => {
    // Bursts of 1 to 13 asks every 4.999 s for ten minutes: about 1.4 a second, more than the pace allows.
    const asks: number[] = [];
    for (let i = 0; i * 4_999 < 600_000; i++) for (let k = 0; k <= i % 13; k++) asks.push(i * 4_999);
    const times = sendTimes(asks);
    expect(busiestWindow(times, 60_000)).toBeLessThanOrEqual(80);
    expect(busiestWindow(times, 60_000)).toBeGreaterThanOrEqual(79);
    // Once the burst is spent, consecutive writes are a second apart.
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(gaps.slice(100).every((gap) => gap === 1_000)).toBe(true);
  });

  it("hands out turns in the order asked for when several ask at once", () => {
    let bucket = fullBucket({ burst: 2, intervalMs: 1_000 }, 0);
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      const turn = reserve(bucket, { burst: 2, intervalMs: 1_000 }, 0);
      bucket = turn.bucket;
      waits.push(turn.waitMs);
    }
    expect(waits).toEqual([0, 0, 1_000, 2_000, 3_000]);
  });

  it("is empty after GitHub's rate limit until its reset, and then refills at one a second", () => {
    const bucket = emptied(fullBucket(limits, 0), 0, 30_000);
    expect(reserve(bucket, limits, 0).waitMs).toBe(31_000);
    const times = sendTimes([30_000, 30_000, 30_000], limits, bucket);
    expect(times).toEqual([31_000, 32_000, 33_000]);
    // A limit that has already passed still leaves nothing to burst with.
    const late = emptied(fullBucket(limits, 0), 5_000, 1_000);
    expect(sendTimes([5_000, 5_000], limits, late)).toEqual([6_000, 7_000]);
  });
});
