import { ANNOTATIONS_PER_REQUEST, CHECK_TEXT_LIMIT, COMMENT_MARKER, fitText, type CheckAnnotation } from "../report/index.js";
import type { CheckName, CheckOutcome, EnvironmentRef, Publisher } from "../pipeline/index.js";
import type { RepoId } from "./octokit.js";
import type { InstallationWriter, PendingWrite } from "./writer.js";

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

type CheckBody = {
  status: "in_progress" | "completed";
  started_at?: string;
  conclusion?: CheckOutcome["conclusion"];
  completed_at?: string;
  output?: { title: string; summary: string; text?: string; annotations?: ReturnType<typeof toGitHub>[] };
  details_url?: string;
  actions?: NonNullable<CheckOutcome["actions"]>;
};

/**
 * Tells GitHub: check runs (created with their result, or in progress first when the result takes
 * a while; annotations in batches of 50), deployments with statuses, and the one pull-request
 * comment found again by its marker. Nothing is written here: every write is handed to the
 * installation's writer (see writer.ts), which sends it after the job, in GitHub's pace, replacing
 * a write still waiting by a newer one for the same thing. So a job's methods return at once.
 */
export class GitHubPublisher implements Publisher {
  /** Checks this job opened in progress and has not finished: a failing job completes them. */
  private readonly opened = new Map<CheckName, string>();
  private readonly deployingSha = new Map<string, string>();
  /** Deployment writes of this job, handed over when it ends: after its checks and comment, which a reviewer waits for. */
  private readonly records: PendingWrite[] = [];
  /** Every key this job handed to the writer: `published` waits for them. */
  private readonly keys = new Set<string>();

  constructor(
    private readonly writer: InstallationWriter,
    private readonly repo: RepoId,
    /** This app's bot user (`<slug>[bot]`): the one author whose comment carries the marker for real. */
    private readonly options: { botLogin?: () => Promise<string> } = {},
  ) {}

  private checkKey(sha: string, name: CheckName): string {
    return `check ${this.repo.owner}/${this.repo.repo} ${sha} ${name}`;
  }

  /** Hands one check's state to the writer; a state still waiting for the same check is replaced by it. */
  private check(sha: string, name: CheckName, body: CheckBody, laterAnnotations: ReturnType<typeof toGitHub>[][] = []): void {
    const key = this.checkKey(sha, name);
    const { repo, writer } = this;
    this.keys.add(key);
    writer.enqueue({
      key,
      lane: "feedback",
      async send(octokit) {
        const open = writer.openChecks.get(key);
        let id = open;
        if (open === undefined) id = (await octokit.rest.checks.create({ ...repo, name: CHECK_PREFIX + name, head_sha: sha, ...body })).data.id;
        else await octokit.rest.checks.update({ ...repo, check_run_id: open, ...body });
        if (body.status === "completed") writer.openChecks.delete(key);
        else writer.rememberOpenCheck(key, id!);
        // GitHub takes 50 annotations a request; the rest follow in updates, which append them.
        for (const annotations of laterAnnotations) await octokit.rest.checks.update({ ...repo, check_run_id: id!, output: { ...body.output!, annotations } });
      },
    });
  }

  async started(sha: string, names: readonly CheckName[]): Promise<void> {
    const started_at = new Date().toISOString();
    for (const name of names) {
      this.opened.set(name, sha);
      this.check(sha, name, { status: "in_progress", started_at });
    }
  }

  async finished(sha: string, outcome: CheckOutcome): Promise<void> {
    const annotations = (outcome.annotations ?? []).map(toGitHub);
    const output = { title: outcome.title.slice(0, 250), summary: fitText(outcome.summary, CHECK_TEXT_LIMIT), ...(outcome.text ? { text: fitText(outcome.text, CHECK_TEXT_LIMIT) } : {}) };
    const later: ReturnType<typeof toGitHub>[][] = [];
    for (let i = ANNOTATIONS_PER_REQUEST; i < annotations.length; i += ANNOTATIONS_PER_REQUEST) later.push(annotations.slice(i, i + ANNOTATIONS_PER_REQUEST));
    if (this.opened.get(outcome.name) === sha) this.opened.delete(outcome.name);
    this.check(
      sha,
      outcome.name,
      {
        status: "completed",
        conclusion: outcome.conclusion,
        completed_at: new Date().toISOString(),
        output: { ...output, annotations: annotations.slice(0, ANNOTATIONS_PER_REQUEST) },
        ...(outcome.detailsUrl ? { details_url: outcome.detailsUrl } : {}),
        actions: outcome.actions ?? [],
      },
      later,
    );
  }

  /**
   * Completes the check runs a failed attempt left open, saying why: as failed when the job gives
   * up, as neutral when another attempt follows (it opens check runs of its own).
   */
  async failOpen(reason: string, final: boolean, fallback?: { sha: string; names: readonly CheckName[] }): Promise<void> {
    const completed_at = new Date().toISOString();
    const gaveUp = { title: "Gitway could not finish this check", summary: fitText(`Gitway gave up after several attempts: ${reason}\n\nRe-run the check once the cause is fixed.`) };
    // Checks are created with their result, so a job may fail with none open: at the last attempt they still say why.
    if (final && fallback && this.opened.size === 0) {
      for (const name of fallback.names) this.check(fallback.sha, name, { status: "completed", conclusion: "failure", completed_at, output: gaveUp });
      return;
    }
    for (const [name, sha] of this.opened) {
      this.check(sha, name, { status: "completed", conclusion: final ? "failure" : "neutral", completed_at, output: final ? gaveUp : { title: "Retrying", summary: fitText(`This attempt failed and Gitway will try again: ${reason}`) } });
    }
    this.opened.clear();
  }

