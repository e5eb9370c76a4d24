import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { gitway } from "./run-cli.js";

describe("gitway migrate", () => {
  it("creates the embedded database on first run and applies nothing on the second", () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), "gitway-data-")), "data");
    const env = { GITWAY_DATA_DIR: dataDir, DATABASE_URL: "" };
    const first = gitway(["migrate"], { env });
    expect(first.stderr).toBe("gitway: applied 4 migrations (4 in total) on PGlite\n");
    expect(first.code).toBe(0);
    expect(gitway(["migrate"], { env }).stderr).toBe("gitway: applied 0 migrations (4 in total) on PGlite\n");
  });

  it("exits non-zero when the database cannot be reached", () => {
    const r = gitway(["migrate"], { env: { DATABASE_URL: "postgres://postgres@127.0.0.1:9/none" } });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/gitway: (migration failed|internal error)/);
  });
});
