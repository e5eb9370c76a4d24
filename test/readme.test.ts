import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { RULES } from "../src/config/index.js";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");

describe("the README", () => {
  it.each(Object.keys(RULES))("documents the validation rule %s", (rule) => {
    expect(readme).toContain(`| \`${rule}\` |`);
  });

  it("gives the two set-up commands: run and test", () => {
    expect(readme).toContain("npm ci && npx gitway validate ../shared/examples/seed-orders");
    expect(readme).toContain("npm ci && npm test");
  });
});
