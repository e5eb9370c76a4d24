import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { ConfigReadLimits, Snapshot } from "../config/index.js";
import { readRevisionSnapshot } from "./revision-snapshot.js";
import { runGit } from "./run-git.js";

export interface CommitInfo {
  sha: string;
  message: string;
  author: string;
  /** ISO time. */
  at: string;
}

async function git(args: string[], cwd?: string, signal?: AbortSignal): Promise<string> {
  return (await runGit(args, { ...(cwd ? { cwd } : {}), ...(signal ? { signal } : {}) })).toString("utf8");
}

/**
 * A bare mirror of a Git remote (a URL, or a local path) under the data folder: fetched on every
 * poll, read from its object store, never checked out. The source repository is only read.
 */
export class GitMirror {
  constructor(
    /** What `git` can clone: a URL or a local path. */
    readonly remote: string,
    /** Where the bare mirror lives. */
    readonly dir: string,
  ) {}

  /** Clones on first use, then fetches every branch (deleted branches disappear: --prune). */
  async fetch(signal?: AbortSignal): Promise<void> {
    if (!existsSync(`${this.dir}/HEAD`)) {
      mkdirSync(dirname(this.dir), { recursive: true });
      await git(["clone", "--mirror", "--quiet", "--", this.remote, this.dir], undefined, signal);
      return;
    }
    await git(["fetch", "--prune", "--quiet", "origin", "+refs/heads/*:refs/heads/*"], this.dir, signal);
    // The remote's default branch may have changed.
    await git(["remote", "set-head", "origin", "--auto"], this.dir).catch(() => "");
  }

  /** Branch name -> head commit. */
  async branches(): Promise<Map<string, string>> {
    const out = await git(["for-each-ref", "--format=%(objectname) %(refname:strip=2)", "refs/heads"], this.dir);
    const map = new Map<string, string>();
    for (const line of out.split("\n")) {
      const space = line.indexOf(" ");
      if (space > 0) map.set(line.slice(space + 1), line.slice(0, space));
    }
    return map;
  }

  /** The branch the remote's HEAD names: production unless the source says otherwise. */
  async defaultBranch(): Promise<string | undefined> {
    const head = (await git(["symbolic-ref", "--quiet", "HEAD"], this.dir).catch(() => "")).trim();
    return head.startsWith("refs/heads/") ? head.slice("refs/heads/".length) : undefined;
  }

  async commit(sha: string): Promise<CommitInfo> {
    const out = await git(["log", "-1", "--format=%H%x00%s%x00%an%x00%cI", sha, "--"], this.dir);
    const [full, message, author, at] = out.trim().split("\0");
    return { sha: full!, message: message ?? "", author: author ?? "", at: at ?? "" };
  }

  snapshot(sha: string, limits: number | Partial<ConfigReadLimits>, signal?: AbortSignal): Promise<Snapshot> {
    return readRevisionSnapshot(this.dir, sha, limits, signal);
  }

  /** Whether `sha` is `of` or an ancestor of it; false when either is unknown here. */
  async isAncestor(sha: string, of: string, signal?: AbortSignal): Promise<boolean> {
    if (sha.startsWith("-") || of.startsWith("-")) return false;
    try {
      await git(["merge-base", "--is-ancestor", sha, of], this.dir, signal);
      return true;
    } catch (e) {
      const code = (e as { exitCode?: number }).exitCode;
      if (code === 1 || code === 128) return false; // not an ancestor; a commit this mirror does not have
      throw e;
    }
  }
}
