import { describe, expect, it } from "vitest";
import { readConfig } from "../../src/config/index.js";
import { CHANGE_RULES, diffConfigs } from "../../src/diff/index.js";
import { BOUNDS, CONSTRAINTS } from "../../src/diff/rules.js";
import { snapshot } from "../helpers.js";
import { TYPE, VALUES } from "./fixtures/schema-pairs.js";

function rulesFor(base: Record<string, unknown>, head: Record<string, unknown>): string[] {
  const doc = (schema: Record<string, unknown>) =>
    readConfig(snapshot({ "openapi.json": JSON.stringify({ openapi: "3.1.0", info: { title: "t", version: "1" }, servers: [{ url: "https://a.example" }], paths: { "/p": { post: { requestBody: { content: { "application/json": { schema: { type: "object", properties: { v: schema } } } } }, responses: { "200": { description: "ok" } } } } } }) })).config!;
  return diffConfigs(doc(base), doc(head)).changes.map((c) => c.rule);
}

describe("every schema keyword family in the rule registry", () => {
  const boundCases = BOUNDS.flatMap(({ keyword, stem, kind }) => {
    const type = TYPE[keyword]!;
    const low = { type, [keyword]: 5 };
    const high = { type, [keyword]: 7 };
    const tighter = kind === "min" ? "increased" : "decreased";
    const looser = kind === "min" ? "decreased" : "increased";
    return [
      { rule: `request-body-${stem}-${tighter}`, base: kind === "min" ? low : high, head: kind === "min" ? high : low },
      { rule: `request-body-${stem}-${looser}`, base: kind === "min" ? high : low, head: kind === "min" ? low : high },
      { rule: `request-body-${stem}-added`, base: { type }, head: low },
      { rule: `request-body-${stem}-removed`, base: low, head: { type } },
    ];
  });
  const constraintCases = CONSTRAINTS.flatMap(({ keyword, stem }) => {
    const type = TYPE[keyword];
    const t = type ? { type } : {};
    const [a, b] = VALUES[keyword]!;
    if (keyword === "x-extensible-enum") return [{ rule: "request-body-enum-value-removed", base: { ...t, [keyword]: a }, head: { ...t, [keyword]: b } }];
    return [
      { rule: `request-body-${stem}-added`, base: t, head: { ...t, [keyword]: a } },
      { rule: `request-body-${stem}-removed`, base: { ...t, [keyword]: a }, head: t },
      ...(keyword === "uniqueItems" ? [] : [{ rule: `request-body-${stem}-changed`, base: { ...t, [keyword]: a }, head: { ...t, [keyword]: b } }]),
    ];
  });

  it.each([...boundCases, ...constraintCases])("reports $rule for a minimal pair", ({ rule, base, head }) => {
    expect(CHANGE_RULES[rule]).toBeDefined();
    expect(rulesFor(base, head)).toEqual([rule]);
  });
});

describe("a pattern meeting the values of a pull request", () => {
  it("judges an enum that replaces a backtracking pattern in linear time", () => {
    const started = performance.now();
    const rules = rulesFor({ type: "string", pattern: "^(a+)+$" }, { type: "string", enum: [`${"a".repeat(30)}!`, "aaa"] });
    expect(performance.now() - started).toBeLessThan(1_000);
    // One value is one the pattern refused: the enum is not just a narrower pattern.
    expect(rules).toEqual(["request-body-became-enum", "request-body-pattern-removed"]);
  });
});
