import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { UsageFlusher } from "../../src/app/usage-flusher.js";
import { HOUR_MS, UsageCounter } from "../../src/gateway/index.js";
import { addUsage, migrateStore, openStore, pruneUsageOlderThan, usageTotals, type Store } from "../../src/store/index.js";
import pg from "pg";
import { describeEachDriver, postgres } from "./drivers.js";

const open: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (open.length) await open.pop()!();
});

const orders = { id: "GET /orders", operation: "listOrders" };
const health = { id: "GET /health", operation: "GET /health" };

describe("the usage counter", () => {
  it("counts calls per hour, environment, operation, consumer and status class, anonymous when no consumer", () => {
    let now = Date.UTC(2026, 11, 3, 9, 59, 59);
    const counter = new UsageCounter({ now: () => now });
    counter.count("acme-shop-production", orders, "mobile-app", 200);
    counter.count("acme-shop-production", orders, "mobile-app", 201);
    counter.count("acme-shop-production", orders, undefined, 401);
    counter.count("acme-shop-production", health, undefined, 503);
    now += 1_000; // the next hour
    counter.count("acme-shop-production", orders, "mobile-app", 204);
    const nine = Date.UTC(2026, 11, 3, 9);
    expect(counter.drain()).toEqual([
      { hour: nine, environment: "acme-shop-production", operation: "listOrders", route: "GET /orders", consumer: "mobile-app", status: "2xx", count: 2 },
      { hour: nine, environment: "acme-shop-production", operation: "listOrders", route: "GET /orders", consumer: "anonymous", status: "4xx", count: 1 },
      { hour: nine, environment: "acme-shop-production", operation: "GET /health", route: "GET /health", consumer: "anonymous", status: "5xx", count: 1 },
      { hour: nine + HOUR_MS, environment: "acme-shop-production", operation: "listOrders", route: "GET /orders", consumer: "mobile-app", status: "2xx", count: 1 },
    ]);
    expect(counter.size).toBe(0);
  });

  it("drops new keys beyond its bound and counts the calls dropped, while known keys keep counting", () => {
    const counter = new UsageCounter({ maxRows: 2 });
    counter.count("e", orders, "a", 200);
    counter.count("e", orders, "b", 200);
    counter.count("e", orders, "c", 200);
    counter.count("e", orders, "c", 200);
    counter.count("e", orders, "a", 200);
    expect(counter.takeDropped()).toBe(2);
    expect(counter.takeDropped()).toBe(0);
    expect(counter.drain().map((r) => [r.consumer, r.count])).toEqual([
      ["a", 2],
      ["b", 1],
    ]);
  });

  it("adds rows given back to what was counted meanwhile", () => {
    const counter = new UsageCounter({ maxRows: 2 });
    counter.count("e", orders, "a", 200);
    const taken = counter.drain();
    counter.count("e", orders, "a", 200);
    counter.count("e", orders, "b", 200);
    counter.restore([...taken, { ...taken[0]!, consumer: "c" }]);
    expect(counter.drain().map((r) => [r.consumer, r.count])).toEqual([
      ["a", 2],
      ["b", 1],
    ]);
    expect(counter.takeDropped()).toBe(1);
  });
});

describeEachDriver("usage in the store", (driver) => {
  async function store(): Promise<Store> {
    const s = await driver.open();
    open.push(() => s.close());
    await migrateStore(s);
    return s;
  }

  it("adds the counts of several processes for the same hour, and sums a window per operation and consumer", async () => {
    const s = await store();
    const now = Date.now();
    const hour = now - (now % HOUR_MS);
    const row = { hour, environment: "acme-shop-production", operation: "listOrders", route: "GET /orders", consumer: "mobile-app", status: "2xx", count: 5 };
    await addUsage(s.db, [row]);
    await addUsage(s.db, [{ ...row, count: 7 }, { ...row, status: "5xx", count: 1 }, { ...row, hour: hour - 40 * 86_400_000, count: 100 }, { ...row, environment: "acme-shop-pr-1", count: 3 }]);
    expect(await usageTotals(s.db, { environment: "acme-shop-production", days: 30 })).toEqual([{ operation: "listOrders", route: "GET /orders", consumer: "mobile-app", calls: 13, byStatus: { "2xx": 12, "5xx": 1 } }]);
    expect((await usageTotals(s.db, { environment: "acme-shop-production", days: 60 }))[0]!.calls).toBe(113);
    expect(await usageTotals(s.db, { environment: "acme-shop-production", days: 30, routes: ["GET /other"] })).toEqual([]);
  });

  it("prunes hours older than GITWAY_USAGE_DAYS and keeps the rest", async () => {
    const s = await store();
    const now = Date.now();
    const row = { hour: now - (now % HOUR_MS), environment: "e", operation: "op", route: "GET /", consumer: "anonymous", status: "2xx", count: 1 };
    await addUsage(s.db, [row, { ...row, hour: row.hour - 91 * 86_400_000 }]);
    expect(await pruneUsageOlderThan(s.db, 90)).toBe(1);
    expect((await usageTotals(s.db, { environment: "e", days: 366 }))[0]!.calls).toBe(1);
  });
});

