import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * A configuration repository in a temporary folder, as a team keeps one: `main` is production, and
 * each other branch is made from `main`. HEAD always goes back to `main` after a commit, because
 * the remote's HEAD is what names production to a Gitway that polls it.
 */
export class ConfigRepo {
  readonly dir: string;

  constructor(root: string, name = "shop") {
    this.dir = join(root, name);
    mkdirSync(this.dir);
    this.git("init", "--quiet", "--initial-branch=main");
  }

  git(...args: string[]): string {
    return execFileSync("git", ["-c", "user.name=Test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false", ...args], { cwd: this.dir, encoding: "utf8" });
  }

  /** Writes `files` on `branch` in one commit; returns its SHA. */
  commit(branch: string, files: Record<string, string>): string {
    const hasCommits = spawnSync("git", ["rev-parse", "--verify", "HEAD"], { cwd: this.dir }).status === 0;
    if (hasCommits) this.git("checkout", "--quiet", ...(this.git("branch", "--list", branch).trim() ? [branch] : ["-b", branch]));
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(this.dir, path, ".."), { recursive: true });
      writeFileSync(join(this.dir, path), text);
    }
    this.git("add", "-A");
    this.git("commit", "--quiet", "--allow-empty", "-m", "change");
    const sha = this.git("rev-parse", "HEAD").trim();
    this.git("checkout", "--quiet", "main");
    return sha;
  }
}
