import { configReadLimits, selectConfigFiles, withReadTimeout, type ConfigReadLimits, type FileContent, type Snapshot } from "../config/index.js";
import type { ConfigSource } from "../pipeline/index.js";
import type { Octokit, RepoId } from "./octokit.js";

export class SourceError extends Error {
  readonly code = "SOURCE_UNREADABLE";
}

export interface GitHubSourceOptions {
  maxFileBytes: number;
  /** A repository holding more JSON/YAML files than this is refused with a clear reason. */
  maxFiles?: number;
  /** The total size and the read timeout (the GitHub App, the Git mode and the CLI share them). */
  limits?: Partial<ConfigReadLimits>;
}

/**
 * The config files of a commit read through the API: the tree once, then each JSON/YAML blob.
 * No clone, and no request to anything but the GitHub API.
 */
export class GitHubSource implements ConfigSource {
  /** One job may read a commit twice (settings, then the use case): the API is asked once. */
  private readonly read = new Map<string, Promise<Snapshot>>();

  constructor(
    private readonly octokit: Octokit,
    private readonly repo: RepoId,
    private readonly options: GitHubSourceOptions,
  ) {}

  snapshot(sha: string): Promise<Snapshot> {
    let snapshot = this.read.get(sha);
    if (!snapshot) {
      snapshot = this.fetch(sha);
      this.read.set(sha, snapshot);
      snapshot.catch(() => this.read.delete(sha));
    }
    return snapshot;
  }

  /** GitHub's compare of `of...sha`: "behind" (or "identical") when `sha` is an ancestor of `of`. */
  async isAncestor(sha: string, of: string): Promise<boolean> {
    try {
      const { data } = await this.octokit.rest.repos.compareCommitsWithBasehead({ ...this.repo, basehead: `${of}...${sha}`, per_page: 1 });
      return data.status === "behind" || data.status === "identical";
    } catch (e) {
      if ((e as { status?: number }).status === 404) return false; // a commit GitHub no longer knows (force-pushed away)
      throw e;
    }
  }

  private fetch(sha: string): Promise<Snapshot> {
    const limits = configReadLimits({ ...this.options.limits, maxFileBytes: this.options.maxFileBytes, ...(this.options.maxFiles !== undefined ? { maxFiles: this.options.maxFiles } : {}) });
    let stopped = false;
    return withReadTimeout(this.fetchWithin(sha, limits, () => stopped), limits, `commit ${sha.slice(0, 7)}`, () => (stopped = true));
  }

  private async fetchWithin(sha: string, limits: ConfigReadLimits, stopped: () => boolean): Promise<Snapshot> {
    const { data: tree } = await this.octokit.rest.git.getTree({ ...this.repo, tree_sha: sha, recursive: "true" });
    if (tree.truncated) throw new SourceError(`the tree of ${sha} is too large for the API to list whole; keep the gateway config in a smaller repository`);
    const blobs = tree.tree.filter((e) => e.type === "blob" && e.path && e.sha).map((e) => ({ path: e.path!, sha: e.sha!, size: e.size ?? 0 }));
    const { load, oversized } = selectConfigFiles(blobs, limits, `commit ${sha.slice(0, 7)}`);
    const out = new Map<string, FileContent>();
    for (const e of oversized) out.set(e.path, { size: e.size });
    const queue = [...load];
    // A few blobs at a time: fast for a normal repository, gentle on the API's secondary limits.
    await Promise.all(
      Array.from({ length: Math.min(4, queue.length) }, async () => {
        for (let e = queue.shift(); e && !stopped(); e = queue.shift()) {
          const { data } = await this.octokit.rest.git.getBlob({ ...this.repo, file_sha: e.sha });
          out.set(e.path, Buffer.from(data.content, data.encoding === "base64" ? "base64" : "utf8"));
        }
      }),
    );
    return out;
  }
}
