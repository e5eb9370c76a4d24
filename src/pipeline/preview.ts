import { diagnostic, hasErrors, sortDiagnostics, tryPath } from "../config/index.js";
import { blobLinks, changesCheck, impactBullets, noConfigCheck, pullRequestComment, unapprovedBreaking, validationCheck, type PreviewState } from "../report/index.js";
import { readImpact } from "./impact.js";
import type { CheckOutcome, DeploymentRecord, EnvironmentSpec, MintedKey, PipelineDeps, ReadSide } from "./ports.js";
import { smokePlanOf, smokeTest } from "./smoke.js";
import { readCommit } from "./read-commit.js";
import { applyApprovals, compare, deployTo, protectedRouteCount, unreadableReason, withoutSecrets } from "./steps.js";
import { forkPreviewMark, trustedSettingsOf } from "./trusted-settings.js";
import type { RepoSettings } from "../config/index.js";

export interface PreviewRequest {
  owner: string;
  repo: string;
  /** `pr-<n>` for a pull request, `branch-<slug>` for a previewed branch. */
  environment: EnvironmentSpec & { kind: "preview" };
  headSha: string;
  baseSha: string | undefined;
  /** The head lives in another repository: no secret values reach its preview. */
  fork: boolean;
  actor: string;
  trigger: DeploymentRecord["trigger"];
}

export type PreviewResult = "no-config" | "superseded" | "served" | "not-deployed";

export const APPROVE_ACTION = { identifier: "approve-breaking", label: "Approve breaking", description: "Accept these breaking changes" } as const;
export const DEPLOY_PREVIEW_ACTION = { identifier: "deploy-preview", label: "Deploy preview", description: "Preview this fork's head (no secrets)" } as const;

const CHECKS = ["validate", "changes", "preview"] as const;

/**
 * A change under review (a pull request or a previewed branch):
 * 1. read head and base; 2. validate; 3. diff, with the approvals given so far and who production's
 * traffic says each breaking change would hit;
 * 4. deploy the head as a preview; 5. publish the checks; 6. replay its examples against it (smoke);
 * 7. sum them up in one comment.
 */
