import type { Diagnostic } from "../config/index.js";

/** `file:line:col: severity rule: message`, the compiler format editors and CI log parsers understand. */
export function formatDiagnosticLine(d: Diagnostic, prefix = ""): string {
  return `${prefix}${d.file}:${d.line}:${d.column}: ${d.severity} ${d.rule}: ${d.message}`;
}

export function summarizeDiagnostics(diagnostics: readonly Diagnostic[]): string {
  const count = (s: Diagnostic["severity"]) => diagnostics.filter((d) => d.severity === s).length;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  return `${plural(count("error"), "error")}, ${plural(count("warning"), "warning")}, ${plural(count("info"), "note")}`;
}
