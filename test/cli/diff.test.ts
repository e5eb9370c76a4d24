import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SEED_DIR } from "../helpers.js";
import { gitway } from "./run-cli.js";

/** The seed example with the api-key policy taken off its route, as a pull request might. */
function seedWithoutAuth(): string {
  const dir = mkdtempSync(join(tmpdir(), "gitway-diff-"));
  cpSync(SEED_DIR, dir, { recursive: true });
  const routes = join(dir, "config/routes.oas.json");
  writeFileSync(routes, readFileSync(routes, "utf8").replace('"inbound": ["api-key-inbound", "rate-limit-inbound"]', '"inbound": ["rate-limit-inbound"]'));
  return dir;
}

/** A plain-format repository: openapi.json with GET /orders (an optional `status` query unless dropped), and optional files beside it. */
function plainRepo(options: { status?: boolean; version?: string; info?: Record<string, unknown>; files?: Record<string, string> } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "gitway-plain-"));
  const parameters = options.status === false ? [] : [{ name: "status", in: "query", schema: { type: "string" } }];
  const info = options.info ?? { title: "Orders", version: options.version ?? "1.0.0" };
  writeFileSync(join(dir, "openapi.json"), JSON.stringify({ openapi: "3.1.0", info, servers: [{ url: "https://api.example.com" }], paths: { "/orders": { get: { operationId: "listOrders", parameters, responses: { "200": { description: "ok" } } } } } }, null, 2));
  for (const [path, text] of Object.entries(options.files ?? {})) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

describe("gitway diff", () => {
  it("reports auth removed from the seed example as breaking/security and exits 1", () => {
    const r = gitway(["diff", SEED_DIR, seedWithoutAuth()]);
    expect(r.stdout).toMatch(/^breaking +security +GET \/api\/v1\/orders +route-authentication-removed: api-key-inbound was removed/m);
    expect(r.stdout).toMatch(/^1 breaking, 0 warnings, 0 info$/m);
    expect(r.code).toBe(1);
  });

  it("prints {changes, summary} for --format json", () => {
    const r = gitway(["diff", SEED_DIR, seedWithoutAuth(), "--format", "json"]);
    const json = JSON.parse(r.stdout) as { changes: { rule: string; level: string; category: string; fingerprint: string; head: { file: string; line: number } }[]; summary: unknown };
    expect(json.summary).toEqual({ breaking: 1, warning: 0, info: 0, accepted: 0 });
    expect(json.changes[0]).toMatchObject({ rule: "route-authentication-removed", level: "breaking", category: "security", head: { file: "config/routes.oas.json" } });
  });

  it("renders markdown with user text escaped", () => {
    const r = gitway(["diff", SEED_DIR, seedWithoutAuth(), "--format", "markdown"]);
    expect(r.stdout).toMatch(/^#### Breaking \(1\)$/m);
    expect(r.stdout).toContain("| 🔒 gateway | `GET /api/v1/orders` |");
  });

  it("exits 0 with --fail-on none, and 0 when nothing changed", () => {
    expect(gitway(["diff", SEED_DIR, seedWithoutAuth(), "--fail-on", "none"]).code).toBe(0);
    const same = gitway(["diff", SEED_DIR, SEED_DIR]);
    expect(same.stdout).toBe("0 breaking, 0 warnings, 0 info\n");
    expect(same.code).toBe(0);
  });

  it("diffs two Git revisions of the repository in the working directory, without a checkout", () => {
    const repo = mkdtempSync(join(tmpdir(), "gitway-git-"));
    const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd: repo });
    git("init", "-q");
    cpSync(SEED_DIR, repo, { recursive: true });
    git("add", ".");
    git("commit", "-qm", "seed");
    const routes = join(repo, "config/routes.oas.json");
    writeFileSync(routes, readFileSync(routes, "utf8").replace('"requestsAllowed": 100', '"requestsAllowed": 5').replace("https://api.example.com", "https://v2.example.com"));
    git("commit", "-qam", "move upstream");
    const r = gitway(["diff", "HEAD~1", "HEAD"], { cwd: repo });
    expect(r.stdout).toMatch(/route-upstream-changed: upstream changed from https:\/\/api.example.com to https:\/\/v2.example.com/);
    expect(r.code).toBe(0);
    expect(execFileSync("git", ["status", "--porcelain"], { cwd: repo, encoding: "utf8" })).toBe("");
  });

  it("exits 2 with the diagnostics that made an input unreadable", () => {
    const broken = seedWithoutAuth();
    writeFileSync(join(broken, "config/routes.oas.json"), '{"openapi": "3.1.0",');
    const r = gitway(["diff", SEED_DIR, broken]);
    expect(r.stderr).toMatch(/^head: config\/routes\.oas\.json:1:21: error json-syntax: /m);
    expect(r.code).toBe(2);
  });

  it("exits 2 when the head's settings name a rule that does not exist, with the nearest rule id", () => {
    const head = seedWithoutAuth();
    mkdirSync(join(head, ".github"), { recursive: true });
    writeFileSync(join(head, ".github/gitway.yml"), "diff:\n  severity:\n    route-authentication-remove: warning\n");
    const r = gitway(["diff", SEED_DIR, head]);
    expect(r.stderr).toMatch(/^head: \.github\/gitway\.yml:3:5: error settings-invalid: diff\.severity names "route-authentication-remove", which is not a change rule; did you mean "route-authentication-removed"\?$/m);
    expect(r.stdout).toBe("");
    expect(r.code).toBe(2);
  });

  it("exits 2 when the head's settings file does not fit its schema, instead of ignoring it", () => {
    const head = seedWithoutAuth();
    mkdirSync(join(head, ".github"), { recursive: true });
    writeFileSync(join(head, ".github/gitway.yml"), "diff:\n  ignore:\n    - fingerprint: abc\n");
    const r = gitway(["diff", SEED_DIR, head]);
    expect(r.stderr).toMatch(/error settings-invalid: /);
    expect(r.code).toBe(2);
  });

  it("accepts a change by the fingerprint written, unquoted, in the head's settings", () => {
    const head = seedWithoutAuth();
    const json = JSON.parse(gitway(["diff", SEED_DIR, head, "--format", "json"]).stdout) as { changes: { fingerprint: string }[] };
    mkdirSync(join(head, ".github"), { recursive: true });
    writeFileSync(join(head, ".github/gitway.yml"), `diff:\n  ignore:\n    - fingerprint: ${json.changes[0]!.fingerprint}\n      reason: agreed with the mobile team\n`);
    const r = gitway(["diff", SEED_DIR, head]);
    expect(r.stdout).toMatch(/^0 breaking, 0 warnings, 0 info, 1 accepted$/m);
    expect(r.code).toBe(0);
  });

  it("exits 2 for a side that is neither a path nor a revision", () => {
    const r = gitway(["diff", SEED_DIR, "no-such-branch-or-path"]);
    expect(r.stderr).toMatch(/neither a file, a directory, nor a Git revision/);
    expect(r.code).toBe(2);
  });

  it("exits 1 on a warning with --fail-on warning, and 0 on the same warning by default", () => {
    const args = ["diff", plainRepo(), plainRepo({ status: false })];
    const plain = gitway(args);
    expect(plain.stdout).toMatch(/^0 breaking, 1 warning, 0 info$/m);
    expect(plain.stdout).toMatch(/request-parameter-removed/);
    expect(plain.code).toBe(0);
    expect(gitway([...args, "--fail-on", "warning"]).code).toBe(1);
    expect(gitway(["diff", plainRepo(), plainRepo(), "--fail-on", "warning"]).code).toBe(0);
  });

  it("diffs a side that has schema errors, saying how many, instead of stopping", () => {
    // info.version missing: an openapi-schema error, but the document is still read.
    const head = plainRepo({ status: false, info: { title: "Orders" } });
    const r = gitway(["diff", plainRepo(), head]);
    expect(r.stderr).toBe("note: head has 1 validation error; run gitway validate to see them\n");
    expect(r.stdout).toMatch(/request-parameter-removed/);
    expect(r.code).toBe(0);
  });
});