export async function previewChange(deps: PipelineDeps, req: PreviewRequest): Promise<PreviewResult> {
  const now = deps.now?.() ?? Date.now();
  const repositoryId = await deps.records.repository(req.owner, req.repo);
  // No check is opened in progress: each is created with its result once known (one write each,
  // paced per installation: a burst, then one a second), and nothing is written before the preview serves.

  // 1. Read
  // Head and base at once: on GitHub each read is a round trip, and the preview waits for both.
  const [head, base] = await Promise.all([readCommit(deps.source, req.headSha), req.baseSha ? readCommit(deps.source, req.baseSha) : undefined]);
  if (!head.config && !base?.config && head.diagnostics.every((d) => d.rule === "config-not-found")) {
    for (const name of CHECKS) await deps.publisher.finished(req.headSha, { name, ...noConfigCheck() });
    return "no-config";
  }
  // The head's own settings are validated and diffed; the gates come from the trusted side.
  const { settings } = await trustedSettingsOf(deps, repositoryId);

  // 2. Validate (an upstream the preview may not reach is known once the release is built, below)
  let validate: CheckOutcome = { name: "validate", ...validationCheck(head.diagnostics) };

  // 3. Diff, with approvals (new ones first, when this run is an approval)
  // A head that cannot be read has no change report: a diff against half a config would be fiction.
  const headReadable = head.config !== undefined && !hasErrors(head.diagnostics);
  let report = headReadable ? compare(base, head, now, settings) : undefined;
  const pullRequest = req.environment.pullRequest;
  if (report && pullRequest !== undefined) report = applyApprovals(report, await deps.records.approvedFingerprints(repositoryId, pullRequest));
  // Who production's traffic says each breaking change would hit.
  const impact = await readImpact(deps, repositoryId, report, settings);
  const changes: CheckOutcome = {
    name: "changes",
    ...changesCheck(report, { ...(impact ? { impact } : {}), pullRequest: pullRequest !== undefined, breakingConclusion: settings.checks.breaking, baseUnreadable: headReadable ? baseNote(base) : "The head's gateway config could not be read (see Gitway / validate), so there is no change report for it.", compared: req.baseSha ? { base: req.baseSha.slice(0, 7), head: req.headSha.slice(0, 7) } : undefined, ...(deps.web ? { link: blobLinks(deps.web, { base: req.baseSha, head: req.headSha }) } : {}) }),
    details: report ? { summary: report.summary } : {},
  };
  if (report && pullRequest !== undefined && unapprovedBreaking(report).length > 0) changes.actions = [APPROVE_ACTION];

  // 4. Deploy, with the smoke test's key among the preview's consumers when a route asks for one
  const plan = headReadable ? smokePlanOf(deps, settings, head) : undefined;
  let key: MintedKey | undefined;
  let smoke: CheckOutcome | undefined;
  let preview: Awaited<ReturnType<typeof deployPreview>>;
  try {
    const mint = plan?.needsKey && deps.smoke ? async (environmentId: number) => void (key = await deps.smoke!.mintKey(environmentId)) : undefined;
    preview = await deployPreview(deps, req, repositoryId, head, report, settings, mint);
    if ("refused" in preview && preview.refused) validate = { name: "validate", ...validationCheck(sortDiagnostics([...head.diagnostics, diagnostic("upstream-not-allowed", preview.refused.reason.replace(/^upstream-not-allowed: /, ""), preview.refused.where)])) };

    // 5. Publish: reviewers see these at once, however long the smoke test takes
    await deps.publisher.finished(req.headSha, validate);
    await deps.publisher.finished(req.headSha, changes);
    await deps.publisher.finished(req.headSha, preview.check);
    if (preview.result === "superseded") return "superseded";

    // 6. Smoke: the description's own examples, replayed through the preview's gateway
    if (plan && deps.smoke && preview.result === "served" && preview.environment) smoke = await smokeTest({ smoke: deps.smoke }, preview.environment, head.config!, plan, settings, key);
  } finally {
    // The key served the test only: it is revoked whatever happened, before the smoke check is told.
    await key?.revoke();
  }
  if (smoke) await deps.publisher.finished(req.headSha, smoke);

  // 7. Comment
  if (pullRequest !== undefined && settings.comment && preview.environment) {
    await deps.publisher.comment(pullRequest, preview.environment, pullRequestComment({ validate, changes, preview: preview.state, ...(smoke ? { smoke } : {}), headSha: req.headSha, ...(impact && report ? { impact: impactBullets(report.changes, impact) } : {}) }));
  }
  return preview.result;
}

function baseNote(base: ReadSide | undefined): string | undefined {
  if (!base) return undefined;
  if (!base.config) return "The base commit has no readable gateway config, so there is nothing to compare with: every route is new.";
  return undefined;
}

