import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { freshPostgresDatabase, POSTGRES_SKIPPED } from "../store/drivers.js";
import { CLI, gitway } from "./run-cli.js";

/** How many migrations the project has: each run below applies all of them, then none. */
const MIGRATIONS = (JSON.parse(readFileSync(new URL("../../migrations/meta/_journal.json", import.meta.url), "utf8")) as { entries: unknown[] }).entries.length;

/** `gitway migrate` as its own process, not waited for. */
function migrateProcess(env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, "migrate"], { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c));
    child.on("exit", (code) => resolve({ code, stderr }));
  });
}

describe("gitway migrate", () => {
  it("creates the embedded database on first run and applies nothing on the second", () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), "gitway-data-")), "data");
    const env = { GITWAY_DATA_DIR: dataDir, DATABASE_URL: "" };
    const first = gitway(["migrate"], { env });
    expect(first.stderr).toBe(`gitway: applied ${MIGRATIONS} migrations (${MIGRATIONS} in total) on PGlite\n`);
    expect(first.code).toBe(0);
    expect(gitway(["migrate"], { env }).stderr).toBe(`gitway: applied 0 migrations (${MIGRATIONS} in total) on PGlite\n`);
  });

  it("exits non-zero when the database cannot be reached", () => {
    const r = gitway(["migrate"], { env: { DATABASE_URL: "postgres://postgres@127.0.0.1:9/none" } });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/gitway: (migration failed|internal error)/);
  });

  it("puts the embedded database in ./data when GITWAY_DATA_DIR is not set", () => {
    const cwd = mkdtempSync(join(tmpdir(), "gitway-cwd-"));
    const r = gitway(["migrate"], { cwd, env: { GITWAY_DATA_DIR: undefined, DATABASE_URL: "" } });
    expect(r.stderr).toBe(`gitway: applied ${MIGRATIONS} migrations (${MIGRATIONS} in total) on PGlite\n`);
    expect(existsSync(join(cwd, "data"))).toBe(true);
  });
});

describe.skipIf(POSTGRES_SKIPPED !== undefined)(`gitway migrate on PostgreSQL${POSTGRES_SKIPPED ? ` (skipped: ${POSTGRES_SKIPPED})` : ""}`, () => {
  it("migrates the database at DATABASE_URL once, even when two processes start at once", async () => {
    const db = await freshPostgresDatabase();
    try {
      const both = await Promise.all([migrateProcess({ DATABASE_URL: db.url }), migrateProcess({ DATABASE_URL: db.url })]);
      expect(both.map((r) => r.code)).toEqual([0, 0]);
      expect(both.map((r) => r.stderr).sort()).toEqual([`gitway: applied 0 migrations (${MIGRATIONS} in total) on PostgreSQL\n`, `gitway: applied ${MIGRATIONS} migrations (${MIGRATIONS} in total) on PostgreSQL\n`]);
      expect(gitway(["migrate"], { env: { DATABASE_URL: db.url } }).stderr).toBe(`gitway: applied 0 migrations (${MIGRATIONS} in total) on PostgreSQL\n`);
    } finally {
      await db.drop();
    }
  });
});
