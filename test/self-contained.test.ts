import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
// What is not the project: installed, built, generated or local state (as .gitignore lists it).
const NOT_OURS = new Set([".git", "node_modules", "dist", "data", ".bench-cache", "coverage", "scratch", "test-results", ".stryker-tmp", "reports"]);
// Only the corpus suites (npm run test:corpus) may know where the workplace keeps third-party data.
const CORPUS_SUITES = "test/corpus/";
// Spelled in parts so this file does not match itself.
const OUTSIDE = ["..", "shared"].join("/");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (NOT_OURS.has(name)) return [];
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [relative(ROOT, path)];
  });
}

describe("the repository is the whole project", () => {
  const all = files(ROOT);

  it("holds the seed example the README's commands and the CLI tests use", () => {
    expect(all).toEqual(expect.arrayContaining(["examples/seed-orders/config/routes.oas.json", "examples/seed-orders/config/policies.json"]));
  });

  it("has no file outside the corpus suites that points at a folder beside the clone", () => {
    const pointing = all.filter((f) => !f.startsWith(CORPUS_SUITES) && readFileSync(join(ROOT, f), "latin1").includes(OUTSIDE));
    expect(pointing).toEqual([]);
  });

  it("links its design from the README, and every relative link of the README resolves inside the clone", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    expect(readme).toContain("](docs/architecture.md)");
    const targets = [...readme.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1]!).filter((t) => !/^[a-z]+:/.test(t));
    expect(targets.length).toBeGreaterThan(2);
    expect(targets.filter((t) => t.startsWith("..") || !existsSync(join(ROOT, t)))).toEqual([]);
  });
});
