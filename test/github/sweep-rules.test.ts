import { describe, expect, it } from "vitest";
import { MAX_DEPLOY_RETRIES, retryAfter, sweepAction, UNPUBLISHED_GRACE_MS, type HeadState, type Remembered } from "../../src/github/sweep-rules.js";

const NOW = Date.parse("2026-12-03T07:00:00Z");
const state = (s: Partial<HeadState>): HeadState => ({ head: "b".repeat(40), deployed: undefined, job: undefined, remembered: undefined, writing: false, now: NOW, ...s });
const remembered = (decision: Remembered["decision"], retries = 0, after: Date | null = null): Remembered => ({ decision, retries, retryAfter: after });

describe("what the sweep does about one environment's head", () => {
  it("queues a head it has never seen", () => {
    expect(sweepAction(state({}))).toBe("queue");
  });

  it("leaves alone a head that is deployed, queued or running", () => {
    expect(sweepAction(state({ deployed: { sha: "b".repeat(40), idle: false } }))).toBe("skip");
    expect(sweepAction(state({ job: "queued" }))).toBe("skip");
    expect(sweepAction(state({ job: "running", remembered: remembered("deploy-failed", 1, new Date(NOW - 1)) }))).toBe("skip");
  });

  it("never asks again what was answered: invalid config, not deployable, no config, closed, removed for idling", () => {
    for (const decision of ["served", "invalid-config", "not-deployable", "no-config", "closed", "removed-idle"] as const) {
      expect(sweepAction(state({ remembered: remembered(decision), deployed: { sha: "a".repeat(40), idle: false } }))).toBe("skip");
      expect(sweepAction(state({ remembered: remembered(decision), job: "superseded" }))).toBe("skip");
    }
  });

  it("queues again a head whose job was lost: superseded with no newer commit, or no longer recorded", () => {
    expect(sweepAction(state({ remembered: remembered("queued"), job: "superseded" }))).toBe("queue");
    expect(sweepAction(state({ remembered: remembered("queued"), job: undefined }))).toBe("queue");
  });

  it("takes a job that ran to its end as the answer, even when nothing was remembered", () => {
    expect(sweepAction(state({ job: "done" }))).toBe("skip");
    expect(sweepAction(state({ remembered: remembered("queued"), job: "failed" }))).toBe("skip");
  });

  it("retries a failed production deploy only once its backoff has passed, and at most three times", () => {
    expect(sweepAction(state({ remembered: remembered("deploy-failed", 1, new Date(NOW + 1)), job: "done" }))).toBe("skip");
    expect(sweepAction(state({ remembered: remembered("deploy-failed", 1, new Date(NOW - 1)), job: "done" }))).toBe("queue");
    expect(sweepAction(state({ remembered: remembered("deploy-failed", MAX_DEPLOY_RETRIES, new Date(NOW - 1)), job: "done" }))).toBe("queue");
    expect(sweepAction(state({ remembered: remembered("deploy-failed", MAX_DEPLOY_RETRIES + 1, new Date(NOW - 1)), job: "done" }))).toBe("skip");
  });

  it("runs again a deployed head whose checks never reached GitHub, once no live process can still be sending them", () => {
    const deployed = { sha: "b".repeat(40), idle: false };
    const unpublished = (ago: number): Remembered => ({ ...remembered("unpublished"), since: new Date(NOW - ago) });
    expect(sweepAction(state({ remembered: unpublished(UNPUBLISHED_GRACE_MS + 1), job: "done", deployed }))).toBe("queue");
    // Another process sharing the store may be sending them right now.
    expect(sweepAction(state({ remembered: unpublished(UNPUBLISHED_GRACE_MS - 1), job: "done", deployed }))).toBe("skip");
    // This process holds writes of the installation: they are among them.
    expect(sweepAction(state({ remembered: unpublished(UNPUBLISHED_GRACE_MS + 1), job: "done", deployed, writing: true }))).toBe("skip");
    expect(sweepAction(state({ remembered: unpublished(UNPUBLISHED_GRACE_MS + 1), job: "running", deployed }))).toBe("skip");
    expect(sweepAction(state({ remembered: remembered("served"), job: "done", deployed }))).toBe("skip");
  });

  it("waits 10, 20, then 40 minutes after each failure", () => {
    expect([1, 2, 3].map((n) => (retryAfter(n, NOW).getTime() - NOW) / 60_000)).toEqual([10, 20, 40]);
  });

  it("removes an idle live preview, whatever its head", () => {
    expect(sweepAction(state({ deployed: { sha: "b".repeat(40), idle: true } }))).toBe("remove");
    expect(sweepAction(state({ deployed: { sha: null, idle: true }, remembered: remembered("invalid-config") }))).toBe("remove");
  });
});
