import type { Change } from "../diff/index.js";
import { escapeMarkdown } from "./escape.js";

/**
 * Who called what in production over a window: the data a change report's impact lines are
 * rendered from. Keys are routes as a change report names operations ("DELETE /orders/{id}").
 */
export interface ImpactTable {
  days: number;
  /** False: counts only, no consumer names (`diff.impactNames: false`). */
  names: boolean;
  calls: ReadonlyMap<string, readonly ConsumerCalls[]>;
}

export interface ConsumerCalls {
  consumer: string;
  calls: number;
}

export interface Impact {
  total: number;
  /** Most calls first. */
  consumers: ConsumerCalls[];
}

/** Consumers named before "and N more": the store holds all of them (`gitway usage`). */
const NAMED = 5;

/** "41,200" whatever the process's locale. */
export function formatCount(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** The operations a change affects: its own, or every one that reaches its shared source. */
export function changeOperations(c: Change): string[] {
  if (c.affected && c.affected.length > 0) return [...new Set(c.affected.map((a) => a.operation))];
  return c.operation ? [c.operation] : [];
}

/** "GET /old/{id}" from an operation's place in the base ("/paths/~1old~1{id}/get"). */
function routeAt(pointer: string): string | undefined {
  const m = /^\/paths\/([^/]+)\/([a-z]+)$/.exec(pointer);
  return m ? `${m[2]!.toUpperCase()} ${m[1]!.replace(/~1/g, "/").replace(/~0/g, "~")}` : undefined;
}

/**
 * The routes whose callers a change would hit: the operations it names and, for an operation
 * moved to a new path, the path it had, which is the one production's callers call.
 */
export function impactRoutes(c: Change): string[] {
  const routes = changeOperations(c);
  const old = c.rule === "operation-path-changed" && c.base ? routeAt(c.base.pointer) : undefined;
  return old && !routes.includes(old) ? [...routes, old] : routes;
}

/** Calls to the given operations, summed per consumer (a change at a shared source sums its operations). */
export function impactOfOperations(operations: readonly string[], table: ImpactTable): Impact {
  const byConsumer = new Map<string, number>();
  for (const op of new Set(operations)) for (const c of table.calls.get(op) ?? []) byConsumer.set(c.consumer, (byConsumer.get(c.consumer) ?? 0) + c.calls);
  const consumers = [...byConsumer].map(([consumer, calls]) => ({ consumer, calls })).sort((a, b) => b.calls - a.calls || a.consumer.localeCompare(b.consumer));
  return { total: consumers.reduce((n, c) => n + c.calls, 0), consumers };
}

export function impactOf(c: Change, table: ImpactTable): Impact {
  return impactOfOperations(impactRoutes(c), table);
}

/**
 * "called by 3 consumers in the last 30 days: mobile-app (41,200 calls), partner-acme (1,020),
 * anonymous (12)", or "no calls in the last 30 days". Plain text: the caller escapes it for its medium.
 */
export function impactText(impact: Impact, table: Pick<ImpactTable, "days" | "names">): string {
  const window = `in the last ${table.days} day${table.days === 1 ? "" : "s"}`;
  if (impact.total === 0) return `no calls ${window}`;
  const n = impact.consumers.length;
  const who = `called by ${n} consumer${n === 1 ? "" : "s"} ${window}`;
  if (!table.names) return `${who}: ${formatCount(impact.total)} call${impact.total === 1 ? "" : "s"}`;
  const named = impact.consumers.slice(0, NAMED).map((c, i) => `${c.consumer} (${formatCount(c.calls)}${i === 0 ? ` call${c.calls === 1 ? "" : "s"}` : ""})`);
  const rest = impact.consumers.slice(NAMED);
  const more = rest.length > 0 ? `, and ${rest.length} more (${formatCount(rest.reduce((s, c) => s + c.calls, 0))})` : "";
  return `${who}: ${named.join(", ")}${more}`;
}

/** The same, for markdown: consumer names are the operator's words, escaped. */
export function impactMarkdown(impact: Impact, table: Pick<ImpactTable, "days" | "names">): string {
  return escapeMarkdown(impactText(impact, table));
}

/** Breaking changes not yet accepted, most calls first (then by operation): the order a reviewer weighs them in. */
export function rankByCalls(changes: readonly Change[], table: ImpactTable): { change: Change; impact: Impact }[] {
  return changes
    .map((change) => ({ change, impact: impactOf(change, table) }))
    .sort((a, b) => b.impact.total - a.impact.total || (a.change.operation ?? a.change.message).localeCompare(b.change.operation ?? b.change.message));
}

/** Bullet lines for the pull-request comment: each unaccepted breaking change with who it would hit, most called first. */
export function impactBullets(changes: readonly Change[], table: ImpactTable, max = 5): string[] {
  const open = changes.filter((c) => c.level === "breaking" && !c.accepted);
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const { change, impact } of rankByCalls(open, table)) {
    const ops = changeOperations(change);
    const key = ops.join("\u0000") || change.message;
    if (seen.has(key)) continue;
    seen.add(key);
    const what = ops.length === 1 ? `\`${ops[0]!.replace(/`/g, "'")}\`` : ops.length > 1 ? `${escapeMarkdown(change.rule)} (${ops.length} operations)` : escapeMarkdown(change.message);
    lines.push(`- ${what}: ${impactMarkdown(impact, table)}`);
  }
  return lines.length > max ? [...lines.slice(0, max), `- and ${lines.length - max} more (see Gitway / changes)`] : lines;
}
