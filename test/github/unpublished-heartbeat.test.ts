import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { recordWhenPublished, UNPUBLISHED_HEARTBEAT_MS, type Answer } from "../../src/github/work.js";
import { sweepAction, UNPUBLISHED_GRACE_MS } from "../../src/github/sweep-rules.js";

/**
 * A head's answer is recorded only once its GitHub writes were sent; until then it is `unpublished`.
 * Another app process's sweep runs an `unpublished` head again after a grace, counted from the last
 * time it was marked: the owner marks it again while its writes still queue, so a slow installation
 * is never posted twice, while a crashed owner's heads are run again.
 */
describe("heads whose GitHub writes are still queued", () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  function owner() {
    const marks: { at: number; decision: string }[] = [];
    let publish!: () => void;
    const publisher = { writing: true, published: () => new Promise<void>((r) => (publish = r)) };
    const memory = { remember: async (_k: string, _s: string, decision: string) => void marks.push({ at: Date.now(), decision }), recall: async () => undefined, jobStatus: async () => undefined };
    const answers: Answer[] = [{ key: "gh:acme/shop:pr-7", sha: "a1", decision: "served" }];
    recordWhenPublished({ memory, log: () => {} }, publisher, answers);
    return { marks, publisher, publish: () => publish() };
  }

  it("are marked unpublished again while the writes wait, so another process's sweep leaves them alone", async () => {
    const started = Date.now();
    const o = owner();
    await vi.advanceTimersByTimeAsync(95_000);
    const beats = o.marks.map((m) => m.at - started);
    expect(beats.length).toBeGreaterThanOrEqual(9);
    expect(o.marks.every((m) => m.decision === "unpublished")).toBe(true);
    // What another process's sweep concludes at any moment: the last mark is always within the grace.
    for (let t = 0; t <= 95_000; t += 1_000) {
      const last = Math.max(0, ...beats.filter((b) => b <= t));
      expect(sweepAction({ head: "a1", deployed: { sha: "a1", idle: false }, job: "done", remembered: { decision: "unpublished", retries: 0, retryAfter: null, since: new Date(started + last) }, writing: false, now: started + t })).toBe("skip");
    }
  });

  it("record their answer once the writes are sent, and are marked no more", async () => {
    const o = owner();
    await vi.advanceTimersByTimeAsync(UNPUBLISHED_HEARTBEAT_MS * 2);
    o.publisher.writing = false;
    o.publish();
    await vi.advanceTimersByTimeAsync(UNPUBLISHED_HEARTBEAT_MS * 5);
    expect(o.marks.at(-1)!.decision).toBe("served");
    expect(o.marks.filter((m) => m.decision === "served")).toHaveLength(1);
  });

  it("stop being marked once the process dropped its writes, so the sweep runs them again after the grace", async () => {
    const started = Date.now();
    const o = owner();
    await vi.advanceTimersByTimeAsync(UNPUBLISHED_HEARTBEAT_MS * 2);
    o.publisher.writing = false; // stopped: its writer dropped what waited, and published() never resolves
    const count = o.marks.length;
    await vi.advanceTimersByTimeAsync(UNPUBLISHED_GRACE_MS * 3);
    expect(o.marks).toHaveLength(count);
    const last = o.marks.at(-1)!.at;
    expect(sweepAction({ head: "a1", deployed: { sha: "a1", idle: false }, job: "done", remembered: { decision: "unpublished", retries: 0, retryAfter: null, since: new Date(last) }, writing: false, now: started + UNPUBLISHED_HEARTBEAT_MS * 2 + UNPUBLISHED_GRACE_MS * 3 })).toBe("queue");
  });
});
