import { changeKind, type AffectedPlace, type Change, type ChangePlace, type ChangeReport } from "../diff/index.js";
import { escapeMarkdown } from "./escape.js";
import { formatCount, impactMarkdown, impactOfOperations, impactRoutes, type ImpactTable } from "./impact.js";

/** GitHub refuses a check run's summary or text, and a comment body, longer than this. */
export const GITHUB_TEXT_LIMIT = 65_535;

/** Affected operations shown before "and N more": the JSON report lists all of them. */
const FIRST_FEW = 3;

function where(c: Change): string {
  const p = c.head ?? c.base;
  return p ? `${p.file}:${p.line}:${p.column}` : "";
}

export function summaryLine(report: ChangeReport): string {
  const s = report.summary;
  return `${s.breaking} breaking, ${s.warning} warning${s.warning === 1 ? "" : "s"}, ${s.info} info${s.accepted ? `, ${s.accepted} accepted` : ""}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** The operations a change affects: its own, or every one that reaches its shared source. */
function operationsOf(c: Change): string[] {
  if (c.affected && c.affected.length > 0) return [...new Set(c.affected.map((a) => a.operation))];
  return c.operation ? [c.operation] : [];
}

/**
 * One line per change, most severe first; the fingerprint is what `diff.ignore` takes. A change at
 * a shared source that several operations reach has a second line naming the first few.
 */
export function renderChangesText(report: ChangeReport): string {
  const lines: string[] = [];
  for (const c of report.changes) {
    const level = c.accepted ? `accepted` : c.level;
    lines.push(`${level.padEnd(8)} ${c.category.padEnd(8)} ${c.operation ? c.operation + "  " : ""}${c.rule}: ${c.message}${where(c) ? `  (${where(c)})` : ""}  [${c.fingerprint}]${c.accepted ? `  accepted: ${c.accepted.reason}` : ""}`);
    const affected = c.affected ?? [];
    if (affected.length > 1) {
      // The places that use the change directly first: those reached only through `default` or deep nesting hide them otherwise.
      const ordered = [...affected.filter((a) => !indirect(a)), ...affected.filter(indirect)];
      const shown = ordered.slice(0, FIRST_FEW).map((a) => (a.where ? `${a.operation} (${a.where})` : a.operation));
      const more = affected.length - shown.length;
      lines.push(`${" ".repeat(18)}affects ${plural(operationsOf(c).length, "operation")}: ${shown.join("; ")}${more > 0 ? `; and ${more} more` : ""}`);
    }
  }
  return [...lines, summaryLine(report)].join("\n") + "\n";
}

interface Row {
  first: Change;
  fingerprints: string[];
  operations: string[];
  /** Each operation with where inside it the change is met, in the order found. */
  places: AffectedPlace[];
}

/**
 * Changes with the same rule and message shown as one row: the same per-operation change in many
 * operations ("request body became required"). Each keeps its own fingerprint. Rows go worst
 * first: by kind (an operation gone, a status gone, a type changed, a new requirement, a field),
 * then by the operation they concern.
 */
function rows(changes: readonly Change[]): Row[] {
  const byKey = new Map<string, Row>();
  for (const c of changes) {
    const key = `${c.rule}\u0000${c.message}\u0000${c.accepted?.reason ?? ""}`;
    const row = byKey.get(key);
    const places = c.affected && c.affected.length > 0 ? c.affected : c.operation ? [{ operation: c.operation, where: "" }] : [];
    if (row) {
      row.fingerprints.push(c.fingerprint);
      for (const op of operationsOf(c)) if (!row.operations.includes(op)) row.operations.push(op);
      row.places.push(...places);
    } else {
      byKey.set(key, { first: c, fingerprints: [c.fingerprint], operations: operationsOf(c), places: [...places] });
    }
  }
  return [...byKey.values()].sort((a, b) => changeKind(a.first.rule).rank - changeKind(b.first.rule).rank || (a.operations[0] ?? "").localeCompare(b.operations[0] ?? ""));
}

type Detail = "full" | "compact";

/**
 * Reached only through the generic `default` error response, or through a deep expansion of
 * nested objects: counted, not listed, so the operations that use the place directly are seen.
 */
function indirect(p: AffectedPlace): boolean {
  if (/^response default\b/.test(p.where)) return true;
  const path = /property (\S+)/.exec(p.where)?.[1] ?? "";
  return path.split(/\.|\[\]/).filter(Boolean).length > 4;
}

function operationsCell(r: Row, detail: Detail): string {
  // Compact rows count (the column says "Operations"): every character counts when hundreds of rows must fit.
  if (detail === "compact") return String(r.operations.length);
  if (r.operations.length === 0) return "—";
  const firstPlace = new Map<string, AffectedPlace>();
  for (const p of r.places) if (!firstPlace.has(p.operation)) firstPlace.set(p.operation, p);
  const all = [...firstPlace.values()];
  const direct = all.filter((p) => !indirect(p));
  const listed = (direct.length > 0 ? direct : all).slice(0, FIRST_FEW);
  // The path inside the operation once, with the first: the others usually reach it the same way (the JSON lists each).
  const shown = listed.map((p, i) => `\`${p.operation.replace(/`/g, "'")}\`${i === 0 && p.where && r.places.length > 1 ? ` <sub>${escapeMarkdown(p.where)}</sub>` : ""}`);
  const viaDefault = direct.length > 0 ? all.filter((p) => /^response default\b/.test(p.where)).length : 0;
  const deep = direct.length > 0 ? all.length - direct.length - viaDefault : 0;
  const more = (direct.length > 0 ? direct.length : all.length) - listed.length;
  const notes = [
    more > 0 ? `and ${more} more` : "",
    viaDefault > 0 ? `${viaDefault} more only through the \`default\` error response` : "",
    deep > 0 ? `${deep} more only through nested objects` : "",
  ].filter(Boolean);
  return [...shown, ...notes].join("<br>");
}

