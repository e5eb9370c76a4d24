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

interface Group {
  first: Change;
  operations: string[];
  count: number;
}

/** The same change (rule and message) met in several operations, shown once: a shared component changed. */
function group(changes: readonly Change[]): Group[] {
  const byKey = new Map<string, Group>();
  for (const c of changes) {
    const key = `${c.rule}\u0000${c.message}\u0000${c.accepted?.reason ?? ""}`;
    const g = byKey.get(key);
    if (g) {
      g.count++;
      if (c.operation) g.operations.push(c.operation);
    } else {
      byKey.set(key, { first: c, operations: c.operation ? [c.operation] : [], count: 1 });
    }
  }
  return [...byKey.values()];
}

function operationsCell(g: Group): string {
  const shown = g.operations.slice(0, 3).map((o) => `\`${o.replace(/`/g, "'")}\``);
  const more = g.operations.length - shown.length;
  return shown.join("<br>") + (more > 0 ? `<br>and ${more} more` : "");
}

/**
 * The change report as GitHub markdown: a table per level, security changes marked, and one row
 * for a change that recurs across operations (a shared schema), so large APIs stay readable.
 * Every change keeps its own fingerprint in the JSON output.
 */
export function renderChangesMarkdown(report: ChangeReport, options: { maxRows?: number } = {}): string {
  const maxRows = options.maxRows ?? 200;
  const out: string[] = [`**${summaryLine(report)}**`, ""];
  if (report.changes.length === 0) return out.concat("No changes to the API contract or the gateway's policies.", "").join("\n");
  const levels = [...HEADINGS.map((h) => ({ title: h.title, items: report.changes.filter((c) => !c.accepted && c.level === h.level) })), { title: "Accepted", items: report.changes.filter((c) => c.accepted) }];
  for (const { title, items } of levels) {
    if (items.length === 0) continue;
    const groups = group(items);
    out.push(`#### ${title} (${items.length})`, "", "| | Operation | Change | Where |", "| --- | --- | --- | --- |");
    for (const g of groups.slice(0, maxRows)) {
      const c = g.first;
      const mark = c.category === "security" ? "🔒" : c.category === "traffic" ? "🚦" : c.category === "upstream" ? "↪️" : "";
      const reason = c.accepted ? ` — accepted: ${escapeMarkdown(c.accepted.reason)}` : "";
      const fingerprint = g.count > 1 ? `${c.fingerprint} +${g.count - 1}` : c.fingerprint;
      out.push(`| ${mark} | ${operationsCell(g)} | ${escapeMarkdown(c.message)} <sub>${c.rule} · ${fingerprint}</sub>${reason} | ${escapeMarkdown(where(c))} |`);
    }
    if (groups.length > maxRows) out.push(`| | | … and ${groups.length - maxRows} more (the JSON report lists all) | |`);
    out.push("");
  }
  return out.join("\n");
}
