import { escapeMarkdown, hybridRoutesMarkdown, unapprovedBreaking, validationCheck } from "../report/index.js";
import { hasErrors } from "../config/index.js";
import type { CheckOutcome, DeploymentRecord, PipelineDeps } from "./ports.js";
import { readCommit } from "./read-commit.js";
import { applyApprovals, compare, deployTo, unreadableReason } from "./steps.js";
import { trustedSettingsOf } from "./trusted-settings.js";

export interface PromoteRequest {
  owner: string;
  repo: string;
  /** The new head of the production branch. */
  sha: string;
  actor: string;
  trigger: DeploymentRecord["trigger"];
  /**
   * The environments to deploy, in order; default the repository's stages, then production.
   * The Git mode names the one environment a branch stands for.
   */
  environments?: { name: string; kind: "stage" | "production" }[];
}

export interface PromoteResult {
  deployed: string[];
  /** The environment that stopped the promotion, why, and what kind of answer that is (for the sweep's memory). */
  stopped?: { environment: string; reason: string; cause?: "invalid-config" | "not-approved" | "deploy-failed" | "superseded" };
  skipped: { environment: string; reason: string }[];
  /** Per nginx-served environment deployed, the routes nginx hands to the Node gateway behind it. */
  hybridRoutes?: { environment: string; route: string; reason: string }[];
}

/**
 * A new production-branch head: 1. read and validate it; 2. deploy it to each stage in order, then
 * production, stopping at the first that fails; 3. say on the commit what was deployed where.
 * A revert is just another head, so rolling back is `git revert`.
 */
