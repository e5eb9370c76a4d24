import { pullRequestComment } from "../report/index.js";
import type { PipelineDeps } from "./ports.js";

export interface RetireRequest {
  owner: string;
  repo: string;
  environment: string;
  actor: string;
  /** Why, for the audit log: "pull request closed", "branch deleted", "expired", "uninstalled". */
  reason: string;
  pullRequest?: number;
}

/**
 * An environment that should no longer exist: 1. stop serving it; 2. record it; 3. tell the publisher
 * (the deployment goes inactive); 4. a pull request's comment says the preview is gone.
 */
export async function retireEnvironment(deps: Omit<PipelineDeps, "source">, req: RetireRequest): Promise<boolean> {
  const repositoryId = await deps.records.repository(req.owner, req.repo);
  const env = await deps.records.findEnvironment(repositoryId, req.environment);
  if (!env) return false;
  // In the environment's turn: a swap under way finishes first, and none starts in between.
  await deps.records.exclusive(env.id, async () => {
    await deps.records.markRetired(env.id);
    await deps.deployer.remove(env.label);
  });
  await deps.records.audit({ actor: req.actor, action: "environment.retired", environmentId: env.id, details: { reason: req.reason } });
  await deps.publisher.retired(env);
  if (req.pullRequest !== undefined) await deps.publisher.comment(req.pullRequest, env, pullRequestComment({ preview: { state: "removed", environment: env.name } }));
  return true;
}
