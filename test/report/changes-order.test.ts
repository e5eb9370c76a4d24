import { describe, expect, it } from "vitest";
import { fingerprintOf, summarize, type AffectedPlace, type Change, type ChangeLevel } from "../../src/diff/index.js";
import { changesCheck, renderChangesMarkdown, renderChangesText } from "../../src/report/index.js";

function change(rule: string, operation: string | undefined, message: string, level: ChangeLevel = "breaking", more: Partial<Change> = {}): Change {
  return { fingerprint: fingerprintOf(rule, operation, message), rule, level, category: "contract", operation, message, head: { file: "openapi.json", line: 12, column: 5, pointer: "/paths" }, ...more };
}

const report = (changes: Change[]) => ({ changes, summary: summarize(changes) });
const tableRows = (md: string) => md.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| Kind") && !l.startsWith("| ---"));

/** The breaking changes of a release as the differ finds them, in spec order (field-level first). */
const release = [
  change("response-body-became-nullable", "GET /a", "response 200 (application/json) property x: null is now allowed"),
  change("request-body-new-required-property", "POST /b", "request body (application/json) property y: required property added"),
  change("response-body-type-changed", "GET /c", "response 200 (application/json) property z: type changed from string to integer"),
  change("response-success-status-removed", "POST /d", "response 202 was removed (202 -> 200)"),
  change("operation-path-changed", "GET /new/{id}", "GET /old/{id} moved to /new/{id}: clients calling the old path get 404"),
  change("operation-removed-without-deprecation", "DELETE /e", "DELETE /e was removed without being deprecated first"),
];

describe("the markdown report, worst first", () => {
  it("orders breaking rows by kind: operation removed or moved, status removed, type, requirement, field", () => {
    const kinds = tableRows(renderChangesMarkdown(report(release))).map((l) => l.split(" | ")[0]!.slice(2));
    expect(kinds).toEqual(["removed or moved", "removed or moved", "status or media type", "type", "requirement", "field"]);
  });

  it("opens with the counts, base and head, the removed or moved operations by name, and what must be decided", () => {
    const md = renderChangesMarkdown(report(release), { base: "main:openapi.json", head: "pr-7:openapi.json" });
    const opening = md.split("\n#### ")[0]!.split("\n").filter(Boolean);
    expect(opening).toEqual([
      "**6 breaking, 0 warnings, 0 info** — `main:openapi.json` → `pr-7:openapi.json`",
      "Removed or moved: `DELETE /e`, `GET /new/{id}`.",
      "To decide: 6 breaking changes: keep the old behaviour, bump the major version, or accept each by fingerprint in `diff.ignore`.",
    ]);
  });

  it("leaves no column empty on every row: each row has a kind, an operation (or a dash) and a place", () => {
    for (const row of tableRows(renderChangesMarkdown(report([...release, change("servers-changed", undefined, "server https://a removed", "warning")])))) {
      expect(row.split(" | ").every((cell) => cell.replace(/^\| |\|$/g, "").trim() !== "")).toBe(true);
    }
  });

  it("says before and after, and why a client breaks, on a breaking row", () => {
    const md = renderChangesMarkdown(report(release));
    expect(md).toContain("response 202 was removed (202 -&gt; 200)<br><sub>why: clients expecting it get something else, or are refused</sub>");
  });

  it("says why for a field-level breaking change by its side, not by repeating the message", () => {
    expect(renderChangesMarkdown(report(release))).toContain("null is now allowed<br><sub>why: clients may read values, or miss fields, they did not expect</sub>");
  });

  it("lists the operations that use a shared place directly, and counts those reached only through the default error response", () => {
    const affected: AffectedPlace[] = [
      ...Array.from({ length: 40 }, (_, i) => ({ operation: `POST /v1/op${i}`, where: "response default (application/json) property error.code" })),
      { operation: "GET /v1/charges/{id}", where: "response 200 (application/json) property status" },
    ];
    const md = renderChangesMarkdown(report([change("response-body-enum-value-added", undefined, "schema error property code: enum value \"x\" added", "warning", { affected })]));
    const row = tableRows(md).find((l) => l.includes("enum value"))!;
    expect(row).toContain("`GET /v1/charges/{id}`");
    expect(row).not.toContain("POST /v1/op0");
    expect(row).toContain("40 more only through the `default` error response");
  });

  it("folds a long list of fingerprints into details, keeping every one", () => {
    const many = Array.from({ length: 8 }, (_, i) => change("request-body-became-required", `POST /x${i}`, "request body became required"));
    const row = tableRows(renderChangesMarkdown(report(many)))[0]!;
    expect(row).toContain("<details><summary>8 fingerprints</summary>");
    for (const c of many) expect(row).toContain(c.fingerprint);
  });

  it("shows what differs under a switch of component, worst first, folded", () => {
    const details = [
      { rule: "response-body-property-became-optional", level: "breaking" as const, message: "property archived: became optional" },
      { rule: "response-body-property-added", level: "info" as const, message: "property homepage: optional property added" },
    ];
    const md = renderChangesMarkdown(report([change("response-body-schema-switched", "GET /r", "response 200 (application/json): now uses `minimal-repository` instead of `repository`: 1 property no longer guaranteed", "breaking", { details })]));
    expect(md).toContain("<details><summary>2 differences</summary>**breaking** property archived: became optional<br>property homepage: optional property added</details>");
  });

  it("links the place to the file and line when given a link (as the app does)", () => {
    const md = renderChangesMarkdown(report(release.slice(0, 1)), { link: (p) => `https://github.com/o/r/blob/abc/${p.file}#L${p.line}` });
    expect(md).toContain("[openapi.json:12](https://github.com/o/r/blob/abc/openapi.json#L12)");
  });

  it("never cuts an operation name", () => {
    const long = `GET /${"very/long/".repeat(20)}{id}`;
    const md = renderChangesMarkdown(report([change("operation-removed-without-deprecation", long, `${long} was removed`)]));
    expect(md).toContain(`\`${long}\``);
  });

  it("names the commits compared in the changes check a pull request gets", () => {
    const check = changesCheck(report(release), { breakingConclusion: "failure", compared: { base: "abc1234", head: "def5678" } });
    expect(check.summary.split("\n")[0]).toBe("**6 breaking, 0 warnings, 0 info** — `abc1234` → `def5678`");
  });
});

describe("the text report", () => {
  it("names first the operations that use a shared change directly, before those reached through the default error response", () => {
    const affected: AffectedPlace[] = [
      ...Array.from({ length: 5 }, (_, i) => ({ operation: `POST /v1/op${i}`, where: "response default (application/json) property error.code" })),
      { operation: "GET /v1/charges/{id}", where: "response 200 (application/json) property status" },
    ];
    const text = renderChangesText(report([change("response-body-enum-value-added", undefined, "schema error property code: enum value \"x\" added", "warning", { affected })]));
    expect(text).toContain("affects 6 operations: GET /v1/charges/{id} (response 200 (application/json) property status); POST /v1/op0");
  });
});