describe("gitway diff with the head repository's .github/gitway.yml", () => {
  const settings = (yaml: string) => ({ ".github/gitway.yml": yaml });

  it("applies diff.severity by rule id", () => {
    const r = gitway(["diff", plainRepo(), plainRepo({ status: false, files: settings("diff:\n  severity:\n    request-parameter-removed: breaking\n") })]);
    expect(r.stdout).toMatch(/^1 breaking, 0 warnings, 0 info$/m);
    expect(r.code).toBe(1);
    const off = gitway(["diff", plainRepo(), plainRepo({ status: false, files: settings("diff:\n  severity:\n    request-parameter-removed: 'off'\n") })]);
    expect(off.stdout).toBe("0 breaking, 0 warnings, 0 info\n");
  });

  it("accepts a change listed under diff.ignore by fingerprint, with its reason", () => {
    const raise = "diff:\n  severity:\n    request-parameter-removed: breaking\n";
    const first = JSON.parse(gitway(["diff", plainRepo(), plainRepo({ status: false, files: settings(raise) }), "--format", "json"]).stdout) as { changes: { fingerprint: string }[] };
    const fingerprint = first.changes[0]!.fingerprint;
    const head = plainRepo({ status: false, files: settings(`${raise}  ignore:\n    - fingerprint: ${fingerprint}\n      reason: "clients migrated (API-7)"\n`) });
    const r = gitway(["diff", plainRepo(), head, "--format", "json"]);
    const report = JSON.parse(r.stdout) as { changes: { accepted?: { reason: string } }[]; summary: unknown };
    expect(report.changes.map((c) => c.accepted)).toEqual([{ reason: "clients migrated (API-7)" }]);
    expect(report.summary).toEqual({ breaking: 0, warning: 0, info: 0, accepted: 1 });
    expect(r.code).toBe(0);
  });

  it("accepts breaking changes when info.version's major went up, only with allowBreakingOnMajorVersion", () => {
    const raise = "diff:\n  severity:\n    request-parameter-removed: breaking\n";
    const allowed = gitway(["diff", plainRepo(), plainRepo({ status: false, version: "2.0.0", files: settings(`${raise}  allowBreakingOnMajorVersion: true\n`) })]);
    expect(allowed.stdout).toMatch(/^0 breaking, 0 warnings, 0 info/m);
    expect(allowed.code).toBe(0);
    const minor = gitway(["diff", plainRepo(), plainRepo({ status: false, version: "1.1.0", files: settings(`${raise}  allowBreakingOnMajorVersion: true\n`) })]);
    expect(minor.code).toBe(1);
    const notAllowed = gitway(["diff", plainRepo(), plainRepo({ status: false, version: "2.0.0", files: settings(raise) })]);
    expect(notAllowed.code).toBe(1);
  });
});
