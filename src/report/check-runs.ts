import type { Diagnostic } from "../config/index.js";
import type { Change, ChangeReport } from "../diff/index.js";
import { renderChangesMarkdown, summaryLine, type MarkdownOptions } from "./changes.js";
import { formatDiagnosticLine, summarizeDiagnostics } from "./diagnostics-text.js";
import { escapeMarkdown } from "./escape.js";
import type { ImpactTable } from "./impact.js";

/** GitHub refuses check-run summaries and texts over this many characters. */
export const CHECK_TEXT_LIMIT = 65_535;
/** GitHub takes this many annotations per create or update request. */
export const ANNOTATIONS_PER_REQUEST = 50;

export type CheckConclusion = "success" | "failure" | "neutral" | "cancelled" | "skipped";

export interface CheckAnnotation {
  path: string;
  startLine: number;
  endLine: number;
  startColumn?: number;
  endColumn?: number;
  level: "failure" | "warning" | "notice";
  title: string;
  message: string;
}

/** A check's verdict as words: what a check run, the dashboard and the comment show. */
export interface CheckText {
  conclusion: CheckConclusion;
  title: string;
  summary: string;
  text?: string;
  annotations?: CheckAnnotation[];
}

/**
 * Cuts markdown to `limit` characters at a line break, with a note saying so, so a huge report
 * is shortened rather than refused by GitHub.
 */
export function fitText(markdown: string, limit = CHECK_TEXT_LIMIT, note = "The rest is cut to fit; `gitway diff --format json` lists everything."): string {
  if (markdown.length <= limit) return markdown;
  const tail = `\n\n…\n\n_${note}_\n`;
  const room = limit - tail.length;
  const cut = markdown.lastIndexOf("\n", room);
  return markdown.slice(0, cut > room / 2 ? cut : room) + tail;
}

const LEVEL: Record<Diagnostic["severity"], CheckAnnotation["level"]> = { error: "failure", warning: "warning", info: "notice" };

export function annotationOf(d: Diagnostic): CheckAnnotation {
  return { path: d.file, startLine: d.line, endLine: d.line, level: LEVEL[d.severity], title: d.rule, message: d.message.slice(0, 64 * 1024 - 1) };
}

/** The validate check: errors fail it; each diagnostic is an annotation at its file and line. */
export function validationCheck(diagnostics: readonly Diagnostic[]): CheckText {
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  const count = summarizeDiagnostics(diagnostics);
  if (diagnostics.length === 0) return { conclusion: "success", title: "The gateway config is valid", summary: "No problems found.", annotations: [] };
  const lines = diagnostics.map((d) => `- \`${escapeMarkdown(formatDiagnosticLine(d)).replace(/`/g, "'")}\``);
  return {
    conclusion: errors > 0 ? "failure" : "success",
    title: errors > 0 ? `${count}: the config cannot be deployed` : count,
    summary: fitText(`**${count}**\n\n${lines.join("\n")}`),
    annotations: diagnostics.map(annotationOf),
  };
}

/** The config is absent on both sides: nothing for Gitway to check in this repository. */
export function noConfigCheck(): CheckText {
  return { conclusion: "neutral", title: "No gateway config in this commit", summary: "Gitway found no `config/*.oas.json` nor an OpenAPI document (see `.github/gitway.yml`); nothing to check." };
}

export function unapprovedBreaking(report: ChangeReport): Change[] {
  return report.changes.filter((c) => c.level === "breaking" && !c.accepted);
}

/**
 * The changes check: unapproved breaking changes make it `breakingConclusion` (failure unless the
 * repository says neutral); approvals and accepted changes are listed with who accepted them.
 */
export function changesCheck(report: ChangeReport | undefined, options: { breakingConclusion: "failure" | "neutral"; baseUnreadable?: string; approvers?: readonly string[]; compared?: { base: string; head: string }; pullRequest?: boolean; link?: MarkdownOptions["link"]; impact?: ImpactTable }): CheckText {
  if (!report) {
    return { conclusion: "neutral", title: "No comparison", summary: options.baseUnreadable ?? "There is no base config to compare with: every route is new." };
  }
  const open = unapprovedBreaking(report).length;
  // Room is left for the approval note below; the renderer keeps every breaking and security change within it.
  const markdown = renderChangesMarkdown(report, { maxChars: CHECK_TEXT_LIMIT - 1_000, ...options.compared, ...(options.link ? { link: options.link } : {}), ...(options.impact ? { impact: options.impact } : {}) });
  const how = open > 0 ? `\n\n${open} breaking change${open === 1 ? "" : "s"} need${open === 1 ? "s" : ""} approval: ${options.pullRequest === false ? "a branch has no approval button; list the change's fingerprint under `diff.ignore` in `.github/gitway.yml` to accept it" : "a maintainer with the required permission presses **Approve breaking** above, or the change is listed under `diff.ignore` in `.github/gitway.yml`"}.` : "";
  return {
    conclusion: open > 0 ? options.breakingConclusion : "success",
    title: open > 0 ? `${open} unapproved breaking change${open === 1 ? "" : "s"}` : summaryLine(report),
    summary: fitText(markdown + how),
  };
}
