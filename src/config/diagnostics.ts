/** A problem found in a repository's gateway config, placed the way a compiler places it. */
export type Severity = "error" | "warning" | "info";

export interface Position {
  /** 1-based. */
  line: number;
  /** 1-based, in characters (UTF-16 code units) of that line. */
  column: number;
}

export interface Diagnostic extends Position {
  severity: Severity;
  /** Stable kebab-case id; see RULES. Callers match on this, never on the message. */
  rule: RuleId;
  message: string;
  /** Repository path, forward slashes. */
  file: string;
  /** JSON pointer into `file` ("" is the document root). */
  pointer: string;
}

/**
 * Every rule the config stage can report, with its default severity and what it is about.
 * The registry is the single list: docs and tests read it, so a new rule cannot go unlisted.
 */
export const RULES = {
  "file-too-large": { severity: "error", about: "A config file is over the size limit; it was not read." },
  "upstream-not-allowed": { severity: "error", about: "A preview's route forwards to an address it may not reach (GITWAY_UPSTREAM_ALLOW allows it)." },
  "config-read-limit": { severity: "error", about: "The commit's config files are too many or too large together, or reading them timed out; none was read." },
  "file-not-text": { severity: "error", about: "A config file is binary or not valid UTF-8." },
  "file-empty": { severity: "error", about: "A config file is empty." },
  "file-missing": { severity: "error", about: "A file the config names does not exist in the repository." },
  "json-syntax": { severity: "error", about: "A JSON file does not parse." },
  "yaml-syntax": { severity: "error", about: "A YAML file does not parse." },
  "duplicate-key": { severity: "error", about: "An object names the same key twice; only one would survive parsing." },
  "nesting-too-deep": { severity: "error", about: "A document nests deeper than the limit." },
  "yaml-alias-limit": { severity: "error", about: "YAML aliases expand beyond the limit (an alias bomb)." },
  "openapi-version": { severity: "error", about: "The document is not OpenAPI 3.0 or 3.1." },
  "openapi-schema": { severity: "error", about: "The document does not fit the OpenAPI schema." },
  "schema-invalid": { severity: "error", about: "A schema is not valid in its document's JSON Schema dialect (3.1: 2020-12), or request validation cannot compile it." },
  "ref-external-url": { severity: "error", about: "A $ref points to a URL; Gitway never fetches one." },
  "ref-outside-repository": { severity: "error", about: "A $ref points outside the repository." },
  "ref-not-found": { severity: "error", about: "A $ref points to nothing." },
  "ref-invalid": { severity: "error", about: "A $ref is not a valid reference." },
  "path-parameter-undeclared": { severity: "error", about: "A path template names a parameter the operation does not declare." },
  "path-parameter-not-in-template": { severity: "error", about: "A path parameter is declared but the path template does not name it." },
  "operation-id-duplicate": { severity: "error", about: "Two operations share an operationId." },
  "path-template-invalid": { severity: "error", about: "A path is not a URL path template a gateway can route (spaces, quotes, unbalanced braces)." },
  "parameter-duplicate": { severity: "error", about: "A parameter list names the same parameter (name and location) twice." },
  "server-url-invalid": { severity: "error", about: "A server url is not a URL, even with its variables filled in." },
  "server-variable-invalid": { severity: "error", about: "A server variable's default is not among its enum values." },
  "route-duplicate": { severity: "error", about: "Two operations serve the same method and path once parameters are normalised." },
  "route-missing-gateway-extension": { severity: "warning", about: "An operation has no x-zuplo-route, so the gateway does not serve it." },
  "route-invalid": { severity: "error", about: "An x-zuplo-route object is malformed." },
  "handler-unknown": { severity: "error", about: "A route's handler is not a built-in Gitway serves." },
  "handler-options-invalid": { severity: "error", about: "A handler's options do not fit its schema." },
  "module-custom-unsupported": { severity: "error", about: "A handler or policy is a custom code module; Gitway does not run custom code." },
  "forward-base-url-invalid": { severity: "error", about: "A forwarding handler has no usable baseUrl." },
  "policy-undefined": { severity: "error", about: "A route names a policy that policies.json does not define." },
  "policy-duplicate-name": { severity: "error", about: "policies.json defines a name twice." },
  "policy-unknown": { severity: "error", about: "A policy's export is not a built-in policy Gitway enforces." },
  "policy-options-invalid": { severity: "error", about: "A policy's options do not fit its schema." },
  "option-unsupported": { severity: "error", about: "A handler or policy option is part of the seed format but Gitway does not act on it yet; remove it." },
  "policy-unused": { severity: "info", about: "A policy is defined but no route uses it." },
  "policies-file-invalid": { severity: "error", about: "policies.json does not have the expected shape." },
  "cors-policy-undefined": { severity: "error", about: "A route names a CORS policy that is neither built in nor defined." },
  "env-reference-invalid": { severity: "error", about: "A $env(...) reference is malformed." },
  "upstream-url-invalid": { severity: "error", about: "A plain OpenAPI document has no usable servers[0].url to forward to." },
  "config-not-found": { severity: "error", about: "No gateway config was found where the settings say." },
  "settings-invalid": { severity: "error", about: ".github/gitway.yml does not fit its schema." },
} as const satisfies Record<string, { severity: Severity; about: string }>;

export type RuleId = keyof typeof RULES;

export function diagnostic(
  rule: RuleId,
  message: string,
  where: { file: string; pointer?: string } & Partial<Position>,
  severity: Severity = RULES[rule].severity,
): Diagnostic {
  return {
    severity,
    rule,
    message,
    file: where.file,
    line: where.line ?? 1,
    column: where.column ?? 1,
    pointer: where.pointer ?? "",
  };
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}

/** Stable order: by file, then position, then rule, so output and snapshots do not flicker. */
/** Errors first, then warnings, then notes: the problem to fix leads. */
const SEVERITY_ORDER: Record<Diagnostic["severity"], number> = { error: 0, warning: 1, info: 2 };

export function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics.sort(
    (a, b) =>
      SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
      a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column || a.rule.localeCompare(b.rule),
  );
}

/** User text quoted in a message, clipped so a hostile 10 KB path cannot flood a log or a check run. */
export function clip(text: string, max = 80): string {
  const flat = text.replace(/\s+/g, " ");
  return flat.length <= max ? flat : flat.slice(0, max - 1) + "…";
}
