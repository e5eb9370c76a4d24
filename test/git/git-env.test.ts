import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { gitEnv } from "../../src/git/git-env.js";
import { readRevisionSnapshot } from "../../src/git/revision-snapshot.js";

const SECRETS = { PRIVATE_KEY: "-----BEGIN PRIVATE KEY-----secret", GITWAY_SECRET_KEY: "c2VjcmV0LWtleQ==", DATABASE_URL: "postgres://u:pw@db/x", WEBHOOK_SECRET: "hook-secret", GITWAY_ADMIN_TOKEN: "admin-token-secret" };

let dir: string;
const saved: Record<string, string | undefined> = {};
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "gitway-git-env-"));
  for (const [k, v] of Object.entries({ ...SECRETS, GIT_DIR: join(dir, "nowhere") })) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
});
afterEach(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe("the environment of git child processes", () => {
  it("holds none of the app's secrets, as a git alias running `env` sees it", () => {
    const seen = execFileSync("git", ["-c", "alias.showenv=!env", "showenv"], { cwd: dir, env: gitEnv(), encoding: "utf8" });
    for (const [name, value] of Object.entries(SECRETS)) {
      expect(seen).not.toContain(`${name}=`);
      expect(seen).not.toContain(value);
    }
    expect(seen).toContain("GIT_TERMINAL_PROMPT=0");
    expect(seen).toMatch(/^PATH=/m);
  });

  it("is what reading a commit runs git with: a GIT_DIR in the app's environment does not reach it", async () => {
    const clean = { ...gitEnv(), GIT_DIR: undefined } as unknown as NodeJS.ProcessEnv;
    const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false", ...args], { cwd: dir, env: clean });
    git("init", "-q");
    writeFileSync(join(dir, "gitway.json"), '{"ok":true}');
    git("add", "-A");
    git("commit", "-qm", "one");
    // Inherited, GIT_DIR would point git at a repository that does not exist, and the read would fail.
    const files = await readRevisionSnapshot(dir, "HEAD", 1024);
    expect(files.get("gitway.json")?.toString()).toBe('{"ok":true}');
  });
});
