import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SEED_DIR } from "../helpers.js";
import { gitway } from "./run-cli.js";

const version = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

describe("gitway help and version", () => {
  it("prints the help with no arguments, and exits 0", () => {
    const r = gitway([]);
    expect([r.code, r.stdout]).toEqual([0, expect.stringMatching(/^Usage: gitway \[options\] \[command\][\s\S]*validate[\s\S]*diff[\s\S]*serve/)]);
  });

  it("gitway help and gitway help <command> print the help", () => {
    expect(gitway(["help"])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^Usage: gitway/) });
    expect(gitway(["help", "serve"])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^Usage: gitway serve \[options\] \[path\][\s\S]*--env-file <file>/) });
  });

  it("--version prints the package version", () => {
    expect(gitway(["--version"])).toMatchObject({ code: 0, stdout: `${version}\n` });
  });
});

describe("option values", () => {
  it.each([
    [["serve", "--port", "http"], "error: option '--port <port>' argument 'http' is invalid. must be a port number from 0 to 65535\n"],
    [["serve", "--port", "70000"], "error: option '--port <port>' argument '70000' is invalid. must be a port number from 0 to 65535\n"],
    [["serve", "--host", "not a host"], "error: option '--host <host>' argument 'not a host' is invalid. must be an IP address (127.0.0.1, ::1, 0.0.0.0) or a host name\n"],
    [["serve", "--env", "A=b"], expect.stringContaining("must be a variable name")],
    [["validate", "--max-file-bytes", "-3"], "error: option '--max-file-bytes <n>' argument '-3' is invalid. must be a positive whole number\n"],
  ])("gitway %j exits 2 with the reason, never a stack trace", (args, stderr) => {
    const r = gitway(args as string[], { cwd: SEED_DIR });
    expect([r.code, r.stderr]).toEqual([2, stderr]);
  });

  it("a port that cannot be listened on is a reason, not an internal error", () => {
    const r = gitway(["serve", SEED_DIR, "--host", "192.0.2.1", "--port", "8080"]);
    expect([r.code, r.stderr]).toEqual([2, "gitway: cannot listen on 192.0.2.1:8080: this machine has no such address\n"]);
  });
});

describe("gitway diff <rev> <rev>", () => {
  function repository(): string {
    const dir = mkdtempSync(join(tmpdir(), "gitway-revs-"));
    cpSync(SEED_DIR, dir, { recursive: true });
    const git = (...args: string[]) => execFileSync("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", ...args], { cwd: dir });
    git("init", "-q", "-b", "main");
    git("add", "-A");
    git("commit", "-qm", "seed");
    const routes = join(dir, "config/routes.oas.json");
    writeFileSync(routes, readFileSync(routes, "utf8").replace('"inbound": ["api-key-inbound", "rate-limit-inbound"]', '"inbound": ["rate-limit-inbound"]'));
    git("commit", "-qam", "no auth");
    return dir;
  }

  it("works from a subdirectory of the repository", () => {
    const dir = repository();
    const r = gitway(["diff", "HEAD~1", "HEAD"], { cwd: join(dir, "config") });
    expect(r.stdout).toMatch(/route-authentication-removed/);
    expect(r.code).toBe(1);
  });

  it("refuses a name that is both a folder and a branch, and says how to pick each", () => {
    const dir = repository();
    mkdirSync(join(dir, "main"));
    const r = gitway(["diff", "main", "HEAD"], { cwd: dir });
    expect([r.code, r.stderr]).toEqual([2, "gitway: main is both a path here and a Git revision; write ./main for the path or main^{commit} for the revision\n"]);
    expect(gitway(["diff", "HEAD~1", "main^{commit}"], { cwd: dir }).stdout).toMatch(/route-authentication-removed/);
  });
});
