import { fileURLToPath } from "node:url";
import type { Diagnostic, Snapshot } from "../src/config/index.js";

/** A snapshot from inline files, as a repository commit would give it. */
export function snapshot(files: Record<string, string | Uint8Array>): Snapshot {
  return new Map(Object.entries(files));
}

/** The parts of a diagnostic a test pins: rule and position (and severity). */
export function placed(diagnostics: readonly Diagnostic[]): { rule: string; file: string; line: number; column: number; severity: string }[] {
  return diagnostics.map((d) => ({ rule: d.rule, file: d.file, line: d.line, column: d.column, severity: d.severity }));
}

/** The seed-format example in this repository (examples/seed-orders), as the README's commands use it. */
export const SEED_DIR = fileURLToPath(new URL("../examples/seed-orders/", import.meta.url));

/** Line and column (1-based) of the n-th occurrence of a marker in a fixture's text. */
export function positionOf(text: string, marker: string, occurrence = 1): { line: number; column: number } {
  let at = -1;
  for (let i = 0; i < occurrence; i++) {
    at = text.indexOf(marker, at + 1);
    if (at === -1) throw new Error(`marker ${JSON.stringify(marker)} (#${occurrence}) not in fixture`);
  }
  const before = text.slice(0, at);
  const line = before.split("\n").length;
  return { line, column: at - before.lastIndexOf("\n") };
}
