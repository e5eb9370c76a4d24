import { ANNOTATIONS_PER_REQUEST, CHECK_TEXT_LIMIT, COMMENT_MARKER, fitText, type CheckAnnotation } from "../report/index.js";
import type { CheckName, CheckOutcome, EnvironmentRef, Publisher } from "../pipeline/index.js";
import type { Octokit, RepoId } from "./octokit.js";

export const CHECK_PREFIX = "Gitway / ";
/** GitHub keeps a deployment status description to this many characters. */
const STATUS_DESCRIPTION_LIMIT = 140;

function toGitHub(a: CheckAnnotation) {
  return {
    path: a.path,
    start_line: Math.max(1, a.startLine),
    end_line: Math.max(1, a.endLine),
    annotation_level: a.level,
    title: a.title,
    message: a.message,
  };
}

export function checkNameOf(name: string): CheckName | undefined {
  if (!name.startsWith(CHECK_PREFIX)) return undefined;
  const short = name.slice(CHECK_PREFIX.length);
  return ["validate", "changes", "preview", "deploy", "smoke"].includes(short) ? (short as CheckName) : undefined;
}

/**
 * Tells GitHub: check runs (created in progress, completed with annotations in batches of 50),
 * deployments with statuses, and the one pull-request comment found again by its marker.
 */
export class GitHubPublisher implements Publisher {
  private readonly checkRuns = new Map<string, number>();
  private readonly deployments = new Map<string, number>();

  constructor(
    private readonly octokit: Octokit,
    private readonly repo: RepoId,
    /** This app's bot user (`<slug>[bot]`): the one author whose comment carries the marker for real. */
    private readonly options: { botLogin?: () => Promise<string> } = {},
  ) {}

  /** Check runs this publisher created and has not completed: a failing job completes them as failed. */
  get openCheckRuns(): { sha: string; name: CheckName; id: number }[] {
    return [...this.checkRuns].map(([key, id]) => {
      const [sha, name] = key.split(" ");
      return { sha: sha!, name: name as CheckName, id };
    });
  }

  async started(sha: string, names: readonly CheckName[]): Promise<void> {
    for (const name of names) {
      const { data } = await this.octokit.rest.checks.create({ ...this.repo, name: CHECK_PREFIX + name, head_sha: sha, status: "in_progress", started_at: new Date().toISOString() });
      this.checkRuns.set(`${sha} ${name}`, data.id);
    }
  }

  async finished(sha: string, outcome: CheckOutcome): Promise<void> {
    const annotations = (outcome.annotations ?? []).map(toGitHub);
    const output = { title: outcome.title.slice(0, 250), summary: fitText(outcome.summary, CHECK_TEXT_LIMIT), ...(outcome.text ? { text: fitText(outcome.text, CHECK_TEXT_LIMIT) } : {}) };
    const body = {
      ...this.repo,
      status: "completed" as const,
      conclusion: outcome.conclusion,
      completed_at: new Date().toISOString(),
      output: { ...output, annotations: annotations.slice(0, ANNOTATIONS_PER_REQUEST) },
      ...(outcome.detailsUrl ? { details_url: outcome.detailsUrl } : {}),
      actions: outcome.actions ?? [],
    };
    const key = `${sha} ${outcome.name}`;
    let id = this.checkRuns.get(key);
    if (id === undefined) id = (await this.octokit.rest.checks.create({ ...body, name: CHECK_PREFIX + outcome.name, head_sha: sha })).data.id;
    else await this.octokit.rest.checks.update({ ...body, check_run_id: id });
    this.checkRuns.delete(key);
    // GitHub takes 50 annotations a request; the rest follow in updates, which append them.
    for (let i = ANNOTATIONS_PER_REQUEST; i < annotations.length; i += ANNOTATIONS_PER_REQUEST) {
      await this.octokit.rest.checks.update({ ...this.repo, check_run_id: id, output: { ...output, annotations: annotations.slice(i, i + ANNOTATIONS_PER_REQUEST) } });
    }
  }

