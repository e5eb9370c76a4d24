import { escapeHtml, Html } from "./html.js";

/**
 * The small markdown Gitway's own reports write for GitHub (check summaries: bold, `code`,
 * `####` headings, lists, pipe tables, fenced code, <sub>, <br> and <details>/<summary>) as HTML. Everything is escaped first;
 * only those constructs become markup again, so text quoted from a pull request stays text.
 */
export function reportMarkdown(markdown: string): Html {
  const out: string[] = [];
  const lines = markdown.replace(/\r\n?/g, "\n").split("\n");
  let paragraph: string[] = [];
  let list: string[] = [];
  const flush = () => {
    if (paragraph.length) out.push(`<p>${paragraph.join("<br>")}</p>`);
    if (list.length) out.push(`<ul>${list.map((i) => `<li>${i}</li>`).join("")}</ul>`);
    paragraph = [];
    list = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith("```")) {
      // A fenced block (the preview check's curl line) is code, shown as written.
      flush();
      const code: string[] = [];
      for (i++; i < lines.length && !lines[i]!.startsWith("```"); i++) code.push(lines[i]!);
      out.push(`<pre><code>${escapeHtml(code.join("\n"))}</code></pre>`);
    } else if (line.trim() === "") {
      flush();
    } else if (line.startsWith("|")) {
      flush();
      const rows: string[][] = [];
      for (; i < lines.length && lines[i]!.startsWith("|"); i++) rows.push(cells(lines[i]!));
      i--;
      const body = rows.slice(1).filter((r) => !r.every((c) => /^:?-{3,}:?$/.test(c)));
      // Every column gets a header: the reports' marker column has none on GitHub.
      out.push(`<div class="scroll"><table class="report"><thead><tr>${rows[0]!.map((c) => `<th scope="col">${c === "" ? "Kind" : inline(c)}</th>`).join("")}</tr></thead><tbody>${body.map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join("")}</tr>`).join("")}</tbody></table></div>`);
    } else if (/^#{1,6} /.test(line)) {
      flush();
      out.push(`<h4>${inline(line.replace(/^#+ /, ""))}</h4>`);
    } else if (line.startsWith("- ")) {
      if (paragraph.length) flush();
      list.push(inline(line.slice(2)));
    } else {
      if (list.length) flush();
      paragraph.push(inline(line));
    }
  }
  flush();
  return new Html(out.join("\n"));
}

/** A table row's cells; a `\|` inside a cell is text, not a border. */
function cells(line: string): string[] {
  const parts = line.trim().replace(/^\||\|$/g, "").split(/(?<!\\)\|/);
  return parts.map((p) => p.trim());
}

/** The glyphs Gitway's own GitHub markdown uses, and the word the dashboard shows instead. */
const MARKERS: [string, string][] = [
  ["🔒", "security"],
  ["🚦", "traffic"],
  ["↪️", "upstream"],
  ["✅", "success"],
  ["❌", "failure"],
  ["⚪", "neutral"],
  ["⏹️", "cancelled"],
  ["⏭️", "skipped"],
  ["🚀", "preview"],
  ["⚠️", "warning"],
  ["🧹", "removed"],
  ["👥", "usage:"],
];

const ESCAPED = /\\([\\`*_[\]|#~])/g;

function inline(text: string): string {
  // Backslash escapes become placeholders first, so an escaped * or ` is never markup.
  const held: string[] = [];
  const hold = (s: string) => `\uE000${held.push(s) - 1}\uE000`;
  let s = text.replace(ESCAPED, (_m, c: string) => hold(escapeHtml(c)));
  s = escapeHtml(s);
  // Markers as words: Debian's Chromium has no emoji font, and a word reads the same everywhere.
  for (const [glyph, word] of MARKERS) s = s.split(glyph).join(hold(`<span class="tag ${word}">${word}</span>`));
  // Only the report's own tags come back; text that was HTML-escaped in the report stays escaped.
  s = s.replace(/&lt;(\/?)(sub|details|summary)&gt;/g, "<$1$2>").replace(/&lt;br&gt;/g, "<br>");
  s = s.replace(/&amp;(lt|gt|amp|quot|#39|#x?[0-9a-fA-F]{1,6});/g, "&$1;");
  s = s.replace(/`([^`]+)`/g, (_m, code: string) => hold(`<code>${code}</code>`));
  s = s.replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>");
  s = s.replace(/(^|\s)_([^_]+)_(?=\s|$)/g, "$1<em>$2</em>");
  // Placeholders may nest (an escape inside code), so restore until none is left.
  for (let n = 0; n < 3 && s.includes("\uE000"); n++) s = s.replace(/\uE000(\d+)\uE000/g, (_m, k: string) => held[Number(k)]!);
  return s;
}
