import { describe, expect, it } from "vitest";
import { HOUR_MS, UsageCounter, statusClassOf, type CountedRoute, type UsageRow } from "../../src/gateway/index.js";

const orders: CountedRoute = { id: "GET /orders", operation: "listOrders" };
const nine = Date.UTC(2026, 11, 3, 9);

/** Counting as the rows are defined: one row per hour, environment, route, consumer and status class, first seen first. */
class KeyedCounter {
  rows = new Map<string, UsageRow>();
  dropped = 0;
  constructor(private readonly maxRows: number) {}
  add(row: UsageRow): void {
    const key = [row.hour, row.environment, row.route, row.consumer, row.status].join("\u0000");
    const known = this.rows.get(key);
    if (known) known.count += row.count;
    else if (this.rows.size < this.maxRows) this.rows.set(key, { ...row });
    else this.dropped += row.count;
  }
  count(now: number, environment: string, route: CountedRoute, consumer: string | undefined, status: number): void {
    this.add({ hour: now - (now % HOUR_MS), environment, operation: route.operation, route: route.id, consumer: consumer ?? "anonymous", status: statusClassOf(status), count: 1 });
  }
  drain(): UsageRow[] {
    const out = [...this.rows.values()];
    this.rows = new Map();
    return out;
  }
}

/** mulberry32: a seeded sequence, so a failing case can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("the usage counter's shortcut for calls already seen", () => {
  it("counts a call after a drain into a new row, leaving the drained one as it was taken", () => {
    const counter = new UsageCounter({ now: () => nine });
    counter.count("e", orders, "a", 200);
    const first = counter.drain();
    counter.count("e", orders, "a", 200);
    counter.count("e", orders, "a", 200);
    expect(first.map((r) => r.count)).toEqual([1]);
    expect(counter.drain().map((r) => r.count)).toEqual([2]);
  });

  it("counts a call in the hour it was answered in, also when the clock steps back an hour", () => {
    let now = nine + 10;
    const counter = new UsageCounter({ now: () => now });
    counter.count("e", orders, "a", 200);
    now -= 20;
    counter.count("e", orders, "a", 200);
    now += 20;
    counter.count("e", orders, "a", 200);
    expect(counter.drain().map((r) => [r.hour, r.count])).toEqual([
      [nine, 2],
      [nine - HOUR_MS, 1],
    ]);
  });

  it("counts one route object under each environment that names it, and a swapped release's route under the same row", () => {
    const counter = new UsageCounter({ now: () => nine });
    const swapped: CountedRoute = { ...orders };
    counter.count("staging", orders, "a", 200);
    counter.count("production", orders, "a", 200);
    counter.count("staging", orders, "a", 200);
    counter.count("staging", swapped, "a", 201);
    expect(counter.drain().map((r) => [r.environment, r.count])).toEqual([
      ["staging", 3],
      ["production", 1],
    ]);
  });

  it("counts a call without a consumer and one from a consumer named anonymous in one row", () => {
    const counter = new UsageCounter({ now: () => nine });
    counter.count("e", orders, undefined, 200);
    counter.count("e", orders, "anonymous", 200);
    counter.count("e", orders, undefined, 200);
    expect(counter.drain().map((r) => [r.consumer, r.count])).toEqual([["anonymous", 3]]);
  });

  it("counts a row given back after the shortcut knew it, on top of what was counted meanwhile", () => {
    const counter = new UsageCounter({ now: () => nine });
    counter.count("e", orders, "a", 200);
    const taken = counter.drain();
    counter.count("e", orders, "a", 200);
    counter.restore(taken);
    counter.count("e", orders, "a", 200);
    expect(counter.drain().map((r) => r.count)).toEqual([3]);
  });

  it("keeps the same rows, in the same order, as counting by key, over random calls, drains, restores and hours", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rnd = random(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
      let now = nine + Math.floor(rnd() * HOUR_MS);
      const maxRows = 5 + Math.floor(rnd() * 40);
      const counter = new UsageCounter({ now: () => now, maxRows });
      const expected = new KeyedCounter(maxRows);
      // Two releases of the same routes (same ids, other objects), as after a swap.
      const releases = [0, 1].map(() => [orders, { id: "GET /health", operation: "GET /health" }, { id: "POST /orders", operation: "createOrder" }].map((r) => ({ ...r })));
      const consumers = [undefined, "anonymous", "mobile-app", "partner-acme", "bench"];
      const statuses = [101, 200, 204, 302, 401, 429, 500, 503, 99, 600];
      let held: UsageRow[] = [];
      for (let step = 0; step < 2_000; step++) {
        const r = rnd();
        if (r < 0.9) {
          const args = [pick(["staging", "production"]), pick(pick(releases)), pick(consumers), pick(statuses)] as const;
          counter.count(...args);
          expected.count(now, ...args);
        } else if (r < 0.94) {
          now += pick([1, 1_000, HOUR_MS / 3, HOUR_MS, -HOUR_MS / 2]);
        } else if (r < 0.97) {
          const got = counter.drain();
          expect(got, `seed ${seed}, step ${step}`).toEqual(expected.drain());
          held = got;
        } else {
          counter.restore(held);
          for (const row of held) expected.add(row);
          held = [];
        }
      }
      expect(counter.drain(), `seed ${seed}`).toEqual(expected.drain());
      expect(counter.takeDropped(), `seed ${seed}`).toBe(expected.dropped);
    }
  });
});
