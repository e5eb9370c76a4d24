import { DEFAULT_SETTINGS, type Diagnostic, type GatewayConfig, type RepoSettings } from "../config/index.js";
import { formatDiagnosticLine } from "../report/index.js";
import { diffConfigs, summarize, type ChangeReport } from "../diff/index.js";
import { DeployError } from "./errors.js";
import { filesOf } from "./read-commit.js";
import { EnvironmentBusyError, swapRelease } from "./swap.js";
import type { DeploymentRecord, EnvironmentRef, EnvironmentValues, HybridRoute, PipelineDeps, ReadSide } from "./ports.js";

/** The steps the use cases share, each small and named for what it does. */

export function settingsOf(side: ReadSide | undefined): RepoSettings {
  return side?.config?.settings ?? DEFAULT_SETTINGS;
}

/** Approved fingerprints turn breaking changes into accepted ones, saying who approved them. */
export function applyApprovals(report: ChangeReport, approved: ReadonlyMap<string, string>): ChangeReport {
  const changes = report.changes.map((c) => (!c.accepted && approved.has(c.fingerprint) ? { ...c, accepted: { reason: `approved by @${approved.get(c.fingerprint)}` } } : c));
  return { changes, summary: summarize(changes) };
}

/** Base to head, judged by `settings` (the trusted side's: the head's own never decide). */
export function compare(base: ReadSide | undefined, head: ReadSide, now: number, settings: RepoSettings): ChangeReport | undefined {
  if (!base?.config || !head.config) return undefined;
  return diffConfigs(base.config, head.config, { now, settings, settingsChanges: true });
}

/** `$env` names the config needs that the environment does not supply. */
export function missingValues(config: GatewayConfig, vars: Readonly<Record<string, string>>): string[] {
  return [...new Set(config.env.map((r) => r.name))].filter((n) => vars[n] === undefined).sort();
}

/** A fork's pull request never receives a secret: its config could send it anywhere. */
export function withoutSecrets(values: EnvironmentValues): EnvironmentValues {
  const vars = Object.fromEntries(Object.entries(values.vars).filter(([k]) => !values.secretNames.includes(k)));
  return { ...values, vars, secretNames: [] };
}

/** Routes a caller needs a credential for, for the comment's "how to call it". */
export function protectedRouteCount(config: GatewayConfig): number {
  const types = new Map(config.policies.map((p) => [p.name, p.policyType]));
  return config.routes.filter((r) => r.inbound.some((n) => types.get(n) === "api-key-inbound" || types.get(n) === "basic-auth-inbound")).length;
}

export type DeployOutcome = { ok: true; releaseHash: string; hybridRoutes?: HybridRoute[] } | { ok: false; reason: string; code: string; where?: { file: string; line: number } };

/**
 * Deploys a read config to one environment: in the environment's turn (see swap.ts) checks the
 * fence and its values (read then, so a key revoked meanwhile is not built in), swaps the release
 * through the compare-and-set (nothing newer runs, no rollback pins it), then tells the publisher.
 */
export async function deployTo(
  deps: PipelineDeps,
  env: EnvironmentRef,
  head: ReadSide,
  values: () => Promise<EnvironmentValues>,
  record: Pick<DeploymentRecord, "trigger" | "actor" | "report"> & { fork?: boolean },
): Promise<DeployOutcome | "superseded" | "pinned"> {
  const config = head.config!;
  const order = deps.order ?? Date.now();
  let failure: DeployError;
  try {
    const swap = await swapRelease(
      deps,
      env,
      async () => {
        const vars = await values();
        const missing = missingValues(config, vars.vars);
        if (missing.length > 0) {
          const names = missing.map((n) => `$env(${n})`).join(", ");
          throw record.fork
            ? new DeployError("FORK_SECRETS", `this pull request comes from a fork, and previews of forks get no secret values; the config needs ${names}`)
            : new DeployError("ENV_VARIABLE_MISSING", `${env.name} has no value for ${names}; set it with gitway env set ${env.name} NAME=VALUE`);
        }
        return { config, values: vars, record: { commitSha: head.sha, files: filesOf(head), trigger: record.trigger, actor: record.actor, report: record.report, guard: { order, unlessPinned: env.kind !== "preview" } } };
      },
      deps.fence,
    );
    // Refused by the compare-and-set: something given later runs, or a rollback pinned it meanwhile.
    if (!swap.swapped) return swap.reason === "pinned" ? "pinned" : "superseded";
    // GitHub hears of the deployment once it serves: no write (paced per installation) delays the swap.
    await deps.publisher.deploying(env, head.sha);
    await deps.publisher.deployed(env, head.sha, { ok: true });
    return { ok: true, releaseHash: swap.releaseHash, ...(swap.hybridRoutes ? { hybridRoutes: swap.hybridRoutes } : {}) };
  } catch (e) {
    // No turn in time: the job fails and is retried, nothing recorded against the commit.
    if (e instanceof EnvironmentBusyError) throw e;
    failure = e instanceof DeployError ? e : new DeployError("INTERNAL", "the release could not be built; the server log has the details");
  }
  await deps.records.recordDeployment({ environmentId: env.id, commitSha: head.sha, releaseHash: "", files: {}, trigger: record.trigger, actor: record.actor, outcome: "failed", error: failure.message, report: record.report });
  await deps.publisher.deploying(env, head.sha);
  await deps.publisher.deployed(env, head.sha, { ok: false, reason: failure.message });
  return { ok: false, reason: failure.message, code: failure.code, ...(failure.where ? { where: failure.where } : {}) };
}

/** Why a commit could not be deployed, in one line: its first error, at file:line:column. */
export function unreadableReason(diagnostics: readonly Diagnostic[]): string {
  const first = diagnostics.find((d) => d.severity === "error");
  return first ? `the config at this commit has errors; first: ${formatDiagnosticLine(first)}` : "the config at this commit could not be read";
}