const MARK: Record<Change["category"], string> = { security: "🔒 ", traffic: "🚦 ", upstream: "↪️ ", contract: "" };

/** Lists longer than this fold into `<details>`. */
const FOLD_AFTER = 3;

function folded(summary: string, items: string[], separator: string): string {
  if (items.length <= FOLD_AFTER) return items.join(separator);
  return `<details><summary>${summary}</summary>${items.join(separator)}</details>`;
}

/** The differences under a switch of component, worst first, the first few in full. */
function detailsOf(c: Change): string {
  if (!c.details || c.details.length === 0) return "";
  const shown = c.details.slice(0, 12).map((d) => `${d.level === "breaking" ? "**breaking** " : ""}${escapeMarkdown(d.message)}`);
  const more = c.details.length - shown.length;
  return `<details><summary>${plural(c.details.length, "difference")}</summary>${shown.join("<br>")}${more > 0 ? `<br>and ${more} more` : ""}</details>`;
}

function whereCell(c: Change, link: MarkdownOptions["link"]): string {
  const p = c.head ?? c.base;
  if (!p) return "—";
  const text = escapeMarkdown(`${p.file}:${p.line}`);
  const url = link?.(p, c.head ? "head" : "base");
  return url ? `[${text}](${url})` : text;
}

/** `allFingerprints`: a change that needs an approval shows every fingerprint it stands for. */
function rowLine(r: Row, detail: Detail, allFingerprints: boolean, link: MarkdownOptions["link"], impact?: ImpactTable): string {
  const c = r.first;
  // Who production traffic says would be hit: the row's operations summed (a shared source's too).
  const hit = impact && c.level === "breaking" && !c.accepted && r.operations.length > 0 ? `<br>👥 ${impactMarkdown(impactOfOperations(rowRoutes(r), impact), impact)}` : "";
  const kind = changeKind(c.rule);
  const reason = c.accepted ? ` — accepted: ${escapeMarkdown(c.accepted.reason)}` : "";
  const fingerprints = allFingerprints || r.fingerprints.length === 1 ? folded(`${r.fingerprints.length} fingerprints`, r.fingerprints, ", ") : `${r.fingerprints[0]} +${r.fingerprints.length - 1}`;
  const why = detail === "full" && c.level === "breaking" && kind.why ? `<br><sub>why: ${escapeMarkdown(kind.why)}</sub>` : "";
  const cells = [`${MARK[c.category]}${kind.label}`, operationsCell(r, detail), `${escapeMarkdown(c.message)}${hit}${why} ${detail === "full" ? detailsOf(c) : ""}<sub>${c.rule} · ${fingerprints}</sub>${reason}`];
  // Compact rows (when the breaking changes alone would not fit) leave out the places: the column goes too.
  if (detail === "full") cells.push(whereCell(c, link));
  return `| ${cells.join(" | ")} |`;
}

const TABLE_HEAD: Record<Detail, string[]> = { full: ["| Kind | Operation | Change | Where |", "| --- | --- | --- | --- |"], compact: ["| Kind | Operations | Change |", "| --- | --- | --- |"] };
const JSON_HINT = "the JSON report (`gitway diff --format json`) lists every change";

/** Text that grows line by line up to a character budget, the room for a closing note kept aside. */
class Budget {
  readonly lines: string[] = [];
  private used = 0;
  /** Kept for what comes later and is short (the info counts), while a long section fills up. */
  reserved = 0;

  constructor(private readonly max: number) {}

