import { describe, expect, it } from "vitest";
import { fingerprintOf, summarize, type Change } from "../../src/diff/index.js";
import { webUrlOf } from "../../src/github/index.js";
import { blobLinks, CHECK_TEXT_LIMIT, changesCheck } from "../../src/report/index.js";

function warning(n: number): Change {
  const operation = `GET /repos/{owner}/{repo}/things/${n}/with/a/long/path`;
  const message = `response 200 (application/json) property items[].field${n}: the schema became an anyOf of 2 alternatives`;
  const rule = "response-body-any-of-added";
  return { fingerprint: fingerprintOf(rule, operation, message), rule, level: "warning", category: "contract", operation, message, head: { file: "config/routes.oas.json", line: 100 + n, column: 7, pointer: `/paths/x${n}` } };
}

const report = (changes: Change[]) => ({ changes, summary: summarize(changes) });

describe("the changes check run's summary", () => {
  it("links each place to its file and line at the head commit on GitHub", () => {
    const link = blobLinks({ webUrl: webUrlOf("https://api.github.com"), owner: "acme", repo: "shop" }, { base: "b".repeat(40), head: "a".repeat(40) });
    const { summary } = changesCheck(report([warning(1)]), { breakingConclusion: "failure", link });
    expect(summary).toContain(`| [config/routes.oas.json:101](https://github.com/acme/shop/blob/${"a".repeat(40)}/config/routes.oas.json#L101) |`);
  });

  it("links to a GitHub Enterprise Server's own web host, and to the base commit for a place only the base has", () => {
    const link = blobLinks({ webUrl: webUrlOf("https://ghe.example.com/api/v3"), owner: "acme", repo: "shop" }, { base: "b".repeat(40), head: "a".repeat(40) });
    const place = { file: "config/my routes.oas.json", line: 7, column: 1, pointer: "" };
    expect(link(place, "base")).toBe(`https://ghe.example.com/acme/shop/blob/${"b".repeat(40)}/config/my%20routes.oas.json#L7`);
    expect(blobLinks({ webUrl: "https://github.com", owner: "acme", repo: "shop" }, { head: "a".repeat(40) })(place, "base")).toBeUndefined();
  });

  it("shows the file and line without a link when no link builder is given (the CLI)", () => {
    const { summary } = changesCheck(report([warning(1)]), { breakingConclusion: "failure" });
    expect(summary).toContain("| config/routes.oas.json:101 |");
    expect(summary).not.toContain("](");
  });

  it("is cut at a row boundary within a check run's 65,535 characters, saying how many rows were left out and where to see them all", () => {
    const many = Array.from({ length: 2000 }, (_, n) => warning(n));
    const link = blobLinks({ webUrl: "https://github.com", owner: "acme", repo: "shop" }, { head: "a".repeat(40) });
    const { summary } = changesCheck(report(many), { breakingConclusion: "failure", link });
    expect(summary.length).toBeLessThanOrEqual(CHECK_TEXT_LIMIT);
    const rows = summary.split("\n").filter((l) => l.startsWith("| "));
    // Every table line is whole: it opens and closes its cells.
    for (const row of rows) expect(row.endsWith("|")).toBe(true);
    const shown = rows.filter((l) => l.includes("response-body-any-of-added")).length;
    expect(shown).toBeGreaterThan(0);
    expect(summary).toContain(`… and ${2000 - shown} more warnings not shown here: the JSON report (\`gitway diff --format json\`) lists every change`);
    expect(summary).toContain("This report is shortened to fit (warnings)");
  });
});
