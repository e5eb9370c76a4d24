import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { RULES } from "../src/config/index.js";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");

describe("the README", () => {
  it.each(Object.keys(RULES))("documents the validation rule %s", (rule) => {
    expect(readme).toContain(`| \`${rule}\` |`);
  });

  it("gives the two set-up commands, run and test, with npm start first", () => {
    expect(readme).toContain("npm ci && npm start");
    expect(readme).toContain("npm ci && npm test");
    expect(readme.indexOf("npm ci && npm start")).toBeLessThan(readme.indexOf("npm ci && npm test"));
  });

  it.each(["status", "env list", "env set", "keys create", "keys list", "keys revoke", "sync", "rollback", "unpin", "deploy"])("shows the operator command gitway %s", (command) => {
    expect(readme).toContain(`gitway ${command}`);
  });
});

describe("the README's change rules", async () => {
  const { CHANGE_RULES } = await import("../src/diff/index.js");
  const { schemaSuffixes } = await import("../src/diff/rules.js");
  const places = ["request-parameter", "request-body", "response-body", "response-header"];
  const schemaIds = new Set(places.flatMap((p) => Object.keys(schemaSuffixes()).map((s) => `${p}-${s}`)));

  it.each(Object.keys(CHANGE_RULES).filter((id) => !schemaIds.has(id)))("documents the change rule %s", (rule) => {
    expect(readme).toContain(`| \`${rule}\` |`);
  });

  it.each(Object.keys(schemaSuffixes()))("documents the schema change %s", (suffix) => {
    expect(readme).toContain(`| \`${suffix}\` |`);
  });
});
