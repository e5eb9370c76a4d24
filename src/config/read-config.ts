import { checkRefs } from "./check-refs.js";
import { diagnostic, sortDiagnostics, type Diagnostic } from "./diagnostics.js";
import { DocumentSet } from "./documents.js";
import type { EnvReference, GatewayConfig, OpenApiDocumentInfo, Operation, Route } from "./model.js";
import { isObject } from "./model.js";
import { collectOperations, lintOperations, lintParameterLists, lintServers, operationLabel } from "./operations.js";
import { openApiVersionOf, validateOpenApiSchema } from "./openapi-schema.js";
import { readPlainRoutes } from "./plain-format.js";
import { readSettings, SETTINGS_PATH, type RepoSettings } from "./settings.js";
import type { Snapshot } from "./snapshot.js";
import { DEFAULT_LIMITS, type ReadLimits } from "./source/source-file.js";
import { readPoliciesFile, readZuploRoutes } from "./zuplo-format.js";
import { checkRequestValidators, checkSchemaDialect, SchemaCompiler } from "./schema-check.js";
import { findPolicy } from "./builtins.js";

export interface ConfigResult {
  /** Present whenever a config document was found; check diagnostics for errors before serving it. */
  config: GatewayConfig | undefined;
  diagnostics: Diagnostic[];
}

export interface ReadOptions {
  limits?: Partial<ReadLimits>;
  /** Read this file as a plain OpenAPI document, whatever the settings say. */
  openapi?: string;
}

const PLAIN_DEFAULTS = ["openapi.yaml", "openapi.yml", "openapi.json"];

/** Where the config lives in this snapshot: the route files of the seed format, or one plain OpenAPI file. */
export function locateConfig(snapshot: Snapshot, settings: RepoSettings): { format: "zuplo" | "openapi"; files: string[]; policies?: string } | undefined {
  const dir = settings.configDir === "" ? "" : settings.configDir + "/";
  // A seed-format route file named on its own is read as one (with the policies.json beside it), not as a plain document.
  if (settings.openapi !== undefined && settings.openapi.endsWith(".oas.json") && snapshot.has(settings.openapi)) {
    const slash = settings.openapi.lastIndexOf("/");
    return { format: "zuplo", files: [settings.openapi], policies: settings.openapi.slice(0, slash + 1) + "policies.json" };
  }
  if (settings.openapi === undefined) {
    const routeFiles = [...snapshot.keys()].filter((p) => p.startsWith(dir) && !p.slice(dir.length).includes("/") && p.endsWith(".oas.json")).sort();
    if (routeFiles.length > 0) return { format: "zuplo", files: routeFiles };
  }
  const plain = settings.openapi ?? PLAIN_DEFAULTS.find((p) => snapshot.has(p));
  if (plain !== undefined && snapshot.has(plain)) return { format: "openapi", files: [plain] };
  return undefined;
}

/**
 * Reads a repository snapshot into a gateway config and every problem found in it, placed at
 * file:line:column. Pure: no file system, no network; the same input gives the same output.
 */
