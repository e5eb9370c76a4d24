import type { FileContent, Snapshot } from "../config/index.js";
import type { ConfigSource } from "../pipeline/index.js";
import type { Octokit, RepoId } from "./octokit.js";

/** Only these can be config or be reached by a $ref; workflows and dependencies are left alone. */
const CONFIG_FILE = /\.(json|ya?ml)$/i;
const SKIPPED = /(^|\/)(node_modules|\.github\/workflows)\//;

export class SourceError extends Error {
  readonly code = "SOURCE_UNREADABLE";
}

export interface GitHubSourceOptions {
  maxFileBytes: number;
  /** A repository holding more JSON/YAML files than this is refused with a clear reason. */
  maxFiles?: number;
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

  private async fetch(sha: string): Promise<Snapshot> {
    const { data: tree } = await this.octokit.rest.git.getTree({ ...this.repo, tree_sha: sha, recursive: "true" });
    if (tree.truncated) throw new SourceError(`the tree of ${sha} is too large for the API to list whole; keep the gateway config in a smaller repository`);
    const files = tree.tree.filter((e) => e.type === "blob" && e.path && e.sha && CONFIG_FILE.test(e.path) && !SKIPPED.test(e.path));
    const max = this.options.maxFiles ?? 500;
    if (files.length > max) throw new SourceError(`${sha} holds ${files.length} JSON/YAML files, more than the ${max} Gitway reads; keep the gateway config in a smaller repository`);
    const out = new Map<string, FileContent>();
    const queue = [...files];
    // A few blobs at a time: fast for a normal repository, gentle on the API's secondary limits.
    await Promise.all(
      Array.from({ length: Math.min(4, queue.length) }, async () => {
        for (let e = queue.shift(); e; e = queue.shift()) {
          if ((e.size ?? 0) > this.options.maxFileBytes) {
            out.set(e.path!, { size: e.size! });
            continue;
          }
          const { data } = await this.octokit.rest.git.getBlob({ ...this.repo, file_sha: e.sha! });
          out.set(e.path!, Buffer.from(data.content, data.encoding === "base64" ? "base64" : "utf8"));
        }
      }),
    );
    return out;
  }
}
