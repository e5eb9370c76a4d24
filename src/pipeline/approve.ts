import { unapprovedBreaking } from "../report/index.js";
import type { PipelineDeps } from "./ports.js";
import { readCommit } from "./read-commit.js";
import { applyApprovals, compare } from "./steps.js";
import { forkPreviewMark, trustedSettingsOf } from "./trusted-settings.js";

export interface ApproveRequest {
  owner: string;
  repo: string;
  pullRequest: number;
  headSha: string;
  baseSha: string;
  /** Whose permission the adapter has checked. */
  actor: string;
}

/**
 * A reviewer approves the breaking changes of a pull request's head: 1. find the ones still
 * unapproved; 2. record each by fingerprint (and in the audit log), so a later push keeps the
 * approvals of changes that stay the same and a new breaking change needs its own.
 */
export async function approveBreaking(deps: Pick<PipelineDeps, "source" | "records" | "now" | "defaultBranchHead">, req: ApproveRequest): Promise<string[]> {
  const repositoryId = await deps.records.repository(req.owner, req.repo);
  const [base, head] = [await readCommit(deps.source, req.baseSha), await readCommit(deps.source, req.headSha)];
  const { settings } = await trustedSettingsOf(deps, repositoryId);
  const report = compare(base, head, deps.now?.() ?? Date.now(), settings);
  if (!report) return [];
  const open = unapprovedBreaking(applyApprovals(report, await deps.records.approvedFingerprints(repositoryId, req.pullRequest))).map((c) => c.fingerprint);
  if (open.length > 0) await deps.records.approve({ repositoryId, pullRequest: req.pullRequest, headSha: req.headSha, fingerprints: open, actor: req.actor });
  return open;
}

/** A maintainer lets a fork's head be previewed: for this SHA only, a new push needs a new press. */
export async function approveForkPreview(deps: Pick<PipelineDeps, "records">, req: Omit<ApproveRequest, "baseSha">): Promise<void> {
  const repositoryId = await deps.records.repository(req.owner, req.repo);
  await deps.records.approve({ repositoryId, pullRequest: req.pullRequest, headSha: req.headSha, fingerprints: [forkPreviewMark(req.headSha)], actor: req.actor });
}
