import type { RepoSettings } from "../config/index.js";
import type { ChangeReport } from "../diff/index.js";
import { impactRoutes, type ConsumerCalls, type ImpactTable } from "../report/index.js";
import type { PipelineDeps } from "./ports.js";

/**
 * Who production traffic says the breaking changes would hit: the calls to every operation they
 * touch, over the trusted settings' window (`diff.impactDays`). Undefined when there is nothing to
 * weigh (no breaking change, no usage port, production never served) or the usage cannot be read:
 * a report then says nothing about callers rather than something wrong.
 */
export async function readImpact(deps: Pick<PipelineDeps, "usage" | "records">, repositoryId: number, report: ChangeReport | undefined, settings: RepoSettings): Promise<ImpactTable | undefined> {
  if (!deps.usage || !report) return undefined;
  const routes = [...new Set(report.changes.filter((c) => c.level === "breaking").flatMap(impactRoutes))];
  if (routes.length === 0) return undefined;
  const production = await deps.records.findEnvironment(repositoryId, "production");
  if (!production?.deployedCommitSha) return undefined;
  const days = Math.min(settings.diff.impactDays, deps.usage.keptDays ?? Infinity);
  let rows: Awaited<ReturnType<NonNullable<PipelineDeps["usage"]>["calls"]>>;
  try {
    rows = await deps.usage.calls(production.label, routes, days);
  } catch {
    return undefined;
  }
  const calls = new Map<string, ConsumerCalls[]>();
  for (const r of rows) {
    const list = calls.get(r.route) ?? [];
    list.push({ consumer: r.consumer, calls: r.calls });
    calls.set(r.route, list);
  }
  return { days, names: settings.diff.impactNames, calls };
}
