/** Rendering: diagnostics and change reports as text, JSON, markdown and check-run output. */
export { formatDiagnosticLine, summarizeDiagnostics } from "./diagnostics-text.js";
export { renderChangesText, renderChangesMarkdown, summaryLine, GITHUB_TEXT_LIMIT, type MarkdownOptions } from "./changes.js";
export { escapeMarkdown } from "./escape.js";
export { validationCheck, changesCheck, noConfigCheck, unapprovedBreaking, fitText, annotationOf, CHECK_TEXT_LIMIT, ANNOTATIONS_PER_REQUEST, type CheckText, type CheckAnnotation, type CheckConclusion } from "./check-runs.js";
export { blobLinks, type RepositoryWeb } from "./source-links.js";
export { pullRequestComment, COMMENT_MARKER, type PreviewState } from "./pull-request-comment.js";
export { changeKind, type ChangeKind } from "../diff/index.js";
export { smokeCheck, type SmokeCheckRow } from "./smoke-check.js";
export { hybridRoutesMarkdown, HYBRID_ROUTES_LISTED } from "./hybrid-routes.js";
export { impactOf, impactOfOperations, impactText, impactBullets, impactRoutes, changeOperations, formatCount, rankByCalls, type ImpactTable, type ConsumerCalls, type Impact } from "./impact.js";
