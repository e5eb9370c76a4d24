import { execFile } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { promisify } from "node:util";
import type { ConfigReadLimits, Snapshot } from "../config/index.js";
import { SnapshotReadError } from "./local-snapshot.js";
import { gitEnv } from "./git-env.js";
import { readRevisionSnapshot } from "./revision-snapshot.js";

const run = promisify(execFile);

export interface CommitInfo {
  sha: string;
  message: string;
  author: string;
  /** ISO time. */
  at: string;
}

/** Git must never ask a question on a terminal nobody watches, nor see the app's secrets. */
const GIT_ENV = gitEnv();

async function git(args: string[], cwd?: string, timeoutMs = 60_000): Promise<string> {
  try {
    const { stdout } = await run("git", args, { cwd, env: GIT_ENV, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string; killed?: boolean };
    const why = err.killed ? `timed out after ${timeoutMs / 1000} s` : (err.stderr || err.message).trim().split("\n").at(-1);
    throw new SnapshotReadError(`git ${args[0]} failed: ${why}`);
  }
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
  async fetch(): Promise<void> {
    if (!existsSync(`${this.dir}/HEAD`)) {
      mkdirSync(dirname(this.dir), { recursive: true });
      await git(["clone", "--mirror", "--quiet", "--", this.remote, this.dir]);
      return;
    }
    await git(["fetch", "--prune", "--quiet", "origin", "+refs/heads/*:refs/heads/*"], this.dir);
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

  snapshot(sha: string, limits: number | Partial<ConfigReadLimits>): Promise<Snapshot> {
    return readRevisionSnapshot(this.dir, sha, limits);
  }
}
