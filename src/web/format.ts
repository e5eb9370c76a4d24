import { html, type Html } from "./html.js";

export function shortSha(sha: string | null | undefined): string {
  return sha ? sha.slice(0, 7) : "";
}

/** A release id as every place shows it (CLI, API, dashboard, audit, checks): the whole 16-character content hash. */
export function shortRelease(hash: string | null | undefined): string {
  return hash ? hash.slice(0, 16) : "";
}

/** The first line of a commit message, cut to a table cell's width. */
export function firstLine(text: string | null | undefined, max = 72): string {
  const line = (text ?? "").split("\n")[0]!.trim();
  return line.length > max ? line.slice(0, max - 1) + "…" : line;
}

function parse(iso: string | null | undefined): Date | null {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** "2026-11-25 13:55 UTC": one zone for every reader, the exact time in the datetime attribute. */
export function when(iso: string | null | undefined): Html {
  const d = parse(iso);
  if (!d) return html`<span class="muted">—</span>`;
  return html`<time datetime="${d.toISOString()}">${d.toISOString().slice(0, 16).replace("T", " ")} UTC</time>`;
}

export function ageText(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return "just now";
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.floor(h / 24)} days ago`;
}

/** "12 min ago", with the exact time as a tooltip and in the datetime attribute. */
export function age(iso: string | null | undefined, now: Date): Html {
  const d = parse(iso);
  if (!d) return html`<span class="muted">—</span>`;
  const exact = d.toISOString().slice(0, 16).replace("T", " ") + " UTC";
  return html`<time datetime="${d.toISOString()}" title="${exact}">${ageText(now.getTime() - d.getTime())}</time>`;
}
