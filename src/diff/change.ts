import { createHash } from "node:crypto";

export type ChangeLevel = "breaking" | "warning" | "info";
export type ChangeCategory = "contract" | "security" | "traffic" | "upstream";

export interface ChangePlace {
  file: string;
  line: number;
  column: number;
  pointer: string;
}

/** One difference between base and head that a reviewer should know about. */
export interface Change {
  /** Same across commits while the change itself is the same: a hash of rule, operation and message. */
  fingerprint: string;
  rule: string;
  level: ChangeLevel;
  category: ChangeCategory;
  /** "GET /orders/{id}", or undefined for config-wide changes. */
  operation: string | undefined;
  message: string;
  base?: ChangePlace;
  head?: ChangePlace;
  /** Set when the repository's settings accept this change; it then no longer fails the check. */
  accepted?: { reason: string };
}

export interface ChangeSummary {
  breaking: number;
  warning: number;
  info: number;
  /** Changes the settings accepted (counted here, not above). */
  accepted: number;
}

export interface ChangeReport {
  changes: Change[];
  summary: ChangeSummary;
}

export function fingerprintOf(rule: string, operation: string | undefined, message: string): string {
  return createHash("sha256").update(`${rule}\u0000${operation ?? ""}\u0000${message}`).digest("hex").slice(0, 12);
}

export function summarize(changes: readonly Change[]): ChangeSummary {
  const s: ChangeSummary = { breaking: 0, warning: 0, info: 0, accepted: 0 };
  for (const c of changes) {
    if (c.accepted) s.accepted++;
    else s[c.level]++;
  }
  return s;
}

const LEVEL_ORDER: Record<ChangeLevel, number> = { breaking: 0, warning: 1, info: 2 };

/** Most severe first, then by operation and rule: the order a reviewer reads. */
export function sortChanges(changes: Change[]): Change[] {
  return changes.sort(
    (a, b) =>
      LEVEL_ORDER[a.level] - LEVEL_ORDER[b.level] ||
      (a.operation ?? "").localeCompare(b.operation ?? "") ||
      a.rule.localeCompare(b.rule) ||
      a.message.localeCompare(b.message),
  );
}
