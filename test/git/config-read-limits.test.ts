import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigReadError } from "../../src/config/index.js";
import { gitEnv } from "../../src/git/git-env.js";
import { readDirectorySnapshot } from "../../src/git/local-snapshot.js";
import { readRevisionSnapshot } from "../../src/git/revision-snapshot.js";
import { readCommit } from "../../src/pipeline/read-commit.js";
import { configFiles, forward, route } from "../config/fixtures/seed.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "gitway-read-limits-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A Git repository whose one commit holds `files`; its directory is also the working tree. */
function commit(files: Record<string, string>): string {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false", ...args], { cwd: dir, env: gitEnv(), encoding: "utf8" });
  git("init", "-q");
  git("add", "-A", "-f");
  git("commit", "-qm", "config");
  return git("rev-parse", "HEAD").trim();
}

const CONFIG = configFiles([{ route: route([], forward("https://api.example.com")) }]);

describe("which files of a commit are config", () => {
  it("is the same for a Git revision and a directory: JSON and YAML, never dependencies or CI workflows", async () => {
    const sha = commit({ ...CONFIG, ".github/workflows/ci.yml": "on: push\n", "node_modules/x/package.json": "{}", "docs/notes.md": "# notes\n", ".github/gitway.yml": "checks:\n  breaking: failure\n" });
    const fromGit = [...(await readRevisionSnapshot(dir, sha, {})).keys()].sort();
    const fromDir = [...(await readDirectorySnapshot(dir, {})).keys()].sort();
    expect(fromGit).toEqual([".github/gitway.yml", ...Object.keys(CONFIG)].sort());
    expect(fromDir).toEqual(fromGit);
  });
});

describe("a commit over the read limits", () => {
  it("with more config files than GITWAY_MAX_CONFIG_FILES is not read, from Git or a directory", async () => {
    const sha = commit({ ...CONFIG, "extra/a.json": "{}", "extra/b.yaml": "a: 1\n" });
    for (const read of [() => readRevisionSnapshot(dir, sha, { maxFiles: 3 }), () => readDirectorySnapshot(dir, { maxFiles: 3 })]) {
      const e = await read().catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ConfigReadError);
      expect((e as ConfigReadError).message).toContain("4 JSON/YAML files, more than the 3 Gitway reads (GITWAY_MAX_CONFIG_FILES)");
    }
  });

  it("whose config adds up to more than GITWAY_MAX_CONFIG_BYTES is not read", async () => {
    const sha = commit({ ...CONFIG, "big.json": JSON.stringify({ pad: "x".repeat(4000) }) });
    await expect(readRevisionSnapshot(dir, sha, { maxTotalBytes: 4000 })).rejects.toThrow(/over the 4000 bytes Gitway reads \(GITWAY_MAX_CONFIG_BYTES\)/);
  });

  it("that takes longer than GITWAY_READ_TIMEOUT_SECONDS to read is given up", async () => {
    const sha = commit(CONFIG);
    await expect(readRevisionSnapshot(dir, sha, { timeoutMs: 1 })).rejects.toThrow(/took over 0.001 s \(GITWAY_READ_TIMEOUT_SECONDS\)/);
  });

  it("fails validation with a config-read-limit diagnostic naming the setting, instead of failing the job", async () => {
    const sha = commit({ ...CONFIG, "extra/a.json": "{}" });
    const side = await readCommit({ snapshot: (s) => readRevisionSnapshot(dir, s, { maxFiles: 1 }) }, sha);
    expect(side.config).toBeUndefined();
    expect(side.diagnostics).toEqual([expect.objectContaining({ rule: "config-read-limit", severity: "error", message: expect.stringContaining("GITWAY_MAX_CONFIG_FILES") })]);
  });
});