describeEachDriver(
  "usage writes stuck behind a lock",
  (driver) => {
    it("gives up a write stuck behind a lock, writes nothing of it, and writes every count once when the lock is gone", async () => {
      const s = await driver.open();
      open.push(() => s.close());
      await migrateStore(s);
      const counter = new UsageCounter();
      const logs: string[] = [];
      const flusher = new UsageFlusher({ counter, write: (rows) => addUsage(s.db, rows, 300), log: (_l, m) => void logs.push(m) });
      for (let i = 0; i < 5; i++) counter.count("e", orders, "mobile-app", 200);
      const locker = new pg.Client({ connectionString: (s as Store & { url: string }).url });
      await locker.connect();
      try {
        await locker.query("BEGIN; LOCK TABLE usage IN ACCESS EXCLUSIVE MODE");
        await flusher.flush();
        expect(logs).toEqual([expect.stringMatching(/^usage: counts kept in memory until the store answers \(.*statement timeout/)]);
        counter.count("e", orders, "mobile-app", 200);
        await locker.query("COMMIT");
      } finally {
        await locker.end();
      }
      await flusher.flush();
      expect((await usageTotals(s.db, { environment: "e", days: 1 }))[0]!.calls).toBe(6);
    });
  },
  [postgres],
);

describe("the usage flusher", () => {
  it("keeps the counts while the embedded database is closed, and writes them all once one is open again", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gitway-usage-"));
    open.push(async () => rmSync(dir, { recursive: true, force: true }));
    let current = await openStore({ dataDir: dir });
    await migrateStore(current);
    const counter = new UsageCounter();
    const logs: string[] = [];
    const flusher = new UsageFlusher({ counter, write: (rows) => addUsage(current.db, rows), log: (_l, m) => void logs.push(m) });
    for (let i = 0; i < 3; i++) counter.count("e", orders, "mobile-app", 200);
    await flusher.flush();
    await current.close();

    for (let i = 0; i < 4; i++) counter.count("e", orders, "mobile-app", 200);
    counter.count("e", orders, "partner-acme", 500);
    await flusher.flush();
    expect(logs).toEqual([expect.stringMatching(/^usage: counts kept in memory until the store answers/)]);
    expect(counter.size).toBe(2);

    current = await openStore({ dataDir: dir });
    open.push(() => current.close());
    await flusher.stop();
    expect(logs.at(-1)).toBe("usage: the store answers again; 2 usage row(s) written");
    expect(await usageTotals(current.db, { environment: "e", days: 1 })).toEqual([
      { operation: "listOrders", route: "GET /orders", consumer: "mobile-app", calls: 7, byStatus: { "2xx": 7 } },
      { operation: "listOrders", route: "GET /orders", consumer: "partner-acme", calls: 1, byStatus: { "5xx": 1 } },
    ]);
  });

  it("logs how many calls it dropped when the buffer was full", async () => {
    const counter = new UsageCounter({ maxRows: 1 });
    const logs: string[] = [];
    const flusher = new UsageFlusher({ counter, write: async () => Promise.reject(new Error("connection refused")), log: (_l, m) => void logs.push(m) });
    counter.count("e", orders, "a", 200);
    counter.count("e", orders, "b", 200);
    counter.count("e", orders, "c", 200);
    await flusher.flush();
    expect(logs).toEqual(["usage: 2 call(s) not counted: the buffer of distinct usage rows is full while the store is away", "usage: counts kept in memory until the store answers (connection refused)"]);
  });
});