  /** Adds the lines when all of them fit; says whether they did. */
  push(...lines: string[]): boolean {
    const size = lines.reduce((n, l) => n + l.length + 1, 0);
    if (this.used + size > this.max - this.reserved) return false;
    this.lines.push(...lines);
    this.used += size;
    return true;
  }

  /** A note about what was cut: it always goes in, into the room kept aside for notes (NOTE_ROOM). */
  note(line: string): void {
    this.lines.push(line);
  }
}

/** Room kept for the notes that say what was cut, so they always fit. */
const NOTE_ROOM = 1200;

/**
 * A table of rows, cut with a note when the budget ends. Returns false when rows were left out.
 * `maxRows` bounds the rows even when there is room (a reviewer reads the first ones).
 */
function table(out: Budget, title: string, count: number, list: Row[], detail: Detail, allFingerprints: boolean, maxRows: number, what: string, link?: MarkdownOptions["link"], impact?: ImpactTable): boolean {
  if (!out.push(`#### ${title} (${count})`, "", ...TABLE_HEAD[detail])) return false;
  let shown = 0;
  for (const r of list) {
    if (shown >= maxRows || !out.push(rowLine(r, detail, allFingerprints, link, impact))) break;
    shown++;
  }
  const left = list.length - shown;
  if (left > 0) out.note(`| — | — | … and ${left} more ${what} not shown here: ${JSON_HINT} |${detail === "full" ? " — |" : ""}`);
  out.note("");
  return left === 0;
}

export interface MarkdownOptions {
  /** Rows per table for warnings and accepted changes (breaking and security changes are all listed). */
  maxRows?: number;
  /** The longest text returned: 65,535 for a check run's text or a comment body; less to leave room around it. */
  maxChars?: number;
  /** What was compared, named in the header: a file or a commit on each side. */
  base?: string;
  head?: string;
  /** A link to a place (given when the app posts the report: the file and line on GitHub). */
  link?: (place: ChangePlace, side: "base" | "head") => string | undefined;
  /** Production's calls per operation and consumer: breaking changes then say who they would hit, most called first. */
  impact?: ImpactTable;
}

/** The routes whose callers a row's changes would hit (a moved operation's old path included). */
function rowRoutes(r: Row): string[] {
  return [...new Set([...r.operations, ...impactRoutes(r.first)])];
}

/** Breaking rows with their calls, most called first: a change nobody called sorts last. */
function byCalls(list: Row[], impact: ImpactTable): { row: Row; calls: number; consumers: number }[] {
  return list
    .map((row) => {
      const i = impactOfOperations(rowRoutes(row), impact);
      return { row, calls: i.total, consumers: i.consumers.length };
    })
    .sort((a, b) => b.calls - a.calls);
}

/** The header's ranking: which breaking changes production traffic would feel, and which nobody would. */
function rankedLine(list: Row[], impact: ImpactTable): string {
  const ranked = byCalls(list, impact);
  const name = (r: Row) => (r.operations.length === 1 ? `\`${r.operations[0]!.replace(/`/g, "'")}\`` : r.operations.length > 1 ? `${r.first.rule} (${r.operations.length} operations)` : escapeMarkdown(r.first.message));
  const count = (x: { calls: number; consumers: number }) => (x.calls === 0 ? "no calls" : `${formatCount(x.calls)} call${x.calls === 1 ? "" : "s"} from ${plural(x.consumers, "consumer")}`);
  const shown = ranked.slice(0, 5).map((x) => `${name(x.row)}: ${count(x)}`);
  const more = ranked.length > shown.length ? `; and ${ranked.length - shown.length} more` : "";
  return `Breaking changes by production calls in the last ${plural(impact.days, "day")}: ${shown.join("; ")}${more}.`;
}

/**
 * Three to five lines a reviewer reads first: what was compared and the counts, the operations
 * removed or moved by name, and what must be decided.
 */
function opening(report: ChangeReport, options: MarkdownOptions): string[] {
  const compared = options.base && options.head ? ` — \`${escapeMarkdown(options.base).replace(/`/g, "'")}\` → \`${escapeMarkdown(options.head).replace(/`/g, "'")}\`` : "";
  const lines = [`**${summaryLine(report)}**${compared}`];
  const open = report.changes.filter((c) => !c.accepted);
  const gone = [...new Set(open.filter((c) => c.level === "breaking" && changeKind(c.rule).rank === 0).map((c) => c.operation ?? c.message))].sort();
  if (gone.length > 0) lines.push(`Removed or moved: ${gone.slice(0, 5).map((o) => `\`${o.replace(/`/g, "'")}\``).join(", ")}${gone.length > 5 ? ` and ${gone.length - 5} more` : ""}.`);
  const breaking = open.filter((c) => c.level === "breaking").length;
  const security = open.filter((c) => c.level !== "breaking" && c.category === "security").length;
  const decide: string[] = [];
  if (breaking > 0) decide.push(`${plural(breaking, "breaking change")}: keep the old behaviour, bump the major version, or accept each by fingerprint in \`diff.ignore\``);
  if (security > 0) decide.push(`${plural(security, "security change")} to check`);
  if (decide.length > 0) lines.push(`To decide: ${decide.join("; ")}.`);
  if (options.impact && breaking > 0) lines.push(rankedLine(rows(open.filter((c) => c.level === "breaking")), options.impact));
  return [...lines.flatMap((l) => [l, ""])];
}

