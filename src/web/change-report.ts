import type { DeploymentView } from "../admin/types.js";
import { changeKind } from "../report/index.js";
import { html, type Html } from "./html.js";

/** The fields of a diff change the dashboard shows; read defensively, as the report is stored JSON. */
interface ShownChange {
  rule: string;
  level: "breaking" | "warning" | "info";
  category: string;
  operation: string | null;
  message: string;
  where: string | null;
  accepted: string | null;
  /** Every operation that reaches a change made in a shared place (a component), in order. */
  affected: string[];
  /** What differs under a switch of component, worst first. */
  details: string[];
}

function text(v: unknown): string | null {
  return typeof v === "string" ? v : null;
}

function place(v: unknown): string | null {
  if (!v || typeof v !== "object") return null;
  const p = v as { file?: unknown; line?: unknown };
  return typeof p.file === "string" ? `${p.file}${typeof p.line === "number" ? `:${p.line}` : ""}` : null;
}

function shown(raw: unknown): ShownChange | null {
  if (!raw || typeof raw !== "object") return null;
  const c = raw as Record<string, unknown>;
  const level = c.level === "breaking" || c.level === "warning" || c.level === "info" ? c.level : null;
  const message = text(c.message);
  if (!level || message === null) return null;
  const accepted = c.accepted && typeof c.accepted === "object" ? (text((c.accepted as { reason?: unknown }).reason) ?? "accepted") : null;
  const affected = Array.isArray(c.affected) ? [...new Set(c.affected.map((a: unknown) => text((a as { operation?: unknown } | null)?.operation)).filter((o): o is string => !!o))] : [];
  const details = Array.isArray(c.details) ? c.details.map((d: unknown) => text((d as { message?: unknown } | null)?.message)).filter((m): m is string => m !== null) : [];
  return { rule: text(c.rule) ?? "", level, category: text(c.category) ?? "", operation: text(c.operation), message, where: place(c.head) ?? place(c.base), accepted, affected, details };
}

/** What a reviewer reads first: breaking, then security, then the rest by level; accepted last. Within one, by kind (an operation gone first). */
function rank(c: ShownChange): number {
  if (c.accepted) return 9;
  if (c.level === "breaking") return c.category === "security" ? 0 : 1;
  if (c.category === "security") return 2;
  return c.level === "warning" ? 3 : 4;
}

/** Operations affected, shown before "and N more" (the JSON report lists all). */
const FIRST_FEW = 3;

function operations(c: ShownChange): Html | string {
  const all = c.affected.length > 0 ? c.affected : c.operation ? [c.operation] : [];
  const shown = all.slice(0, FIRST_FEW).map((o) => html`<code>${o}</code>`);
  return html`${shown.map((o, i) => html`${i > 0 ? html`<br>` : ""}${o}`)}${all.length > FIRST_FEW ? html`<br><span class="muted">and ${all.length - FIRST_FEW} more</span>` : ""}`;
}

/** The most rows one report shows; the JSON report (`gitway diff --format json`) has them all. */
const MAX_ROWS = 200;

export function changeReport(report: DeploymentView["report"]): Html {
  if (!report) return html`<p class="muted">No change report (the first deployment, or none was recorded).</p>`;
  const s = report.summary;
  const changes = report.changes
    .map(shown)
    .filter((c): c is ShownChange => c !== null)
    .map((c, i) => ({ c, i }))
    .sort((a, b) => rank(a.c) - rank(b.c) || changeKind(a.c.rule).rank - changeKind(b.c.rule).rank || a.i - b.i)
    .map(({ c }) => c);
  const summary = html`<p class="summary"><strong>${s.breaking} breaking</strong>, ${s.warning} warning${s.warning === 1 ? "" : "s"}, ${s.info} info${s.accepted ? `, ${s.accepted} accepted` : ""}</p>`;
  if (changes.length === 0) return html`${summary}<p class="muted">No changes to the API contract or the gateway's policies.</p>`;
  const rows = changes.slice(0, MAX_ROWS).map(
    (c) => html`<tr class="change ${c.accepted ? "accepted" : c.level}${c.category === "security" ? " security" : ""}">
      <td><span class="level">${c.accepted ? "accepted" : c.level}</span>${c.category === "security" ? html` <span class="tag security">security</span>` : c.category ? html` <span class="tag">${c.category}</span>` : ""}</td>
      <td>${operations(c)}</td>
      <td>${c.message}${c.accepted ? html`<br><span class="muted">accepted: ${c.accepted}</span>` : ""} <span class="muted rule">${c.rule}</span>${c.details.length ? html`<details><summary>${c.details.length} difference${c.details.length === 1 ? "" : "s"}</summary>${c.details.slice(0, 50).map((d, i) => html`${i > 0 ? html`<br>` : ""}${d}`)}</details>` : ""}</td>
      <td>${c.where ? html`<code>${c.where}</code>` : ""}</td>
    </tr>`,
  );
  return html`${summary}<div class="scroll"><table class="changes">
    <thead><tr><th scope="col">Level</th><th scope="col">Operation</th><th scope="col">Change</th><th scope="col">Where</th></tr></thead>
    <tbody>${rows}</tbody></table></div>${changes.length > MAX_ROWS ? html`<p class="muted">… and ${changes.length - MAX_ROWS} more.</p>` : ""}`;
}
