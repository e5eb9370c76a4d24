import { createHash } from "node:crypto";
import { changeKind } from "./change-kind.js";

export type ChangeLevel = "breaking" | "warning" | "info";
export type ChangeCategory = "contract" | "security" | "traffic" | "upstream";

export interface ChangePlace {
  file: string;
  line: number;
  column: number;
  pointer: string;
}

/** One operation (or route) that reaches a change made in a shared place, and how it reaches it. */
export interface AffectedPlace {
  /** "GET /orders/{id}". */
  operation: string;
  /** "response 200 (application/json) property items[].name"; empty when the operation itself is all there is to say. */
  where: string;
}

/** One difference between base and head that a reviewer should know about. */
export interface Change {
  /**
   * Same across commits while the change itself is the same. A change at a shared source (a
   * component schema, a policy) hashes its rule, its place and what changed there, never the
   * operations it affects: an approval stays valid when another operation starts using the component.
   * Other changes hash rule, operation and message.
   */
  fingerprint: string;
  rule: string;
  level: ChangeLevel;
  category: ChangeCategory;
  /** "GET /orders/{id}"; undefined for config-wide changes and for a shared source that affects several operations. */
  operation: string | undefined;
  message: string;
  base?: ChangePlace;
  head?: ChangePlace;
  /** Set when the repository's settings accept this change; it then no longer fails the check. */
  accepted?: { reason: string };
  /** For a change at a shared source: every operation and path that reaches it, in the order found. */
  affected?: AffectedPlace[];
  /** For a place that switched to another component: each difference between the two, worst first. */
  details?: ChangeDetail[];
}

/** One difference folded under a change (a switch of component): its rule, level and words. */
export interface ChangeDetail {
  rule: string;
  level: ChangeLevel;
  /** "property archived: became optional". */
  message: string;
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

/** The fingerprint of a change at a shared source: its rule, its place on both sides and what changed. */
export function sourceFingerprintOf(rule: string, base: { file: string; pointer: string } | undefined, head: { file: string; pointer: string } | undefined, detail: string): string {
  const at = (p: { file: string; pointer: string } | undefined) => (p ? `${p.file}#${p.pointer}` : "");
  return createHash("sha256").update(`${rule}\u0000@${at(base)}\u0000${at(head)}\u0000${detail}`).digest("hex").slice(0, 12);
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

/** Most severe first, then by kind (an operation gone before a field changed), operation and rule: the order a reviewer reads. */
export function sortChanges(changes: Change[]): Change[] {
  return changes.sort(
    (a, b) =>
      LEVEL_ORDER[a.level] - LEVEL_ORDER[b.level] ||
      changeKind(a.rule).rank - changeKind(b.rule).rank ||
      (a.operation ?? "").localeCompare(b.operation ?? "") ||
      a.rule.localeCompare(b.rule) ||
      a.message.localeCompare(b.message),
  );
}