export function readConfig(snapshot: Snapshot, options: ReadOptions = {}): ConfigResult {
  const docs = new DocumentSet(snapshot, { ...DEFAULT_LIMITS, ...options.limits });
  const read = readSettings(docs);
  const diagnostics = read.diagnostics;
  const settings = options.openapi === undefined ? read.settings : { ...read.settings, openapi: options.openapi };
  const out: Diagnostic[] = [...diagnostics];
  const where = locateConfig(snapshot, settings);
  if (!where) {
    const message = settings.openapi
      ? `${SETTINGS_PATH} names ${settings.openapi} as the OpenAPI document, but it does not exist in this commit`
      : `No gateway config found in this directory: looked for ${settings.configDir === "" ? "" : settings.configDir + "/"}*.oas.json (the seed format, with ${settings.configDir === "" ? "" : settings.configDir + "/"}policies.json) and for ${PLAIN_DEFAULTS.join(", ")} at its root; none exists. Point gitway at the repository (or the OpenAPI file), or set "openapi:" in ${SETTINGS_PATH}`;
    // Placed at the directory itself ("."), which exists, rather than at a file that does not.
    out.push(settings.openapi ? docs.at("config-not-found", message, { file: SETTINGS_PATH, pointer: "/openapi" }) : diagnostic("config-not-found", message, { file: "." }));
    return { config: undefined, diagnostics: finish(docs, out) };
  }

  const documents: OpenApiDocumentInfo[] = [];
  const operations: Operation[] = [];
  for (const file of where.files) {
    const read = readOpenApiDocument(docs, file);
    out.push(...read.diagnostics);
    if (read.info) documents.push(read.info);
    operations.push(...read.operations);
  }
  out.push(...lintOperations(docs, operations), ...lintParameterLists(docs, operations));

  const env: EnvReference[] = [];
  let routes: Route[] = [];
  let policies: GatewayConfig["policies"] = [];
  let corsPolicies: GatewayConfig["corsPolicies"] = [];
  if (where.format === "zuplo") {
    const policiesPath = where.policies ?? (settings.configDir === "" ? "" : settings.configDir + "/") + "policies.json";
    const pf = readPoliciesFile(docs, policiesPath, env);
    out.push(...pf.diagnostics);
    policies = pf.file.policies;
    corsPolicies = pf.file.corsPolicies;
    const r = readZuploRoutes(docs, operations, pf.file, env);
    // A route file that could not be parsed leaves its policies unused: that follows from the parse error, it is not a problem of its own.
    const unparsed = where.files.some((f) => !docs.get(f));
    out.push(...r.diagnostics.filter((d) => !(unparsed && d.rule === "policy-unused")));
    routes = r.routes;
  } else {
    for (const d of documents) {
      const r = readPlainRoutes(docs, d.file, operations);
      out.push(...r.diagnostics);
      routes.push(...r.routes);
    }
  }
  // Every validator request-validation-inbound will compile, compiled now: one that cannot compile is
  // a diagnostic here rather than a 500 on every request to the route.
  const validating = new Set(policies.filter((p) => findPolicy(p.export)?.policyType === "request-validation-inbound").map((p) => p.name));
  // A schema the dialect check already refused is reported once, there.
  if (validating.size > 0 && !out.some((d) => d.rule === "schema-invalid")) {
    const versions = new Map(documents.map((d) => [d.file, d.version]));
    const checked = routes.filter((r) => r.inbound.some((n) => validating.has(n))).map((r) => ({ op: r.operation, version: versions.get(r.operation.location.file) ?? "3.1", label: operationLabel(r.operation) }));
    out.push(...checkRequestValidators(docs, new SchemaCompiler(docs), checked));
  }
  const config: GatewayConfig = { format: where.format, documents, operations, routes, policies, corsPolicies, env, settings, docs };
  return { config, diagnostics: finish(docs, out) };
}

function finish(docs: DocumentSet, out: Diagnostic[]): Diagnostic[] {
  return sortDiagnostics([...docs.diagnostics, ...out]);
}

/** One OpenAPI document's own checks: version, schema, $refs, servers; and its operations. */
function readOpenApiDocument(docs: DocumentSet, file: string): { info?: OpenApiDocumentInfo; operations: Operation[]; diagnostics: Diagnostic[] } {
  const doc = docs.get(file);
  if (!doc) return { operations: [], diagnostics: [] };
  const version = openApiVersionOf(doc.value);
  if (version !== "3.0" && version !== "3.1") {
    const swagger = isObject(doc.value) && doc.value.swagger !== undefined;
    const message = swagger
      ? "Swagger 2.0 is not supported: convert the document to OpenAPI 3.0 or 3.1"
      : version === undefined
        ? 'Not an OpenAPI document: the "openapi" field with a 3.0.x or 3.1.x version is missing'
        : `OpenAPI ${version} is not supported; use 3.0.x or 3.1.x`;
    return { operations: [], diagnostics: [docs.at("openapi-version", message, { file, pointer: swagger ? "/swagger" : version === undefined ? "" : "/openapi" })] };
  }
  const info = isObject(doc.value) && isObject(doc.value.info) ? doc.value.info : {};
  return {
    info: { file, version, title: typeof info.title === "string" ? info.title : undefined, apiVersion: typeof info.version === "string" ? info.version : undefined },
    operations: collectOperations(docs, file),
    diagnostics: [...validateOpenApiSchema(docs, file, version), ...(version === "3.1" ? checkSchemaDialect(docs, file) : []), ...checkRefs(docs, [file]), ...lintServers(docs, file, version)],
  };
}

/**
 * Validates one file as an OpenAPI document only, without the gateway's own requirements
 * (an upstream, x-zuplo-route): what an OpenAPI validator would say, placed at line and column.
 */
export function validateOpenApi(snapshot: Snapshot, file: string, options: ReadOptions = {}): Diagnostic[] {
  const docs = new DocumentSet(snapshot, { ...DEFAULT_LIMITS, ...options.limits });
  const read = readOpenApiDocument(docs, file);
  return finish(docs, [...read.diagnostics, ...lintOperations(docs, read.operations), ...lintParameterLists(docs, read.operations)]);
}
