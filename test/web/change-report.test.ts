import { describe, expect, it } from "vitest";
import { changeReport } from "../../src/web/change-report.js";

const at = { file: "openapi.json", line: 3, column: 1, pointer: "" };
const report = {
  summary: { breaking: 2, warning: 0, info: 0, accepted: 0 },
  changes: [
    { rule: "response-body-schema-switched", level: "breaking", category: "contract", operation: "GET /r", message: "response 200: now uses `minimal-repository` instead of `repository`", head: at, details: [{ rule: "response-body-property-became-optional", level: "breaking", message: "property <i>archived</i>: became optional" }] },
    { rule: "operation-removed-without-deprecation", level: "breaking", category: "contract", operation: "DELETE /x", message: "DELETE /x was removed without being deprecated first", base: at },
  ],
};

describe("the dashboard's change report", () => {
  it("shows a removed operation before a switch of component, and the switch's differences folded and escaped", () => {
    const page = String(changeReport(report as never));
    expect(page.indexOf("DELETE /x was removed")).toBeLessThan(page.indexOf("now uses"));
    expect(page).toContain("<details><summary>1 difference</summary>property &lt;i&gt;archived&lt;/i&gt;: became optional</details>");
  });
});
