import type { GatewayConfig } from "../config/index.js";
import type { SmokePlan, SmokeRequest } from "./plan.js";
import { SmokeJudge, type SmokeAnswer, type SmokeVerdict } from "./verdict.js";

/** One row of the smoke check's table: what was sent, what came back, and the verdict. */
export interface SmokeRow {
  operation: string;
  request: string;
  status: number | undefined;
  verdict: SmokeVerdict | { outcome: "skipped"; reason: string };
}

/** Sends one planned request (the key, when minted, in its header) within `timeoutMs`; never throws. */
export type SendSmoke = (request: { method: string; path: string; headers: Record<string, string>; body?: string }, timeoutMs: number) => Promise<SmokeAnswer>;

/**
 * Replays a plan, one request after the other, within `budgetMs` in all: a request the budget no
 * longer covers is not sent and says so. Each answer is judged against the description.
 */
export async function runSmoke(config: GatewayConfig, plan: SmokePlan, send: SendSmoke, options: { key?: string; budgetMs: number; now?: () => number }): Promise<SmokeRow[]> {
  const now = options.now ?? Date.now;
  const judge = new SmokeJudge(config);
  const until = now() + options.budgetMs;
  const rows: SmokeRow[] = [];
  for (const r of plan.requests) {
    const left = until - now();
    const request = `${r.method} ${r.path}`;
    if (left <= 0) {
      rows.push({ operation: r.operation, request, status: undefined, verdict: { outcome: "skipped", reason: `the smoke test's ${Math.round(options.budgetMs / 1000)} s were used up (previews.smoke.timeoutSeconds)` } });
      continue;
    }
    const answer = await send(withKey(r, options.key), left);
    rows.push({ operation: r.operation, request, status: "status" in answer ? answer.status : undefined, verdict: judge.judge(r.op, answer) });
  }
  for (const s of plan.skipped) rows.push({ operation: s.operation, request: "", status: undefined, verdict: { outcome: "skipped", reason: s.reason } });
  return rows;
}

function withKey(r: SmokeRequest, key: string | undefined): { method: string; path: string; headers: Record<string, string>; body?: string } {
  const headers = { ...r.headers };
  if (r.key && key) headers[r.key.header] = r.key.scheme ? `${r.key.scheme} ${key}` : key;
  return { method: r.method, path: r.path, headers, ...(r.body !== undefined ? { body: r.body } : {}) };
}