  async deploying(environment: EnvironmentRef, sha: string): Promise<void> {
    // No write yet: the deployment is created with its result, two writes in all, after the checks.
    this.deployingSha.set(environment.name, sha);
  }

  async deployed(environment: EnvironmentRef, _sha: string, result: { ok: true } | { ok: false; reason: string }): Promise<void> {
    const sha = this.deployingSha.get(environment.name);
    if (sha === undefined) return;
    this.deployingSha.delete(environment.name);
    const { repo } = this;
    this.records.push({
      key: `deployment ${repo.owner}/${repo.repo} ${environment.name}`,
      lane: "record",
      async send(octokit) {
        const { data } = await octokit.rest.repos.createDeployment({
          ...repo,
          ref: sha,
          environment: environment.name,
          description: `Gitway ${environment.kind} ${environment.name}`,
          transient_environment: environment.kind === "preview",
          production_environment: environment.kind === "production",
          required_contexts: [],
          auto_merge: false,
        });
        if (!("id" in data)) throw new Error(`GitHub did not create a deployment for ${environment.name}: ${data.message ?? "no reason given"}`);
        if (result.ok) {
          await octokit.rest.repos.createDeploymentStatus({ ...repo, deployment_id: data.id, state: "success", environment_url: environment.url, description: `Serving at ${environment.url}`.slice(0, STATUS_DESCRIPTION_LIMIT), auto_inactive: true });
        } else {
          const description = result.reason.length > STATUS_DESCRIPTION_LIMIT ? result.reason.slice(0, STATUS_DESCRIPTION_LIMIT - 1) + "…" : result.reason;
          await octokit.rest.repos.createDeploymentStatus({ ...repo, deployment_id: data.id, state: "failure", description });
        }
      },
    });
  }

  async retired(environment: EnvironmentRef): Promise<void> {
    const { repo } = this;
    // The same key as its deployment: a deployment of it still waiting is not created at all.
    this.records.push({
      key: `deployment ${repo.owner}/${repo.repo} ${environment.name}`,
      lane: "record",
      async send(octokit) {
        const { data } = await octokit.rest.repos.listDeployments({ ...repo, environment: environment.name, per_page: 1 });
        const latest = data[0];
        if (latest) await octokit.rest.repos.createDeploymentStatus({ ...repo, deployment_id: latest.id, state: "inactive", description: "Removed: nothing is served here any more" });
      },
    });
  }

  /** A new title and summary for a check run GitHub showed someone (a refused button press), its result unchanged. */
  retitle(checkRunId: number, output: { title: string; summary: string }): void {
    const { repo } = this;
    this.keys.add(`check-run ${repo.owner}/${repo.repo} ${checkRunId}`);
    this.writer.enqueue({
      key: `check-run ${repo.owner}/${repo.repo} ${checkRunId}`,
      lane: "feedback",
      async send(octokit) {
        await octokit.rest.checks.update({ ...repo, check_run_id: checkRunId, output });
      },
    });
  }

  /** The job is over: its deployment writes follow its checks. */
  handOver(): void {
    for (const write of this.records.splice(0)) {
      this.keys.add(write.key);
      this.writer.enqueue(write);
    }
  }

  /** Writes of this installation still wait or are being sent here (false once they are sent, or dropped at a stop). */
  get writing(): boolean {
    return this.writer.pending > 0 || this.writer.busy;
  }

  /** Resolves once every write this job handed over was sent (after handOver); never if the process stops first. */
  published(): Promise<void> {
    return this.writer.whenSent(this.keys);
  }

  async comment(pullRequest: number, _environment: EnvironmentRef, markdown: string): Promise<void> {
    const body = fitText(markdown, CHECK_TEXT_LIMIT);
    const { repo, options } = this;
    this.keys.add(`comment ${repo.owner}/${repo.repo}#${pullRequest}`);
    this.writer.enqueue({
      key: `comment ${repo.owner}/${repo.repo}#${pullRequest}`,
      lane: "feedback",
      async send(octokit) {
        const comments = await octokit.paginate(octokit.rest.issues.listComments, { ...repo, issue_number: pullRequest, per_page: 100 });
        // Only a comment this app wrote counts: anyone (another app too) can paste the marker into their own.
        const login = options.botLogin ? await options.botLogin() : undefined;
        const mine = comments.find((c) => c.body?.includes(COMMENT_MARKER) && c.user?.type === "Bot" && (login === undefined || c.user.login === login));
        if (mine?.body === body) return; // a write that changes nothing waits its turn for nothing
        if (mine) await octokit.rest.issues.updateComment({ ...repo, comment_id: mine.id, body });
        else await octokit.rest.issues.createComment({ ...repo, issue_number: pullRequest, body });
      },
    });
  }
}
