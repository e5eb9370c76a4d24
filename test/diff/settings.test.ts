import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { readConfig } from "../../src/config/index.js";
import { CHANGE_RULES, checkDiffSettings } from "../../src/diff/index.js";
import { positionOf, snapshot } from "../helpers.js";

const API = JSON.stringify({ openapi: "3.1.0", info: { title: "t", version: "1" }, servers: [{ url: "https://api.example.com" }], paths: {} });

function read(settings: string) {
  return readConfig(snapshot({ ".github/gitway.yml": settings, "openapi.json": API }));
}

describe("the diff part of .github/gitway.yml", () => {
  it("refuses a severity for a rule id that does not exist, naming the nearest real one, at its key", () => {
    const text = "diff:\n  severity:\n    response-body-property-removed: info\n    response-property-removed: warning\n";
    const { config } = read(text);
    const problems = checkDiffSettings(config!);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({
      rule: "settings-invalid",
      severity: "error",
      file: ".github/gitway.yml",
      message: 'diff.severity names "response-property-removed", which is not a change rule; did you mean "response-body-property-removed"?',
      ...positionOf(text, "response-property-removed"),
    });
  });

  it("accepts every rule id of the registry", () => {
    const { config } = read(`diff:\n  severity:\n${Object.keys(CHANGE_RULES).map((id) => `    ${id}: info`).join("\n")}\n`);
    expect(checkDiffSettings(config!)).toEqual([]);
  });

  it.each(["012345678901", "123456789012", "123e45678901"])("reads the unquoted fingerprint %s as the text written", (fingerprint) => {
    const { config, diagnostics } = read(`diff:\n  ignore:\n    - fingerprint: ${fingerprint}\n      reason: clients migrated\n`);
    expect(diagnostics.filter((d) => d.rule === "settings-invalid")).toEqual([]);
    expect(config!.settings.diff.ignore).toEqual([{ fingerprint, reason: "clients migrated" }]);
  });

  it("gives the README's example only real rule ids", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const section = readme.slice(readme.indexOf("## Repository settings"));
    const example = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
    const severity = (parse(example) as { diff: { severity: Record<string, string> } }).diff.severity;
    expect(Object.keys(severity).length).toBeGreaterThan(0);
    for (const id of Object.keys(severity)) expect(CHANGE_RULES[id], id).toBeDefined();
  });
});
