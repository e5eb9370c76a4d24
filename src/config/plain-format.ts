import type { Diagnostic } from "./diagnostics.js";
import type { DocumentSet } from "./documents.js";
import { isObject, type Operation, type Route } from "./model.js";
import { operationLabel } from "./operations.js";
import { RUNTIME_MODULE } from "./builtins.js";
import { upstreamUrlProblem } from "./upstream-url.js";

/** servers[0].url with its {variables} filled from their defaults. */
export function firstServerUrl(doc: unknown): string | undefined {
  if (!isObject(doc) || !Array.isArray(doc.servers)) return undefined;
  const server: unknown = doc.servers[0];
  if (!isObject(server) || typeof server.url !== "string") return undefined;
  const vars = isObject(server.variables) ? server.variables : {};
  return server.url.replace(/\{([^}]+)\}/g, (m, name: string) => {
    const v = vars[name];
    return isObject(v) && typeof v.default === "string" ? v.default : m;
  });
}

/** A plain OpenAPI document: every operation forwards to servers[0].url, with no policies. */
export function readPlainRoutes(docs: DocumentSet, file: string, operations: readonly Operation[]): { routes: Route[]; diagnostics: Diagnostic[] } {
  const doc = docs.get(file)?.value;
  const url = firstServerUrl(doc);
  const why = url === undefined ? "is missing; add servers: [{url: https://your-upstream.example.com}] so the gateway knows where to forward" : upstreamUrlProblem(url);
  if (why) {
    const pointer = url === undefined ? (isObject(doc) && Array.isArray(doc.servers) ? "/servers" : "") : "/servers/0/url";
    return { routes: [], diagnostics: [docs.at("upstream-url-invalid", `servers[0].url ${why}`, { file, pointer })] };
  }
  const routes = operations
    .filter((op) => op.document === file)
    .map<Route>((op) => ({
      id: operationLabel(op),
      operation: op,
      handler: { export: "urlForwardHandler", module: RUNTIME_MODULE, options: { baseUrl: url! }, location: { file, pointer: "/servers/0/url" } },
      corsPolicy: "none",
      inbound: [],
      outbound: [],
      location: op.location,
    }));
  return { routes, diagnostics: [] };
}