async function deployPreview(deps: PipelineDeps, req: PreviewRequest, repositoryId: number, head: ReadSide, report: ReturnType<typeof compare>, settings: RepoSettings, mintSmokeKey?: (environmentId: number) => Promise<void>) {
  const name = req.environment.name;
  const skipped = (reason: string, state: PreviewState, conclusion: CheckOutcome["conclusion"] = "neutral") => ({
    result: "not-deployed" as const,
    state,
    environment: undefined as undefined | Awaited<ReturnType<PipelineDeps["records"]["environment"]>>,
    check: { name: "preview", conclusion, title: `Not deployed: ${reason}`, summary: `The preview \`${name}\` was not updated: ${reason}.` } satisfies CheckOutcome,
  });
  const env = await deps.records.environment(repositoryId, req.fork ? { ...req.environment, fork: true } : req.environment);
  const before = await deps.records.findEnvironment(repositoryId, name);
  const stillServing = before?.deployedCommitSha ? { url: env.url, commit: before.deployedCommitSha } : undefined;

  if (!head.config || hasErrors(head.diagnostics)) {
    const reason = "the config has errors (see Gitway / validate)";
    await deps.records.recordDeployment({ environmentId: env.id, commitSha: head.sha, releaseHash: "", files: {}, trigger: req.trigger, actor: req.actor, outcome: "failed", error: unreadableReason(head.diagnostics) });
    return { ...skipped(reason, { state: "not-deployed", environment: name, reason, ...(stillServing ? { stillServing } : {}) }), environment: env };
  }
  if (req.fork && settings.previews.forks !== "auto") {
    const waiting = await forkWaits(deps, req, repositoryId, settings);
    if (waiting) {
      const check: CheckOutcome = { name: "preview", conclusion: "neutral", title: waiting.title, summary: waiting.summary, ...(waiting.action ? { actions: [DEPLOY_PREVIEW_ACTION] } : {}) };
      return { result: "not-deployed" as const, environment: env, state: { state: "skipped", reason: waiting.comment } as PreviewState, check };
    }
  }
  const inherit = settings.previews.inherit;
  const valuesNow = async () => {
    const stored = await deps.records.values(env.id, inherit ? { repositoryId, name: inherit } : undefined);
    return req.fork ? withoutSecrets(stored) : stored;
  };
  // Minted before the values are read, so the release (in every gateway process) knows the key.
  await mintSmokeKey?.(env.id);
  const stored = await valuesNow();
  const outcome = await deployTo(deps, env, head, valuesNow, { trigger: req.trigger, actor: req.actor, report: report ? { summary: report.summary, changes: report.changes } : undefined, fork: req.fork });
  if (outcome === "superseded" || outcome === "pinned") {
    return { result: "superseded" as const, state: { state: "skipped", reason: "superseded by a newer commit" } as PreviewState, environment: env, check: { name: "preview", conclusion: "cancelled", title: "Superseded by a newer commit", summary: "A newer commit of this change is being previewed; this one was not deployed." } satisfies CheckOutcome };
  }
  if (!outcome.ok) {
    const refused = outcome.code === "UPSTREAM_NOT_ALLOWED" && outcome.where ? { reason: outcome.reason, where: outcome.where } : undefined;
    return { ...skipped(outcome.reason, { state: "not-deployed", environment: name, reason: outcome.reason, ...(stillServing ? { stillServing } : {}) }, "failure"), environment: env, refused };
  }
  const keySource = inherit && stored.consumers.length > 0 ? inherit : undefined;
  const protectedRoutes = protectedRouteCount(head.config);
  const tryUrl = env.url.replace(/\/+$/, "") + tryPath(head.config);
  return {
    result: "served" as const,
    environment: env,
    state: { state: "serving", url: tryUrl, environment: name, label: env.label, commit: head.sha, protectedRoutes, keySource } as PreviewState,
    check: {
      name: "preview",
      conclusion: "success",
      title: `Serving at ${env.url}`,
      summary: `The preview \`${name}\` serves commit \`${head.sha.slice(0, 7)}\` (release \`${outcome.releaseHash}\`) at ${env.url}\n\n\`\`\`sh\ncurl ${tryUrl}\n\`\`\``,
      detailsUrl: env.url,
      details: { environment: name, url: env.url, release: outcome.releaseHash },
    } satisfies CheckOutcome,
  };
}

/**
 * Whether a fork's preview waits: never deployed when the trusted settings say `forks: off`, and
 * with `approve` until someone with the approval permission presses Deploy preview for this head.
 */
async function forkWaits(deps: PipelineDeps, req: PreviewRequest, repositoryId: number, settings: RepoSettings): Promise<{ title: string; summary: string; comment: string; action: boolean } | undefined> {
  if (settings.previews.forks === "off") {
    const reason = "this repository does not preview pull requests from forks (previews.forks: off)";
    return { title: "Not deployed: pull request from a fork", summary: `The preview was not deployed: ${reason}.`, comment: reason, action: false };
  }
  const pullRequest = req.environment.pullRequest;
  if (pullRequest !== undefined && (await deps.records.approvedFingerprints(repositoryId, pullRequest)).has(forkPreviewMark(req.headSha))) return undefined;
  const who = `someone with the \`${settings.approvals.permission}\` permission`;
  return {
    title: "Waiting for a maintainer: pull request from a fork",
    summary: `This pull request comes from a fork, so its preview waits until ${who} presses **Deploy preview** for commit \`${req.headSha.slice(0, 7)}\`. Each new push needs a new press. A fork's preview never receives secret values.`,
    comment: `this pull request comes from a fork: its preview waits for a maintainer to press Deploy preview on the Gitway / preview check (each new push needs a new press)`,
    action: pullRequest !== undefined,
  };
}
