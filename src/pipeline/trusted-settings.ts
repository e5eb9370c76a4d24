import { DEFAULT_SETTINGS, type RepoSettings } from "../config/index.js";
import type { PipelineDeps, ReadSide } from "./ports.js";
import { readCommit } from "./read-commit.js";

/**
 * The settings a change is judged and routed by. A pull request or a pushed branch carries its own
 * `.github/gitway.yml`, but what is under review never picks its own rules: these come from what
 * production already runs, or, before anything is deployed, from the default branch's head.
 */
export interface TrustedSettings {
  settings: RepoSettings;
  /** The commit they were read from; undefined when neither side has readable settings (the defaults apply). */
  sha: string | undefined;
  from: "production" | "default-branch" | "defaults";
}

export interface TrustPorts {
  /** The commit production serves, as the store recorded it. */
  productionSha(): Promise<string | undefined>;
  /** The head of the branch production follows by default (GitHub: the default branch; Git mode: the production branch). */
  defaultBranchSha(): Promise<string | undefined>;
  /** A commit's settings, or undefined when it has none that read (no config, or settings with errors). */
  settingsAt(sha: string): Promise<RepoSettings | undefined>;
}

export async function readTrustedSettings(ports: TrustPorts): Promise<TrustedSettings> {
  const deployed = await ports.productionSha();
  if (deployed) {
    const settings = await ports.settingsAt(deployed);
    if (settings) return { settings, sha: deployed, from: "production" };
  }
  const head = await ports.defaultBranchSha();
  if (head) {
    const settings = await ports.settingsAt(head);
    if (settings) return { settings, sha: head, from: "default-branch" };
  }
  return { settings: DEFAULT_SETTINGS, sha: undefined, from: "defaults" };
}

/** Settings that validated: a file with an error gives the defaults, never a half-read gate. */
export function settingsOfSide(side: ReadSide): RepoSettings | undefined {
  if (!side.config || side.diagnostics.some((d) => d.rule === "settings-invalid")) return undefined;
  return side.config.settings;
}

/** The trusted settings of a repository, read through the pipeline's own ports. */
export async function trustedSettingsOf(deps: Pick<PipelineDeps, "source" | "records" | "defaultBranchHead">, repositoryId: number): Promise<TrustedSettings> {
  return readTrustedSettings({
    productionSha: async () => (await deps.records.findEnvironment(repositoryId, "production"))?.deployedCommitSha ?? undefined,
    defaultBranchSha: async () => (await deps.defaultBranchHead?.()) ?? undefined,
    settingsAt: async (sha) => settingsOfSide(await readCommit(deps.source, sha)),
  });
}

/**
 * A fork's preview is deployed once a maintainer presses Deploy preview for that head: the
 * approval is recorded with the pull request's approvals under this mark, so it holds for one SHA.
 */
export function forkPreviewMark(headSha: string): string {
  return `deploy-preview@${headSha}`;
}
