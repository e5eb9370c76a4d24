import { describe, expect, it } from "vitest";
import { fingerprintOf, summarize, type Change } from "../../src/diff/index.js";
import { renderChangesMarkdown, renderChangesText } from "../../src/report/index.js";

function change(operation: string, message: string, rule = "response-body-required-property-removed"): Change {
  return { fingerprint: fingerprintOf(rule, operation, message), rule, level: "breaking", category: "contract", operation, message, head: { file: "openapi.yaml", line: 10, column: 3, pointer: "/x" } };
}

function report(changes: Change[]) {
  return { changes, summary: summarize(changes) };
}

describe("the markdown change report", () => {
  it("shows a change met in several operations as one row listing them", () => {
    const msg = "response 200 (application/json) property id: required property removed";
    const md = renderChangesMarkdown(report(["GET /a", "GET /b", "GET /c", "GET /d"].map((op) => change(op, msg))));
    const rows = md.split("\n").filter((l) => l.startsWith("| ") && l.includes("required property removed"));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toContain("`GET /a`<br>`GET /b`<br>`GET /c`<br>and 1 more");
    expect(rows[0]).toContain(`${fingerprintOf("response-body-required-property-removed", "GET /a", msg)} +3`);
    expect(md).toContain("#### Breaking (4)");
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

  it("keeps every change, with its fingerprint, in the text report", () => {
    const text = renderChangesText(report(["GET /a", "GET /b"].map((op) => change(op, "same"))));
    expect(text.split("\n").filter((l) => l.startsWith("breaking"))).toHaveLength(2);
  });
});
