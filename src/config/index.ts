/** The config stage: a repository snapshot in, a typed gateway config and placed diagnostics out. */
export { readConfig, validateOpenApi, locateConfig, type ConfigResult, type ReadOptions } from "./read-config.js";
export { RULES, hasErrors, sortDiagnostics, diagnostic, type Diagnostic, type RuleId, type Severity, type Position } from "./diagnostics.js";
export type { Snapshot } from "./snapshot.js";
export { normalizeRepoPath } from "./snapshot.js";
export { DEFAULT_LIMITS, parseSource, type ReadLimits, type SourceFile, type FileContent } from "./source/source-file.js";
export { DocumentSet, refOf, type Location, type RefResult } from "./documents.js";
export * from "./model.js";
export { operationLabel, normalizeTemplate, templateNames, collectOperations } from "./operations.js";
export { HANDLERS, POLICIES, RUNTIME_MODULE, findHandler, findPolicy, type BuiltinPolicy, type BuiltinHandler, type PolicyKind } from "./builtins.js";
export { envNames, envNamesIn } from "./env-refs.js";
export { isIpOrCidr } from "./options-schema.js";
export { SETTINGS_PATH, DEFAULT_SETTINGS, APPROVAL_PERMISSIONS, unknownSeverityRules, type RepoSettings, type ChangeLevelOverride, type ApprovalPermission } from "./settings.js";
export { joinPointer, parsePointer, getAtPointer, escapeSegment } from "./pointer.js";
export { firstServerUrl } from "./plain-format.js";
export { parseEnvFile, type EnvFile } from "./env-file.js";
export { SchemaCompiler } from "./schema-check.js";
export { tryPath } from "./try-path.js";
