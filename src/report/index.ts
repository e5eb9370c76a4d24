/** Rendering: diagnostics and change reports as text, JSON, markdown and check-run output. */
export { formatDiagnosticLine, summarizeDiagnostics } from "./diagnostics-text.js";
export { renderChangesText, renderChangesMarkdown, summaryLine, GITHUB_TEXT_LIMIT, type MarkdownOptions } from "./changes.js";
export { escapeMarkdown } from "./escape.js";
