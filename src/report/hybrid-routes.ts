import { escapeMarkdown } from "./escape.js";

/** Routes listed per environment in a deploy check; the rest are counted (a check run holds 65,535 characters). */
export const HYBRID_ROUTES_LISTED = 20;

/**
 * What nginx hands to the Node gateway behind it, as nested markdown bullets under an environment's
 * line of the deploy check: empty when nginx serves every route (or does not serve the environment).
 */
export function hybridRoutesMarkdown(routes: readonly { route: string; reason: string }[], indent = "  "): string[] {
  if (routes.length === 0) return [];
  const shown = routes.slice(0, HYBRID_ROUTES_LISTED).map((h) => `${indent}  - ${escapeMarkdown(h.route)}: ${escapeMarkdown(h.reason)}`);
  const more = routes.length - shown.length;
  return [
    `${indent}- nginx hands ${routes.length} route${routes.length === 1 ? "" : "s"} to the Node gateway behind it:`,
    ...shown,
    ...(more > 0 ? [`${indent}  - and ${more} more (\`gitway validate --engine nginx\` lists them all)`] : []),
  ];
}
