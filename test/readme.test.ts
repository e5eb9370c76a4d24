import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { RULES } from "../src/config/index.js";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

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
  // The parameter's own lifecycle rules, which share ids with schema changes at a parameter.
  const PARAMETER_LIFECYCLE = ["request-parameter-deprecated", "request-parameter-sunset-removed", "request-parameter-sunset-invalid"];
  const schemaIds = new Set(places.flatMap((p) => Object.keys(schemaSuffixes()).map((s) => `${p}-${s}`)).filter((id) => !PARAMETER_LIFECYCLE.includes(id)));

  // The whole row: the README's level, category and wording are the registry's, not a copy that drifts.
  it.each(Object.keys(CHANGE_RULES).filter((id) => !schemaIds.has(id)))("documents the change rule %s as the registry has it", (rule) => {
    const { level, category, about } = CHANGE_RULES[rule]!;
    expect(readme).toContain(`| \`${rule}\` | ${level} | ${category} | ${about} |`);
  });

  // A row may go on with a note in brackets after the registry's wording.
  it.each(Object.entries(schemaSuffixes()))("documents the schema change %s with its effect and wording", (suffix, { effect, about }) => {
    const row = readme.split("\n").find((line) => line.startsWith(`| \`${suffix}\` | `));
    expect(row).toMatch(new RegExp(`^${escapeRegExp(`| \`${suffix}\` | ${effect}: ${about}`)}( \\(.+\\))? \\|$`));
  });

  it("files every schema change under contract, with its place and wording", () => {
    for (const id of schemaIds) {
      const rule = CHANGE_RULES[id];
      if (!rule) continue;
      const place = places.find((p) => id.startsWith(`${p}-`))!;
      const suffix = id.slice(place.length + 1);
      expect(rule, id).toMatchObject({ category: "contract", about: `${place.replace("-", " ")}: ${schemaSuffixes()[suffix]!.about}.` });
    }
  });
});

describe("the README's schema change levels", async () => {
  const { CHANGE_RULES } = await import("../src/diff/index.js");
  const { schemaSuffixes } = await import("../src/diff/rules.js");
  const places = ["request-parameter", "request-body", "response-body", "response-header"];
  const section = (heading: string) => readme.slice(readme.indexOf(heading)).split(/\n(?=#)/)[0]!;
  const rows = (text: string) => text.split("\n").filter((l) => /^\| `/.test(l)).map((l) => l.split("|").slice(1, -1).map((c) => c.trim()));

  // The effect table: `suffix` | effect: what it does.
  const effects = new Map(rows(section("## Change rules")).filter((r) => r.length === 2).map(([suffix, effect]) => [suffix!.replaceAll("`", ""), effect!.split(":")[0]!]));
  // The exceptions table: `suffix`, ... | where | level | why.
  const exceptions = new Map<string, string>();
  for (const [suffixes, where, level] of rows(section("### Levels the effect alone does not decide"))) {
    const at = where === "everywhere" ? places : where === "request" || where === "response" ? places.filter((p) => p.startsWith(where)) : [where!];
    for (const suffix of suffixes!.split(",").map((x) => x.trim().replaceAll("`", ""))) for (const place of at) exceptions.set(`${place}-${suffix}`, level!);
  }

  /** Request: tighter breaks callers; response: looser breaks readers; changed breaks both. */
  function documentedLevel(place: string, suffix: string): string {
    const exception = exceptions.get(`${place}-${suffix}`);
    if (exception) return exception;
    const effect = effects.get(suffix);
    if (effect === "changed") return "breaking";
    if (effect === "neutral") return "info";
    return (place.startsWith("request") ? effect === "tighter" : effect === "looser") ? "breaking" : "info";
  }

  it("lists exceptions only for schema changes that exist", () => {
    expect(exceptions.size).toBeGreaterThan(20);
    for (const id of exceptions.keys()) expect(CHANGE_RULES[id], id).toBeDefined();
  });

  // Only the schema changes the registry has at that place (some cannot happen there, as required-property-removed in a request).
  it.each(places.flatMap((place) => Object.keys(schemaSuffixes()).map((suffix) => ({ id: `${place}-${suffix}`, place, suffix }))).filter(({ id }) => CHANGE_RULES[id] !== undefined))("documents the level of $id", ({ place, suffix }) => {
    expect(documentedLevel(place, suffix)).toBe(CHANGE_RULES[`${place}-${suffix}`]!.level);
  });
});
