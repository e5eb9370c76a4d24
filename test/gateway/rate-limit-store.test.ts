import { describe, expect, it } from "vitest";
import { environmentLabel, labelOfHost, MemoryRateLimitStore } from "../../src/gateway/index.js";

describe("the in-memory rate-limit store", () => {
  it("keeps a long window's count when a policy with a short window sweeps idle callers", () => {
    const store = new MemoryRateLimitStore();
    const hour = 60 * 60_000;
    const t0 = 10 * hour;
    expect(store.hit("slow", hour, 1, t0).allowed).toBe(true);
    // 10,000 hits of a one-second policy, long after "slow"'s two seconds but well inside its hour, trigger a sweep.
    for (let i = 0; i < 10_000; i++) store.hit(`fast-${i}`, 1_000, 5, t0 + 5 * 60_000);
    expect(store.hit("slow", hour, 1, t0 + 6 * 60_000).allowed).toBe(false);
  });

  // The answer after a long idle time is the same whether the entry was swept or its window reset,
  // so these look at what the store holds (the map is private; the sweep is about memory).
  const tracked = (store: MemoryRateLimitStore) => new Set(store["windows"].keys());

  it("forgets a caller idle for two of its own windows when it sweeps, and keeps the rest", () => {
    const store = new MemoryRateLimitStore();
    store.hit("idle", 1_000, 1, 0); // window [0, 1000): more than two windows before 10,000
    store.hit("edge", 1_000, 1, 8_000); // window [8000, 9000): exactly two windows before, kept
    store.hit("recent", 1_000, 1, 9_500);
    for (let i = 0; i < 9_996; i++) store.hit(`b-${i}`, 1_000, 5, 10_000);
    expect(tracked(store).has("idle")).toBe(true); // 9,999 hits: no sweep yet
    store.hit("b-last", 1_000, 5, 10_000); // the 10,000th hit sweeps
    const kept = tracked(store);
    expect(kept.has("idle")).toBe(false);
    expect(kept.has("edge")).toBe(true);
    expect(kept.has("recent")).toBe(true);
    expect(kept.size).toBe(2 + 9_997);
  });

  it("sweeps each caller by its own window", () => {
    const store = new MemoryRateLimitStore();
    const hour = 60 * 60_000;
    store.hit("hourly", hour, 1, 0);
    store.hit("secondly", 1_000, 1, 0);
    for (let i = 0; i < 9_998; i++) store.hit(`b-${i}`, 1_000, 5, 60_000);
    const kept = tracked(store);
    expect(kept.has("hourly")).toBe(true);
    expect(kept.has("secondly")).toBe(false);
  });

  it("still answers for a forgotten caller as for a new one", () => {
    const store = new MemoryRateLimitStore();
    expect(store.hit("a", 1_000, 1, 0).allowed).toBe(true);
    for (let i = 0; i < 10_000; i++) store.hit(`b-${i}`, 1_000, 5, 10_000);
    expect(tracked(store).has("a")).toBe(false);
    expect(store.hit("a", 1_000, 1, 10_000)).toEqual({ allowed: true, count: 1 });
  });
});

describe("environment host names", () => {
  it("folds owner, repository and environment into one DNS label, hashing names too long for one", () => {
    expect(environmentLabel("Acme", "Shop.API", "pr-12")).toBe("acme-shop-api-pr-12");
    const long = environmentLabel("a".repeat(40), "b".repeat(40), "pr-1");
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).not.toBe(environmentLabel("a".repeat(40), "b".repeat(40), "pr-2"));
  });

  it("finds the label under the base domain, with or without the port", () => {
    expect(labelOfHost("acme-shop-pr-12.localhost:8787", "localhost:8787")).toBe("acme-shop-pr-12");
    expect(labelOfHost("acme-shop-pr-12.gitway.example", "gitway.example:443")).toBe("acme-shop-pr-12");
    expect(labelOfHost("evil.example", "localhost:8787")).toBeUndefined();
  });
});
