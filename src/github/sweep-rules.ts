/**
 * The catch-up sweep's rules, as data in and data out: given what is deployed, what the queue holds
 * and what was last decided for one environment and head, what the sweep does about it.
 */

/**
 * What was last decided for an environment's head; every value but `queued`, `unpublished` and
 * `deploy-failed` is an answer given. `unpublished`: its job ended but the writes that tell GitHub
 * (checks, comment, deployment) were not sent yet; the answer is recorded once they are.
 */
export type SweepDecision = "queued" | "unpublished" | "served" | "invalid-config" | "no-config" | "not-deployable" | "deploy-failed" | "removed-idle" | "closed";

export const SWEEP_DECISIONS: readonly SweepDecision[] = ["queued", "unpublished", "served", "invalid-config", "no-config", "not-deployable", "deploy-failed", "removed-idle", "closed"];

export interface Remembered {
  decision: SweepDecision;
  /** Production deploys of this head that failed so far. */
  retries: number;
  retryAfter: Date | null;
  /** When it was recorded. */
  since?: Date;
}

/** The status of the newest job for this environment and head, if any is still recorded. */
export type JobStatus = "queued" | "running" | "done" | "failed" | "superseded";

export interface HeadState {
  head: string;
  /** The live environment's deployed commit; undefined when no environment is live. */
  deployed: { sha: string | null; idle: boolean } | undefined;
  job: JobStatus | undefined;
  remembered: Remembered | undefined;
  /** This process still holds GitHub writes for the head's installation (an `unpublished` head may be among them). */
  writing: boolean;
  now: number;
}

export type SweepAction = "skip" | "queue" | "remove";

/** A failed production deploy of one head is tried again at most this many times by the sweep (`retries` counts the failures). */
export const MAX_DEPLOY_RETRIES = 3;
const RETRY_BASE_MS = 10 * 60_000;

/**
 * An `unpublished` head is run again only this long after its job ended: the writes of a live app
 * process (this one, or another sharing the store) are normally sent by then.
 */
export const UNPUBLISHED_GRACE_MS = 30_000;

/** When the sweep may try a failed production deploy again: 10, 20, 40 minutes after each failure. */
export function retryAfter(retries: number, now: number): Date {
  return new Date(now + RETRY_BASE_MS * 2 ** Math.max(0, retries - 1));
}

export function sweepAction(s: HeadState): SweepAction {
  if (s.deployed?.idle) return "remove";
  const r = s.remembered;
  // Queued or running already: a second job would only cancel the first.
  if (s.job === "queued" || s.job === "running") return "skip";
  // Its job ended but its writes never reached GitHub (the process that held them crashed): run it
  // again, though it is deployed, so the pull request gets its checks (the redeploy changes nothing).
  if (r?.decision === "unpublished") return s.writing || s.now - (r.since?.getTime() ?? 0) < UNPUBLISHED_GRACE_MS ? "skip" : "queue";
  if (s.deployed && s.deployed.sha === s.head) return "skip";
  if (r?.decision === "deploy-failed") return r.retries <= MAX_DEPLOY_RETRIES && (r.retryAfter?.getTime() ?? 0) <= s.now ? "queue" : "skip";
  if (r && r.decision !== "queued") return "skip";
  // A job that ran to its end gave its answer, even if it was not remembered (an older version).
  if (s.job === "done" || s.job === "failed") return "skip";
  // New, or its job was lost: superseded with no newer commit, or pruned before it ran.
  return "queue";
}
