import type { Inbound, RequestContext } from "../context.js";
import { problem } from "../problem.js";
import type { RateLimitStore } from "./rate-limit-store.js";

export interface RateLimitOptions {
  rateLimitBy: "ip" | "user" | "all";
  requestsAllowed: number;
  timeWindowMinutes: number;
  headerMode?: "none" | "retry-after";
  throwOnFailure?: boolean;
}

export interface RateLimitServices {
  store: RateLimitStore;
  /** Where a store failure is reported (fail-open keeps serving). */
  warn: (message: string) => void;
  now?: () => number;
}

/**
 * rate-limit-inbound: a sliding window per environment, policy and caller. When the store fails,
 * the request passes (fail-open) unless throwOnFailure asks for a 503.
 */
export function rateLimitInbound(environment: string, policyName: string, options: RateLimitOptions, services: RateLimitServices): Inbound {
  const windowMs = options.timeWindowMinutes * 60_000;
  const limit = options.requestsAllowed;
  const headers = options.headerMode !== "none";
  const now = services.now ?? Date.now;
  const keyOf = (ctx: RequestContext) => (options.rateLimitBy === "all" ? "*" : options.rateLimitBy === "user" ? (ctx.consumer ? `u:${ctx.consumer.name}` : `ip:${ctx.ip}`) : `ip:${ctx.ip}`);
  const prefix = `${environment}|${policyName}|`;

  const decide = (ctx: RequestContext, t: number, r: { allowed: boolean; count: number }) => {
    const resetSeconds = Math.ceil((windowMs - (t % windowMs)) / 1000);
    if (headers) {
      ctx.responseHeaders["ratelimit-limit"] = String(limit);
      ctx.responseHeaders["ratelimit-remaining"] = String(Math.max(0, limit - r.count));
      ctx.responseHeaders["ratelimit-reset"] = String(resetSeconds);
    }
    if (r.allowed) return undefined;
    return problem(429, "too-many-requests", "Too Many Requests", `More than ${limit} requests in ${options.timeWindowMinutes} minute(s); try again in ${resetSeconds} s`, headers ? { headers: { "retry-after": resetSeconds } } : {});
  };
  const failed = (e: unknown) => {
    services.warn(`rate limit store failed (${options.throwOnFailure ? "refusing" : "letting the request through"}): ${(e as Error).message}`);
    return options.throwOnFailure ? problem(503, "rate-limit-unavailable", "Service Unavailable", "The rate limit could not be checked; try again shortly") : undefined;
  };

  return (ctx) => {
    const t = now();
    let r;
    try {
      r = services.store.hit(prefix + keyOf(ctx), windowMs, limit, t);
    } catch (e) {
      return failed(e);
    }
    if (r instanceof Promise) return r.then((v) => decide(ctx, t, v), failed);
    return decide(ctx, t, r);
  };
}
