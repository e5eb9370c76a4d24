/** Rendering: diagnostics and change reports as text, JSON, markdown and check-run output. */
export { formatDiagnosticLine, summarizeDiagnostics } from "./diagnostics-text.js";
