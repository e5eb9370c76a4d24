import { describe, expect, it } from "vitest";
import { fingerprintOf, sourceFingerprintOf, summarize, type Change, type ChangeLevel } from "../../src/diff/index.js";
import { GITHUB_TEXT_LIMIT, renderChangesMarkdown, renderChangesText } from "../../src/report/index.js";

function change(operation: string, message: string, rule = "response-body-required-property-removed", level: ChangeLevel = "breaking", category: Change["category"] = "contract"): Change {
  return { fingerprint: fingerprintOf(rule, operation, message), rule, level, category, operation, message, head: { file: "openapi.yaml", line: 10, column: 3, pointer: "/x" } };
}

/** A change in a shared schema that `operations` reach, as the differ reports it. */
function sourceChange(n: number, operations: number, level: ChangeLevel = "warning", rule = "response-body-any-of-added"): Change {
  const pointer = `/components/schemas/Schema${n}/properties/p${n}/anyOf`;
  const detail = "the schema became an anyOf of 2 alternatives";
  return {
    fingerprint: sourceFingerprintOf(rule, undefined, { file: "openapi.yaml", pointer }, detail),
    rule,
    level,
    category: "contract",
    operation: undefined,
    message: `schema Schema${n} property p${n}: ${detail}`,
    head: { file: "openapi.yaml", line: 100 + n, column: 7, pointer },
    affected: Array.from({ length: operations }, (_, i) => ({ operation: `GET /things/${i}/with/a/rather/long/path/{id}`, where: `response 200 (application/json) property data[].nested${n}.p${n}` })),
  };
}

function report(changes: Change[]) {
  return { changes, summary: summarize(changes) };
}

/** A report far larger than any limit: `breaking` breaking changes, thousands of warnings and info changes. */
function huge(breaking: number) {
  const changes: Change[] = [];
  for (let i = 0; i < breaking; i++) changes.push(sourceChange(i, 40, "breaking", "response-body-became-nullable"));
  for (let i = 0; i < 3000; i++) changes.push(sourceChange(10_000 + i, 40));
  for (let i = 0; i < 5000; i++) changes.push(change(`GET /op${i}`, `optional property x${i} added`, `response-body-property-added`, "info"));
  changes.push(change("GET /admin", "api-key-inbound was removed", "route-authentication-removed", "breaking", "security"));
  changes.push(change("GET /admin", "CORS policy changed from none to anything-goes", "route-cors-opened", "warning", "security"));
  return report(changes);
}

describe("the markdown change report", () => {
  it("shows a per-operation change met in several operations as one row listing them, with every fingerprint of a breaking change", () => {
    const msg = "request body became required";
    const changes = ["GET /a", "GET /b", "GET /c", "GET /d"].map((op) => change(op, msg, "request-body-became-required"));
    const md = renderChangesMarkdown(report(changes));
    const rows = md.split("\n").filter((l) => l.startsWith("| ") && l.includes(msg));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toContain("`GET /a`<br>`GET /b`<br>`GET /c`<br>and 1 more");
    for (const c of changes) expect(rows[0]).toContain(c.fingerprint);
    expect(md).toContain("#### Breaking (4)");
  });

  it("shows a change in a shared schema once, with the count and the first few operations it affects", () => {
    const c = sourceChange(1, 12);
    const md = renderChangesMarkdown(report([c]));
    const rows = md.split("\n").filter((l) => l.includes("Schema1"));
    expect(rows).toHaveLength(1);
    const where = " <sub>response 200 (application/json) property data\\[\\].nested1.p1</sub>";
    expect(rows[0]).toContain(`\`GET /things/0/with/a/rather/long/path/{id}\`${where}<br>\`GET /things/1/with/a/rather/long/path/{id}\`<br>\`GET /things/2/with/a/rather/long/path/{id}\`<br>and 9 more`);
    expect(rows[0]).toContain(c.fingerprint);
  });

  it.each([GITHUB_TEXT_LIMIT, 20_000])("fits %i characters for a report far larger, and still lists every breaking and security change with rule and fingerprint", (maxChars) => {
    const r = huge(60);
    const md = renderChangesMarkdown(r, { maxChars });
    expect(md.length).toBeLessThanOrEqual(maxChars);
    for (const c of r.changes.filter((x) => x.level === "breaking" || x.category === "security")) {
      expect(md).toContain(c.fingerprint);
      expect(md).toContain(c.rule);
    }
    expect(md).toContain("#### Other changes (5000)");
    expect(md).toContain("| `response-body-property-added` | 5000 |");
    expect(md).toMatch(/… and \d+ more warnings not shown here/);
    expect(md).toContain("This report is shortened to fit (warnings)");
  });

  it("lists breaking changes before warnings, and warnings before the info counts", () => {
    const md = renderChangesMarkdown(huge(3));
    expect(md.indexOf("#### Breaking")).toBeLessThan(md.indexOf("#### Security"));
    expect(md.indexOf("#### Security")).toBeLessThan(md.indexOf("#### Warnings"));
    expect(md.indexOf("#### Warnings")).toBeLessThan(md.indexOf("#### Other changes"));
  });

  it("drops the operation lists of breaking changes before it would leave one out", () => {
    const r = huge(400);
    const md = renderChangesMarkdown(r);
    expect(md.length).toBeLessThanOrEqual(GITHUB_TEXT_LIMIT);
    for (const c of r.changes.filter((x) => x.level === "breaking")) expect(md).toContain(c.fingerprint);
    expect(md).toContain("| Kind | Operations | Change |");
    expect(md).toContain("| field | 40 | ");
  });

  it("stays within the limit even when breaking changes alone cannot fit, and says so", () => {
    const r = huge(3000);
    const md = renderChangesMarkdown(r, { maxChars: 30_000 });
    expect(md.length).toBeLessThanOrEqual(30_000);
    expect(md).toMatch(/… and \d+ more breaking changes not shown here/);
  });

  it("escapes text from the pull request so it cannot inject markup, links, table cells or mentions", () => {
    const md = renderChangesMarkdown(report([change("GET /x", 'description <script>alert(1)</script> | [click](https://evil.example) @admin')]));
    expect(md).not.toContain("<script>");
    expect(md).toContain("&lt;script&gt;");
    expect(md).toContain("\\| \\[click\\](https://evil.example) @\u200badmin");
  });

  it("says so when nothing changed", () => {
    expect(renderChangesMarkdown(report([]))).toContain("No changes to the API contract or the gateway's policies.");
  });
});

describe("the text change report", () => {
  it("keeps every per-operation change, with its fingerprint, on its own line", () => {
    const text = renderChangesText(report(["GET /a", "GET /b"].map((op) => change(op, "same"))));
    expect(text.split("\n").filter((l) => l.startsWith("breaking"))).toHaveLength(2);
  });

  it("shows a shared-source change once, followed by how many operations it affects and the first few", () => {
    const text = renderChangesText(report([sourceChange(7, 5)]));
    const lines = text.split("\n");
    expect(lines.filter((l) => l.includes("Schema7"))).toHaveLength(1);
    expect(text).toMatch(/affects 5 operations: GET \/things\/0\/with\/a\/rather\/long\/path\/\{id\} \(response 200 \(application\/json\) property data\[\]\.nested7\.p7\); .*; and 2 more/);
  });
});
