import { fitText, type CheckText } from "./check-runs.js";
import { escapeMarkdown } from "./escape.js";

/** One operation of a preview's smoke test, as the check shows it. */
export interface SmokeCheckRow {
  operation: string;
  /** "GET /v1/products/p-100"; empty when nothing was sent. */
  request: string;
  status: number | undefined;
  outcome: "passed" | "failed" | "unavailable" | "skipped";
  /** Why it failed, why it was not judged, or why it was not sent: the first schema error, for a body. */
  reason?: string;
}

const WORD: Record<SmokeCheckRow["outcome"], string> = { passed: "passed", failed: "**failed**", unavailable: "not judged", skipped: "not sent" };

/**
 * The smoke check: an answer that breaks the description fails it; an upstream that did not answer
 * leaves it neutral (nothing could be judged), and says so rather than blaming the contract.
 */
export function smokeCheck(rows: readonly SmokeCheckRow[], context: { environment: string; url: string }): CheckText {
  const count = (o: SmokeCheckRow["outcome"]) => rows.filter((r) => r.outcome === o).length;
  const [failed, unavailable, passed, skipped] = [count("failed"), count("unavailable"), count("passed"), count("skipped")];
  const sent = rows.length - skipped;
  const firstFailure = rows.find((r) => r.outcome === "failed");
  const conclusion = failed > 0 ? "failure" : unavailable > 0 || sent === 0 ? "neutral" : "success";
  const title =
    failed > 0
      ? `${failed} of ${sent} answer${sent === 1 ? "" : "s"} break${failed === 1 ? "s" : ""} the description: ${firstFailure!.operation}: ${firstFailure!.reason ?? ""}`
      : unavailable > 0
        ? `${unavailable} of ${sent} answer${sent === 1 ? "" : "s"} not judged: ${rows.find((r) => r.outcome === "unavailable")!.reason ?? "upstream unavailable"}; ${passed} as described`
        : sent === 0
          ? "No operation could be replayed"
          : `${passed} answer${passed === 1 ? "" : "s"} as the description says`;
  const table = rows.map((r) => `| ${escapeMarkdown(r.operation)} | ${r.request ? `\`${r.request.replace(/`/g, "'")}\`` : "-"} | ${r.status ?? "-"} | ${WORD[r.outcome]} | ${r.reason ? escapeMarkdown(r.reason) : ""} |`);
  const summary = [
    `The preview \`${context.environment}\` was called with the description's own examples at ${context.url}: ${sent} request${sent === 1 ? "" : "s"}, ${passed} passed, ${failed} failed, ${unavailable} not judged (upstream unavailable or rate limited)${skipped ? `, ${skipped} operation${skipped === 1 ? "" : "s"} not sent` : ""}.`,
    "",
    "| operation | request | status | result | first problem |",
    "| --- | --- | --- | --- | --- |",
    ...table,
  ].join("\n");
  return { conclusion, title: title.slice(0, 250), summary: fitText(summary) };
}