/**
 * The change report as GitHub markdown, within `maxChars` for any pair: every breaking and every
 * security change first, each with its rule and fingerprint (compacted, and only as a last
 * resort cut, when they alone do not fit), then warnings, then the count of info changes by rule,
 * then accepted changes. A change at a shared source is one row with the operations it affects.
 */
export function renderChangesMarkdown(report: ChangeReport, options: MarkdownOptions = {}): string {
  const maxChars = options.maxChars ?? GITHUB_TEXT_LIMIT;
  const maxRows = options.maxRows ?? 200;
  const summary = opening(report, options);
  if (report.changes.length === 0) return [...summary, "No changes to the API contract or the gateway's policies.", ""].join("\n");
  const open = report.changes.filter((c) => !c.accepted);
  const worstFirst = rows(open.filter((c) => c.level === "breaking"));
  const breaking = options.impact ? byCalls(worstFirst, options.impact).map((x) => x.row) : worstFirst;
  const security = rows(open.filter((c) => c.level !== "breaking" && c.category === "security"));
  const warnings = rows(open.filter((c) => c.level === "warning" && c.category !== "security"));
  const info = open.filter((c) => c.level === "info" && c.category !== "security");
  const accepted = rows(report.changes.filter((c) => c.accepted));
  const count = (list: Row[]) => list.reduce((n, r) => n + r.fingerprints.length, 0);

  // Breaking and security changes in full when they fit, else without the operation list and places.
  const mustShow = (detail: Detail) => {
    const b = new Budget(Number.POSITIVE_INFINITY);
    if (breaking.length) table(b, "Breaking", count(breaking), breaking, detail, true, Infinity, "", undefined, options.impact);
    if (security.length) table(b, "Security", count(security), security, detail, true, Infinity, "");
    return b.lines.join("\n").length;
  };
  const room = Math.max(0, maxChars - NOTE_ROOM);
  const detail: Detail = summary.join("\n").length + mustShow("full") <= room ? "full" : "compact";

  const out = new Budget(room);
  out.push(...summary);
  const cut: string[] = [];
  if (breaking.length && !table(out, "Breaking", count(breaking), breaking, detail, true, Infinity, "breaking changes", options.link, options.impact)) cut.push("breaking");
  if (security.length && !table(out, "Security", count(security), security, detail, true, Infinity, "security changes", options.link)) cut.push("security");
  const infoLines: string[] = [];
  if (info.length) {
    const byRule = new Map<string, number>();
    for (const c of info) byRule.set(c.rule, (byRule.get(c.rule) ?? 0) + 1);
    const ranked = [...byRule].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    infoLines.push(`#### Other changes (${info.length})`, "", "| Rule | Changes |", "| --- | --- |", ...ranked.map(([rule, n]) => `| \`${rule}\` | ${n} |`), "");
  }
  // Info counts are short and say what else happened: room for them is kept while warnings fill up.
  out.reserved = Math.min(infoLines.reduce((n, l) => n + l.length + 1, 0), Math.floor(room / 4));
  if (warnings.length && !table(out, "Warnings", count(warnings), warnings, "full", false, maxRows, "warnings", options.link)) cut.push("warnings");
  out.reserved = 0;
  if (infoLines.length) {
    let shown = 0;
    for (const line of infoLines) {
      if (!out.push(line)) break;
      shown++;
    }
    if (shown < infoLines.length) {
      out.note(`| … and ${Math.max(0, infoLines.length - shown - 1)} more rules | |`);
      out.note("");
      cut.push("info");
    }
  }
  if (accepted.length && !table(out, "Accepted", count(accepted), accepted, "compact", false, maxRows, "accepted changes")) cut.push("accepted");
  let md = out.lines.join("\n");
  if (cut.length > 0) md += `\n_This report is shortened to fit (${cut.join(", ")}): ${JSON_HINT}._\n`;
  // The budget keeps the text within the limit; this only guards the guarantee itself.
  if (md.length > maxChars) md = md.slice(0, Math.max(0, maxChars - 2)) + "…\n";
  return md;
}
