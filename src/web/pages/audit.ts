import type { AuditEntry, AuditFilter } from "../../admin/types.js";
import { shortSha, when } from "../format.js";
import { html, type Html } from "../html.js";
import { layout, type PageContext } from "./layout.js";

export const AUDIT_FIELDS = ["repository", "environment", "actor", "action", "since", "until"] as const;

export interface AuditData {
  /** The filter as typed (shown back in the form, kept in page links). */
  form: Partial<Record<(typeof AUDIT_FIELDS)[number], string>>;
  entries: AuditEntry[];
  total: number;
  page: number;
  pageSize: number;
  /** "owner/repo" + NUL + environment name -> label, to link an entry to its environment's page. */
  labels: Map<string, string>;
}

const LABELS: Record<(typeof AUDIT_FIELDS)[number], string> = { repository: "Repository", environment: "Environment", actor: "Actor", action: "Action", since: "Since (UTC)", until: "Until (UTC)" };

function query(form: AuditData["form"], page: number): string {
  const q = new URLSearchParams();
  for (const f of AUDIT_FIELDS) if (form[f]) q.set(f, form[f]!);
  if (page > 1) q.set("page", String(page));
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** Details as "key: value" lines, each value cut to a line's worth: readable, never raw JSON. */
function details(d: Record<string, unknown>): Html | string {
  const entries = Object.entries(d).filter(([, v]) => v !== undefined && v !== null);
  if (entries.length === 0) return "";
  const value = (v: unknown) => {
    const text = typeof v === "string" ? v : Array.isArray(v) ? v.map((x) => (typeof x === "string" ? x : JSON.stringify(x))).join(", ") : JSON.stringify(v);
    return text.length > 160 ? text.slice(0, 159) + "…" : text;
  };
  return html`<dl class="kv">${entries.slice(0, 12).map(([k, v]) => html`<div><dt>${k}</dt> <dd>${value(v)}</dd></div>`)}</dl>`;
}

function row(e: AuditEntry, labels: AuditData["labels"]): Html {
  const label = e.environment && e.repository ? labels.get(`${e.repository}\u0000${e.environment}`) : undefined;
  const env = label ? html`<a href="/environments/${encodeURIComponent(label)}">${e.environment}</a>` : (e.environment ?? "");
  // data-label names each cell where a phone shows the row as a card (no table header there).
  return html`<tr><td data-label="When">${when(e.at)}</td><td data-label="Actor">${e.actor}</td><td data-label="Action"><code>${e.action}</code></td><td data-label="Repository">${e.repository ?? ""}</td><td data-label="Environment">${env}</td><td data-label="Commit">${e.commit ? html`<code>${shortSha(e.commit)}</code>` : ""}</td><td data-label="Details" class="details">${details(e.details)}</td></tr>`;
}

export function auditFilterOf(form: AuditData["form"]): AuditFilter {
  const filter: AuditFilter = {};
  for (const f of ["repository", "environment", "actor", "action"] as const) if (form[f]) filter[f] = form[f];
  return filter;
}

export function auditPage(ctx: PageContext, data: AuditData): Html {
  const pages = Math.max(1, Math.ceil(data.total / data.pageSize));
  const fields = AUDIT_FIELDS.map(
    (f) => html`<label>${LABELS[f]} <input name="${f}" value="${data.form[f] ?? ""}" maxlength="200"${f === "since" || f === "until" ? html` placeholder="2026-01-31 or 2026-01-31T12:00"` : ""}></label>`,
  );
  const table = data.entries.length
    ? html`<div class="scroll"><table class="audit"><thead><tr><th scope="col">When</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Repository</th><th scope="col">Environment</th><th scope="col">Commit</th><th scope="col">Details</th></tr></thead><tbody>${data.entries.map((e) => row(e, data.labels))}</tbody></table></div>`
    : html`<p class="muted">No entries match.</p>`;
  const pager = html`<nav class="pager" aria-label="Audit pages">${data.page > 1 ? html`<a href="/audit${query(data.form, data.page - 1)}">Newer</a>` : ""}<span>Page ${data.page} of ${pages} · ${data.total} entr${data.total === 1 ? "y" : "ies"}</span>${data.page < pages ? html`<a href="/audit${query(data.form, data.page + 1)}">Older</a>` : ""}</nav>`;
  return layout(ctx, "Audit log", html`<h1>Audit log</h1><form method="get" action="/audit" class="filters">${fields}<button type="submit">Filter</button> <a href="/audit">Clear</a></form>${table}${pager}`);
}
