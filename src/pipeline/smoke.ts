import type { GatewayConfig, RepoSettings } from "../config/index.js";
import { smokeCheck } from "../report/index.js";
import { planSmoke, runSmoke, type SmokePlan } from "../smoke/index.js";
import type { CheckOutcome, EnvironmentRef, MintedKey, PipelineDeps, ReadSide } from "./ports.js";

/** The smoke test a served preview gets: planned from the head's description, limited by the trusted settings. */
export function smokePlanOf(deps: Pick<PipelineDeps, "smoke">, settings: RepoSettings, head: ReadSide): SmokePlan | undefined {
  const smoke = settings.previews.smoke;
  if (!deps.smoke || !smoke.enabled || !head.config) return undefined;
  return planSmoke(head.config, smoke);
}

/** Replays the plan against the preview (the minted key in the routes that ask for one) and words the result as the smoke check. */
export async function smokeTest(deps: Required<Pick<PipelineDeps, "smoke">>, env: EnvironmentRef, config: GatewayConfig, plan: SmokePlan, settings: RepoSettings, key: MintedKey | undefined): Promise<CheckOutcome> {
  const rows = await runSmoke(config, plan, (request, timeoutMs) => deps.smoke.send(env.label, request, timeoutMs), { budgetMs: settings.previews.smoke.timeoutSeconds * 1000, ...(key ? { key: key.key } : {}) });
  const shown = rows.map((r) => ({ operation: r.operation, request: r.request, status: r.status, outcome: r.verdict.outcome, ...("reason" in r.verdict ? { reason: r.verdict.reason } : {}) }));
  return { name: "smoke", ...smokeCheck(shown, { environment: env.name, url: env.url }), detailsUrl: env.url, details: { environment: env.name, operations: shown } };
}
