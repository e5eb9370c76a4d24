import { describe, expect, it } from "vitest";
import { fingerprintOf, summarize, type Change } from "../../src/diff/index.js";
import { changesCheck, impactBullets, impactText, pullRequestComment, renderChangesMarkdown, type ImpactTable } from "../../src/report/index.js";

function change(rule: string, operation: string | undefined, message: string, more: Partial<Change> = {}): Change {
  return { fingerprint: fingerprintOf(rule, operation, message), rule, level: "breaking", category: "contract", operation, message, head: { file: "openapi.json", line: 12, column: 5, pointer: "/paths" }, ...more };
}
const report = (changes: Change[]) => ({ changes, summary: summarize(changes) });

const table = (names = true, days = 30): ImpactTable => ({
  days,
  names,
  calls: new Map([
    [
      "GET /orders",
      [
        { consumer: "mobile-app", calls: 41_200 },
        { consumer: "anonymous", calls: 12 },
      ],
    ],
    ["GET /orders/{id}", [{ consumer: "partner-acme", calls: 1_020 }]],
    ["POST /orders", [{ consumer: "mobile-app", calls: 5 }]],
  ]),
});

const removedLegacy = change("operation-removed-without-deprecation", "GET /legacy", "GET /legacy was removed without being deprecated first");
const removedOrders = change("operation-removed-without-deprecation", "GET /orders", "GET /orders was removed without being deprecated first");
/** A component used by two operations: one change, the calls of both. */
const sharedSchema = change("response-body-type-changed", undefined, "components/schemas/Order property total: type changed from number to string", {
  affected: [
    { operation: "GET /orders", where: "response 200 (application/json) property items[].total" },
    { operation: "GET /orders/{id}", where: "response 200 (application/json) property total" },
  ],
});

describe("the impact of a breaking change", () => {
  it("names the consumers that called it, most calls first, with thousands separated", () => {
    const md = renderChangesMarkdown(report([removedOrders]), { impact: table() });
    expect(md).toContain("👥 called by 2 consumers in the last 30 days: mobile-app (41,200 calls), anonymous (12)");
  });

  it("says when nobody called it in the window", () => {
    expect(renderChangesMarkdown(report([removedLegacy]), { impact: table(true, 7) })).toContain("👥 no calls in the last 7 days");
  });

  it("sums the calls of every operation a change at a shared source reaches, per consumer", () => {
    const md = renderChangesMarkdown(report([sharedSchema]), { impact: table() });
    expect(md).toContain("called by 3 consumers in the last 30 days: mobile-app (41,200 calls), partner-acme (1,020), anonymous (12)");
  });

  it("shows counts only when names are turned off", () => {
    const md = renderChangesMarkdown(report([sharedSchema]), { impact: table(false) });
    expect(md).toContain("called by 3 consumers in the last 30 days: 42,232 calls");
    expect(md).not.toMatch(/mobile|partner|anonymous/);
  });

  it("ranks the breaking changes by calls in the header and in the table", () => {
    const md = renderChangesMarkdown(report([removedLegacy, sharedSchema, removedOrders]), { impact: table() });
    expect(md).toContain(
      "Breaking changes by production calls in the last 30 days: response-body-type-changed (2 operations): 42,232 calls from 3 consumers; `GET /orders`: 41,212 calls from 2 consumers; `GET /legacy`: no calls.",
    );
    const rows = md.split("\n").filter((l) => l.startsWith("| ") && l.includes("👥"));
    expect(rows.map((r) => /👥 ([^<]*)/.exec(r)![1])).toEqual([
      "called by 3 consumers in the last 30 days: mobile-app (41,200 calls), partner-acme (1,020), anonymous (12)",
      "called by 2 consumers in the last 30 days: mobile-app (41,200 calls), anonymous (12)",
      "no calls in the last 30 days",
    ]);
  });

  it("names the first five consumers and counts the rest", () => {
    const many: ImpactTable = { days: 30, names: true, calls: new Map([["GET /orders", Array.from({ length: 7 }, (_, i) => ({ consumer: `c${i}`, calls: 100 - i }))]]) };
    expect(impactText({ total: 0, consumers: [] }, many)).toBe("no calls in the last 30 days");
    expect(renderChangesMarkdown(report([removedOrders]), { impact: many })).toContain("c0 (100 calls), c1 (99), c2 (98), c3 (97), c4 (96), and 2 more (189)");
  });

  it("leaves the report as it was without an impact table", () => {
    expect(renderChangesMarkdown(report([removedOrders]))).not.toMatch(/👥|production calls/);
  });

  it("goes into the changes check and, one line per change, into the pull-request comment", () => {
    const r = report([removedLegacy, removedOrders]);
    const check = changesCheck(r, { breakingConclusion: "failure", impact: table() });
    expect(check.summary).toContain("👥 no calls in the last 30 days");
    const comment = pullRequestComment({ changes: check, preview: { state: "skipped", reason: "test" }, impact: impactBullets(r.changes, table()) });
    expect(comment).toContain("- `GET /orders`: called by 2 consumers in the last 30 days: mobile-app (41,200 calls), anonymous (12)\n- `GET /legacy`: no calls in the last 30 days");
  });

  it("escapes a consumer name that carries markdown or a mention", () => {
    const evil: ImpactTable = { days: 30, names: true, calls: new Map([["GET /orders", [{ consumer: "[x](http://evil)@team", calls: 3 }]]]) };
    const md = renderChangesMarkdown(report([removedOrders]), { impact: evil });
    expect(md).toContain("\\[x\\](http://evil)@\u200bteam (3 calls)");
  });

  it("counts the callers of a moved operation's old path, which is where they would get a 404", () => {
    const moved = change("operation-path-changed", "GET /v2/orders", "GET /orders moved to /v2/orders: clients calling the old path get 404", { base: { file: "openapi.json", line: 3, column: 5, pointer: "/paths/~1orders/get" } });
    const md = renderChangesMarkdown(report([moved]), { impact: table() });
    expect(md).toContain("👥 called by 2 consumers in the last 30 days: mobile-app (41,200 calls), anonymous (12)");
  });
});
