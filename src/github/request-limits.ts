import { AsyncLocalStorage } from "node:async_hooks";
import type { Octokit } from "./octokit.js";

/** The job a GitHub request is made for: its signal ends the request when the job is abandoned. */
const jobScope = new AsyncLocalStorage<{ signal?: AbortSignal }>();

/** Runs a job's work so that every GitHub request it makes ends when `signal` fires. */
export function withJobSignal<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
  return jobScope.run({ signal }, work);
}

/**
 * Runs `work` with requests that outlive the job's signal (each still has its own timeout): after a
 * job was abandoned, its open check runs must still be completed with the reason.
 */
export function outsideJobSignal<T>(work: () => Promise<T>): Promise<T> {
  return jobScope.run({}, work);
}

/** A rate limit GitHub asked to wait out for longer than is worth holding a worker slot: the job is retried at `retryAt`. */
export class RateLimitedError extends Error {
  readonly code = "RATE_LIMITED";
  constructor(readonly retryAt: Date) {
    super(`GitHub's rate limit is exhausted until ${retryAt.toISOString()}: the job will run again then`);
    this.name = "RateLimitedError";
  }
}

/** When a 403/429 from GitHub says the limit resets: Retry-After (seconds), or X-RateLimit-Reset (epoch seconds) once none remain. */
export function rateLimitReset(error: unknown, now = Date.now()): Date | undefined {
  const e = error as { status?: number; response?: { headers?: Record<string, string | number | undefined> } } | null;
  if (!e || (e.status !== 403 && e.status !== 429)) return undefined;
  const headers = e.response?.headers ?? {};
  const after = Number(headers["retry-after"]);
  if (headers["retry-after"] !== undefined && Number.isFinite(after)) return new Date(now + after * 1000);
  const reset = Number(headers["x-ratelimit-reset"]);
  if (String(headers["x-ratelimit-remaining"]) === "0" && Number.isFinite(reset)) return new Date(Math.max(now, reset * 1000));
  return undefined;
}

const bounded = new WeakSet<object>();

/**
 * Bounds every request of this client: it ends after `timeoutMs` (its retries included) or when the
 * job it is made for is abandoned, whichever comes first; a rate limit that was not waited out
 * (see `waitsOutRateLimit`) becomes a RateLimitedError carrying the reset time.
 */
export function boundRequests(octokit: Octokit, timeoutMs: number): Octokit {
  if (bounded.has(octokit)) return octokit;
  bounded.add(octokit);
  octokit.hook.before("request", (options) => {
    const jobSignal = jobScope.getStore()?.signal;
    const timer = new AbortController();
    const seconds = Math.round(timeoutMs / 100) / 10;
    setTimeout(() => timer.abort(new Error(`GitHub did not answer ${options.method} ${String(options.url)} within ${seconds} s`)), timeoutMs).unref();
    const signal = jobSignal ? AbortSignal.any([jobSignal, timer.signal]) : timer.signal;
    const request = { ...(options.request ?? {}), signal } as Record<string, unknown>;
    // Once the request is abandoned, retrying it only delays the job's clean-up.
    if (signal.aborted) request.retries = 0;
    else signal.addEventListener("abort", () => void (request.retries = 0), { once: true });
    options.request = request as typeof options.request;
  });
  octokit.hook.error("request", (error) => {
    const reset = rateLimitReset(error);
    if (reset) throw new RateLimitedError(reset);
    throw error;
  });
  return octokit;
}

/** Rate-limit waits up to this long are waited out in place; longer ones hand the worker slot back. */
export const RATE_LIMIT_WAIT_IN_PLACE_SECONDS = 5;

/** The throttling plugin's answer to a rate limit: wait short limits out (twice at most), give longer ones back to the queue. */
export function waitsOutRateLimit(retryAfterSeconds: number, retryCount: number): boolean {
  return retryAfterSeconds <= RATE_LIMIT_WAIT_IN_PLACE_SECONDS && retryCount < 2;
}
