import { escapeMarkdown } from "./escape.js";

/** Routes listed in a deploy check; the rest are counted (a check run holds 65,535 characters). */
export const HYBRID_ROUTES_LISTED = 20;

/**
 * What nginx hands to the Node gateway behind it, as a paragraph and a flat list (GitHub and the
 * dashboard render both alike) for the end of the deploy check: one line per route and reason,
 * naming the environments it holds for. Empty when nginx serves every route, or serves none of them.
 */
export function hybridRoutesMarkdown(routes: readonly { environment: string; route: string; reason: string }[]): string[] {
  const grouped = new Map<string, { route: string; reason: string; environments: string[] }>();
  for (const h of routes) {
    const key = `${h.route}\u0000${h.reason}`;
    const entry = grouped.get(key) ?? { route: h.route, reason: h.reason, environments: [] };
    if (!entry.environments.includes(h.environment)) entry.environments.push(h.environment);
    grouped.set(key, entry);
  }
  if (grouped.size === 0) return [];
  const all = [...grouped.values()];
  const count = new Set(all.map((h) => h.route)).size;
  const shown = all.slice(0, HYBRID_ROUTES_LISTED).map((h) => `- ${escapeMarkdown(h.route)} (${h.environments.map((e) => `\`${e}\``).join(", ")}): ${escapeMarkdown(h.reason)}`);
  const more = all.length - shown.length;
  return [
    "",
    `nginx hands ${count} route${count === 1 ? "" : "s"} to the Node gateway behind it:`,
    ...shown,
    ...(more > 0 ? [`- and ${more} more (\`gitway validate --engine nginx\` lists them all)`] : []),
  ];
}