  /**
   * Completes the check runs a failed attempt left open, saying why: as failed when the job gives
   * up, as neutral when another attempt follows (it opens check runs of its own).
   */
  async failOpen(reason: string, final: boolean, fallback?: { sha: string; names: readonly CheckName[] }): Promise<void> {
    // Checks are created with their result, so a job may fail with none open: at the last attempt they still say why.
    if (final && fallback && this.checkRuns.size === 0) {
      for (const name of fallback.names) {
        await this.octokit.rest.checks.create({ ...this.repo, name: CHECK_PREFIX + name, head_sha: fallback.sha, status: "completed", conclusion: "failure", completed_at: new Date().toISOString(), output: { title: "Gitway could not finish this check", summary: fitText(`Gitway gave up after several attempts: ${reason}\n\nRe-run the check once the cause is fixed.`) } });
      }
      return;
    }
    for (const run of this.openCheckRuns) {
      await this.octokit.rest.checks.update({
        ...this.repo,
        check_run_id: run.id,
        status: "completed",
        conclusion: final ? "failure" : "neutral",
        completed_at: new Date().toISOString(),
        output: final
          ? { title: "Gitway could not finish this check", summary: fitText(`Gitway gave up after several attempts: ${reason}\n\nRe-run the check once the cause is fixed.`) }
          : { title: "Retrying", summary: fitText(`This attempt failed and Gitway will try again: ${reason}`) },
      });
      this.checkRuns.delete(`${run.sha} ${run.name}`);
    }
  }

  async deploying(environment: EnvironmentRef, sha: string): Promise<void> {
    const { data } = await this.octokit.rest.repos.createDeployment({
      ...this.repo,
      ref: sha,
      environment: environment.name,
      description: `Gitway ${environment.kind} ${environment.name}`,
      transient_environment: environment.kind === "preview",
      production_environment: environment.kind === "production",
      required_contexts: [],
      auto_merge: false,
    });
    if (!("id" in data)) throw new Error(`GitHub did not create a deployment for ${environment.name}: ${data.message ?? "no reason given"}`);
    // No "in progress" status: the deployment is pending until its result, one write later.
    this.deployments.set(environment.name, data.id);
  }

  async deployed(environment: EnvironmentRef, _sha: string, result: { ok: true } | { ok: false; reason: string }): Promise<void> {
    const id = this.deployments.get(environment.name);
    if (id === undefined) return;
    this.deployments.delete(environment.name);
    if (result.ok) {
      await this.octokit.rest.repos.createDeploymentStatus({ ...this.repo, deployment_id: id, state: "success", environment_url: environment.url, description: `Serving at ${environment.url}`.slice(0, STATUS_DESCRIPTION_LIMIT), auto_inactive: true });
    } else {
      const description = result.reason.length > STATUS_DESCRIPTION_LIMIT ? result.reason.slice(0, STATUS_DESCRIPTION_LIMIT - 1) + "…" : result.reason;
      await this.octokit.rest.repos.createDeploymentStatus({ ...this.repo, deployment_id: id, state: "failure", description });
    }
  }

  async retired(environment: EnvironmentRef): Promise<void> {
    const { data } = await this.octokit.rest.repos.listDeployments({ ...this.repo, environment: environment.name, per_page: 1 });
    const latest = data[0];
    if (latest) await this.octokit.rest.repos.createDeploymentStatus({ ...this.repo, deployment_id: latest.id, state: "inactive", description: "Removed: nothing is served here any more" });
  }

  async comment(pullRequest: number, _environment: EnvironmentRef, markdown: string): Promise<void> {
    const body = fitText(markdown, CHECK_TEXT_LIMIT);
    const comments = await this.octokit.paginate(this.octokit.rest.issues.listComments, { ...this.repo, issue_number: pullRequest, per_page: 100 });
    // Only a comment this app wrote counts: anyone (another app too) can paste the marker into their own.
    const login = this.options.botLogin ? await this.options.botLogin() : undefined;
    const mine = comments.find((c) => c.body?.includes(COMMENT_MARKER) && c.user?.type === "Bot" && (login === undefined || c.user.login === login));
    if (mine?.body === body) return; // a write that changes nothing waits its turn for nothing
    if (mine) await this.octokit.rest.issues.updateComment({ ...this.repo, comment_id: mine.id, body });
    else await this.octokit.rest.issues.createComment({ ...this.repo, issue_number: pullRequest, body });
  }
}