export async function promoteCommit(deps: PipelineDeps, req: PromoteRequest): Promise<PromoteResult | "no-config"> {
  const now = deps.now?.() ?? Date.now();
  const repositoryId = await deps.records.repository(req.owner, req.repo);

  // 1. Read and validate (a repository without gateway config gets no checks on its pushes)
  const head = await readCommit(deps.source, req.sha);
  if (!head.config && head.diagnostics.every((d) => d.rule === "config-not-found")) return "no-config";
  // Validate is known at once: created with its result; only deploy is opened in progress.
  await deps.publisher.started(req.sha, ["deploy"]);
  await deps.publisher.finished(req.sha, { name: "validate", ...validationCheck(head.diagnostics) });
  const result: PromoteResult = { deployed: [], skipped: [] };
  const lines: string[] = [];
  if (!head.config || hasErrors(head.diagnostics)) {
    result.stopped = { environment: "production", reason: "the config has errors (see Gitway / validate); every environment keeps serving what it served", cause: "invalid-config" };
    // The commit is what Git says each target should run: each is failed until a newer one deploys.
    const trustedStages = (await trustedSettingsOf(deps, repositoryId)).settings.stages;
    const targets = req.environments ?? [...trustedStages.map((name) => ({ name, kind: "stage" as const })), { name: "production", kind: "production" as const }];
    for (const { name, kind } of targets) {
      const current = await deps.records.findEnvironment(repositoryId, name);
      if (current?.pinned || current?.reportOnly) continue;
      const env = await deps.records.environment(repositoryId, { name, kind });
      await deps.records.recordDeployment({ environmentId: env.id, commitSha: req.sha, releaseHash: "", files: {}, trigger: req.trigger, actor: req.actor, outcome: "failed", error: unreadableReason(head.diagnostics) });
    }
  } else {
    // 2. Stages in order, then production, as the trusted settings (production's) list them:
    // the commit promoted is judged by what it replaces, and its own settings count once deployed.
    const { settings } = await trustedSettingsOf(deps, repositoryId);
    const targets = req.environments ?? [...settings.stages.map((name) => ({ name, kind: "stage" as const })), { name: "production", kind: "production" as const }];
    for (const { name, kind } of targets) {
      const env = await deps.records.environment(repositoryId, { name, kind });
      const current = await deps.records.findEnvironment(repositoryId, name);
      if (current?.pinned) {
        result.skipped.push({ environment: name, reason: "pinned to a rollback release; unpin it to deploy new commits" });
        continue;
      }
      if (current?.reportOnly) {
        result.skipped.push({ environment: name, reason: "set to report only" });
        continue;
      }
      // A force-push back, or a late event for an older commit: what runs is newer, and stays.
      if (current?.deployedCommitSha && current.deployedCommitSha !== req.sha && (await deps.source.isAncestor?.(req.sha, current.deployedCommitSha))) {
        result.skipped.push({ environment: name, reason: `${req.sha.slice(0, 7)} is older than the commit it runs (${current.deployedCommitSha.slice(0, 7)} descends from it); an older commit never replaces a newer one, but by gitway rollback` });
        continue;
      }
      let report;
      if (current?.deployedCommitSha && current.deployedCommitSha !== req.sha) {
        report = compare(await readCommit(deps.source, current.deployedCommitSha), head, now, settings);
      }
      if (report && kind === "production" && settings.production.requireApproval) {
        report = applyApprovals(report, await deps.records.approvedFingerprints(repositoryId));
        const open = unapprovedBreaking(report);
        if (open.length > 0) {
          result.stopped = { environment: name, reason: `${open.length} breaking change${open.length === 1 ? " was" : "s were"} not approved on a pull request (${open.map((c) => c.fingerprint).join(", ")}), and this repository requires approval before production`, cause: "not-approved" };
          break;
        }
      }
      const outcome = await deployTo(deps, env, head, () => deps.records.values(env.id), { trigger: req.trigger, actor: req.actor, report: report ? { summary: report.summary, changes: report.changes } : undefined });
      if (outcome === "superseded") {
        // The deploy check was opened above: it ends, rather than spinning forever.
        await deps.publisher.finished(req.sha, { name: "deploy", conclusion: "cancelled", title: "Superseded by a newer commit", summary: [`Not deployed to \`${name}\`: a newer commit of the production branch is being deployed.`, ...(lines.length ? ["", "Deployed before it stopped:", ...lines] : []), ...hybridRoutesMarkdown(result.hybridRoutes ?? [])].join("\n") });
        return { ...result, stopped: { environment: name, reason: "superseded by a newer commit", cause: "superseded" } };
      }
      if (outcome === "pinned") {
        result.skipped.push({ environment: name, reason: "pinned to a rollback release; unpin it to deploy new commits" });
        continue;
      }
      if (!outcome.ok) {
        result.stopped = { environment: name, reason: outcome.reason, cause: "deploy-failed" };
        break;
      }
      result.deployed.push(name);
      lines.push(`- \`${name}\`: ${env.url} (release \`${outcome.releaseHash}\`)`);
      if (outcome.hybridRoutes?.length) result.hybridRoutes = [...(result.hybridRoutes ?? []), ...outcome.hybridRoutes.map((h) => ({ environment: name, ...h }))];
    }
  }

  // 3. Say what happened
  const skipped = result.skipped.map((s) => `- \`${s.environment}\` skipped: ${escapeMarkdown(s.reason)}`);
  // With nginx in front, the routes it leaves to the Node gateway run at the Node gateway's speed: the operator is told which.
  const hybrid = hybridRoutesMarkdown(result.hybridRoutes ?? []);
  const check: CheckOutcome = result.stopped
    ? {
        name: "deploy",
        conclusion: "failure",
        title: `Promotion stopped at ${result.stopped.environment}`,
        summary: [`Not deployed to \`${result.stopped.environment}\`: ${escapeMarkdown(result.stopped.reason)}.`, "", ...(lines.length ? ["Deployed before it stopped:", ...lines] : []), ...skipped, ...hybrid].join("\n"),
        details: { ...result },
      }
    : { name: "deploy", conclusion: "success", title: `Deployed to ${result.deployed.join(", ") || "no environment"}`, summary: [...lines, ...skipped, ...hybrid].join("\n") || "Nothing to deploy.", details: { ...result } };
  await deps.publisher.finished(req.sha, check);
  return result;
}
