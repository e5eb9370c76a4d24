import { describe, expect, it } from "vitest";
import { DEFAULT_SETTINGS, type RepoSettings } from "../../src/config/index.js";
import { diffConfigs, settingsGateMoves } from "../../src/diff/index.js";
import { settled } from "./fixtures/gateway-cases.js";

/** Settings as a repository writes them in `.github/gitway.yml`, defaults filled in. */
function settings(yaml: string): RepoSettings {
  return settled(yaml).settings;
}

const moved = (base: string, head: string) => settingsGateMoves(settings(base), settings(head)).map((m) => `${m.loosens ? "loosens" : "tightens"}: ${m.message}`);

describe("a change to .github/gitway.yml", () => {
  it.each([
    ["a rule turned off", "", "diff:\n  severity:\n    route-authentication-removed: off\n", "loosens: diff.severity sets the change rule route-authentication-removed from breaking to off"],
    ["a rule turned down", "", "diff:\n  severity:\n    operation-removed: warning\n", "loosens: diff.severity sets the change rule operation-removed from breaking to warning"],
    ["a change accepted", "", "diff:\n  ignore:\n    - fingerprint: 3f9a1c0d2b7e\n      reason: fine\n", "loosens: diff.ignore now accepts the change 3f9a1c0d2b7e"],
    ["a lower approval permission", "", "approvals:\n  permission: read\n", "loosens: approvals.permission went from write to read"],
    ["a neutral changes check", "", "checks:\n  breaking: neutral\n", "loosens: checks.breaking went from failure to neutral"],
    ["fork previews opened", "", "previews:\n  forks: auto\n", "loosens: previews.forks went from approve to auto"],
    ["production approval dropped", "production:\n  requireApproval: true\n", "", "loosens: production.requireApproval went from true to false"],
    ["production moved", "", "production:\n  branch: evil\n", "loosens: production.branch went from the default branch to evil"],
    ["a stage dropped", "stages: [staging]\n", "", "loosens: stages no longer lists staging: production is reached without it"],
    ["breaking changes allowed on a major version", "", "diff:\n  allowBreakingOnMajorVersion: true\n", "loosens: diff.allowBreakingOnMajorVersion went from false to true"],
    ["previews given a stage's values", "", "previews:\n  inherit: staging\n", "loosens: previews.inherit went from none to staging"],
    ["the smoke test of previews turned off", "", "previews:\n  smoke: off\n", "loosens: previews.smoke went from on to off"],
    ["the smoke test allowed unsafe methods", "", "previews:\n  smoke:\n    unsafe: true\n", "loosens: previews.smoke.unsafe went from false to true"],
  ])("loosens a gate when %s", (_what, base, head, expected) => {
    expect(moved(base, head)).toEqual([expected]);
  });

  it.each([
    ["a rule turned up", "", "diff:\n  severity:\n    route-policy-added: breaking\n", "tightens: diff.severity sets the change rule route-policy-added from info to breaking"],
    ["a higher approval permission", "", "approvals:\n  permission: maintain\n", "tightens: approvals.permission went from write to maintain"],
    ["fork previews closed", "", "previews:\n  forks: off\n", "tightens: previews.forks went from approve to off"],
    ["the smoke test of previews turned back on", "previews:\n  smoke: off\n", "", "tightens: previews.smoke went from off to on"],
    ["an acceptance withdrawn", "diff:\n  ignore:\n    - fingerprint: 3f9a1c0d2b7e\n      reason: fine\n", "", "tightens: diff.ignore no longer accepts the change 3f9a1c0d2b7e"],
  ])("tightens a gate when %s", (_what, base, head, expected) => {
    expect(moved(base, head)).toEqual([expected]);
  });

  it("moves nothing when only what does not gate changes (the comment, the config folder)", () => {
    expect(moved("", "comment: false\n")).toEqual([]);
    expect(settingsGateMoves(DEFAULT_SETTINGS, DEFAULT_SETTINGS)).toEqual([]);
  });

  it("is reported at its line in .github/gitway.yml as a breaking security change, judged by the settings passed in, not the head's", () => {
    const head = settled("comment: true\ndiff:\n  severity:\n    route-authentication-removed: off\n");
    const report = diffConfigs(settled(""), head, { settings: DEFAULT_SETTINGS, settingsChanges: true });
    const change = report.changes.find((c) => c.rule === "settings-gate-loosened")!;
    expect(change).toMatchObject({ level: "breaking", category: "security", head: { file: ".github/gitway.yml", line: 4, pointer: "/diff/severity/route-authentication-removed" } });
    expect(change.fingerprint).toMatch(/^[0-9a-f]{12}$/);
    expect(report.summary.breaking).toBe(1);
    // The CLI judges a tree by its own settings: their change is not reported there.
    expect(diffConfigs(settled(""), head).changes.map((c) => c.rule)).not.toContain("settings-gate-loosened");
  });
});
