import type { Change, ChangeReport } from "../diff/index.js";
import { escapeMarkdown } from "./escape.js";

function where(c: Change): string {
  const p = c.head ?? c.base;
  return p ? `${p.file}:${p.line}:${p.column}` : "";
}

export function summaryLine(report: ChangeReport): string {
  const s = report.summary;
  return `${s.breaking} breaking, ${s.warning} warning${s.warning === 1 ? "" : "s"}, ${s.info} info${s.accepted ? `, ${s.accepted} accepted` : ""}`;
}

/** One line per change, most severe first; the fingerprint is what `diff.ignore` takes. */
export function renderChangesText(report: ChangeReport): string {
  const lines = report.changes.map((c) => {
    const level = c.accepted ? `accepted` : c.level;
    return `${level.padEnd(8)} ${c.category.padEnd(8)} ${c.operation ? c.operation + "  " : ""}${c.rule}: ${c.message}${where(c) ? `  (${where(c)})` : ""}  [${c.fingerprint}]${c.accepted ? `  accepted: ${c.accepted.reason}` : ""}`;
  });
  return [...lines, summaryLine(report)].join("\n") + "\n";
}

const HEADINGS: { level: Change["level"]; title: string }[] = [
  { level: "breaking", title: "Breaking" },
  { level: "warning", title: "Warnings" },
  { level: "info", title: "Other changes" },
];

/** The change report as GitHub markdown: a table per level, security changes marked. */
export function renderChangesMarkdown(report: ChangeReport, options: { maxRows?: number } = {}): string {
  const maxRows = options.maxRows ?? 200;
  const out: string[] = [`**${summaryLine(report)}**`, ""];
  if (report.changes.length === 0) return out.concat("No changes to the API contract or the gateway's policies.", "").join("\n");
  const groups = [...HEADINGS.map((h) => ({ title: h.title, items: report.changes.filter((c) => !c.accepted && c.level === h.level) })), { title: "Accepted", items: report.changes.filter((c) => c.accepted) }];
  for (const { title, items } of groups) {
    if (items.length === 0) continue;
    out.push(`#### ${title} (${items.length})`, "", "| | Operation | Change | Where |", "| --- | --- | --- | --- |");
    for (const c of items.slice(0, maxRows)) {
      const mark = c.category === "security" ? "🔒" : c.category === "traffic" ? "🚦" : c.category === "upstream" ? "↪️" : "";
      const reason = c.accepted ? ` — accepted: ${escapeMarkdown(c.accepted.reason)}` : "";
      out.push(`| ${mark} | ${c.operation ? `\`${c.operation.replace(/`/g, "'")}\`` : ""} | ${escapeMarkdown(c.message)} <sub>${c.rule} · ${c.fingerprint}</sub>${reason} | ${escapeMarkdown(where(c))} |`);
    }
    if (items.length > maxRows) out.push(`| | | … and ${items.length - maxRows} more | |`);
    out.push("");
  }
  return out.join("\n");
}
