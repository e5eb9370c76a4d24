import { describe, expect, it } from "vitest";
import { renderChangesMarkdown } from "../../src/report/index.js";
import { validationCheck } from "../../src/report/index.js";
import { reportMarkdown } from "../../src/web/markdown.js";

describe("a report's markdown as HTML", () => {
  it("turns a change report's table, heading and bold summary into markup", () => {
    const markdown = renderChangesMarkdown({
      summary: { breaking: 1, warning: 0, info: 0, accepted: 0 },
      changes: [{ fingerprint: "b17c935d869f", rule: "route-authentication-removed", level: "breaking", category: "security", operation: "GET /v1/orders", message: "api-key-inbound was removed", head: { file: "config/routes.oas.json", line: 224, column: 26, pointer: "" } }],
    });
    const out = reportMarkdown(markdown).text;
    expect(out).toContain("<p><strong>1 breaking, 0 warnings, 0 info</strong></p>");
    expect(out).toContain("<h4>Breaking (1)</h4>");
    expect(out).toContain("<td><code>GET /v1/orders</code></td>");
    expect(out).toContain("<td>api-key-inbound was removed<br><sub>why: A route that required credentials (api-key, basic auth) no longer does</sub> <sub>route-authentication-removed · b17c935d869f</sub></td>");
    expect(out).toContain("<td>config/routes.oas.json:224</td>");
    expect(out).not.toContain("---");
  });

  it("shows a fenced block as code, not as fences, and keeps it escaped", () => {
    const out = reportMarkdown("Serving at http://x.localhost/\n\n```sh\ncurl http://x.localhost/v1/products <b>\n```\nafter").text;
    expect(out).toContain("<pre><code>curl http://x.localhost/v1/products &lt;b&gt;</code></pre>");
    expect(out).not.toContain("```");
    expect(out).toContain("<p>after</p>");
  });

  it("names the marker column and writes markers as words, never as emoji a font may lack", () => {
    const markdown = renderChangesMarkdown({
      summary: { breaking: 1, warning: 0, info: 0, accepted: 0 },
      changes: [{ fingerprint: "b17c935d869f", rule: "route-authentication-removed", level: "breaking", category: "security", operation: "GET /v1/orders", message: "api-key-inbound was removed" }],
    });
    const out = reportMarkdown(markdown).text;
    expect(out).toContain('<th scope="col">Kind</th>');
    expect(out).toMatch(/<td><span class="tag security">security<\/span>[^<]*<\/td>/);
    expect(out).not.toMatch(/\p{Extended_Pictographic}/u);
  });

  it("keeps text from a pull request as text, even when it spells tags or markdown", () => {
    const markdown = renderChangesMarkdown({
      summary: { breaking: 1, warning: 0, info: 0, accepted: 0 },
      changes: [{ fingerprint: "0", rule: "r", level: "breaking", category: "contract", operation: undefined, message: "<sub>x</sub> <script>alert(1)</script> **not bold** `tick` | pipe" }],
    });
    const out = reportMarkdown(markdown).text;
    expect(out).not.toMatch(/<script|<sub>x/);
    expect(out).toContain("&lt;sub&gt;x&lt;/sub&gt; &lt;script&gt;alert(1)&lt;/script&gt; **not bold** `tick` | pipe");
  });

  it("turns the report's folded lists into details, and a pull request's text spelling them stays text", () => {
    const fingerprints = ["a1", "a2", "a3", "a4"];
    const markdown = renderChangesMarkdown({
      summary: { breaking: 4, warning: 0, info: 0, accepted: 0 },
      changes: fingerprints.map((fingerprint, i) => ({ fingerprint, rule: "request-body-became-required", level: "breaking" as const, category: "contract" as const, operation: `POST /x${i}`, message: "<details>request body became required" })),
    });
    const out = reportMarkdown(markdown).text;
    expect(out).toContain("<details><summary>4 fingerprints</summary>a1, a2, a3, a4</details>");
    expect(out).toContain("&lt;details&gt;request body became required");
  });

  it("renders a failed validation's diagnostics as a list with file and line", () => {
    const check = validationCheck([{ rule: "policy-unknown", severity: "error", message: "no policy named rate-limit2", file: "config/routes.oas.json", line: 12, column: 7 } as never]);
    const out = reportMarkdown(check.summary).text;
    expect(out).toContain("<ul><li><code>config/routes.oas.json:12:7: error policy-unknown: no policy named rate-limit2</code></li></ul>");
  });

  it("never lets raw HTML through", () => {
    expect(reportMarkdown('<img src=x onerror="alert(1)"> & <br>').text).toBe("<p>&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; <br></p>");
  });
});
