import type { DocumentSet, Location } from "./documents.js";
import type { OpenApiVersion } from "./openapi-schema.js";
import type { RepoSettings } from "./settings.js";

export const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export type JsonObject = Record<string, unknown>;

export interface Parameter {
  name: string;
  in: "path" | "query" | "header" | "cookie" | string;
  required: boolean;
  /** The dereferenced Parameter Object. */
  value: JsonObject;
  location: Location;
}

/** One OpenAPI operation with its path-level and operation-level parameters merged and dereferenced. */
export interface Operation {
  method: HttpMethod;
  path: string;
  operationId: string | undefined;
  value: JsonObject;
  location: Location;
  parameters: Parameter[];
  /** The document the operation belongs to (its root file). */
  document: string;
}

export interface HandlerRef {
  export: string;
  module: string;
  options: JsonObject;
  location: Location;
}

export interface Route {
  /** "GET /api/v1/orders". */
  id: string;
  operation: Operation;
  handler: HandlerRef;
  /** "none", "anything-goes", or a name from corsPolicies. */
  corsPolicy: string;
  inbound: string[];
  outbound: string[];
  location: Location;
}

export interface PolicyDefinition {
  name: string;
  policyType: string;
  export: string;
  module: string;
  options: JsonObject;
  location: Location;
}

export interface CorsPolicyDefinition {
  name: string;
  allowedOrigins: string[];
  allowedMethods: string[];
  allowedHeaders: string[];
  exposeHeaders: string[];
  allowCredentials: boolean;
  maxAge: number | undefined;
  location: Location;
}

/** A `$env(NAME)` a deployment must supply: an environment without it is refused, never served with "". */
export interface EnvReference {
  name: string;
  location: Location;
}

export interface OpenApiDocumentInfo {
  file: string;
  version: OpenApiVersion;
  title: string | undefined;
  apiVersion: string | undefined;
}

export interface GatewayConfig {
  format: "zuplo" | "openapi";
  documents: OpenApiDocumentInfo[];
  operations: Operation[];
  routes: Route[];
  policies: PolicyDefinition[];
  corsPolicies: CorsPolicyDefinition[];
  env: EnvReference[];
  settings: RepoSettings;
  /** The parsed files, for stages that must follow $refs (diff, request validation). */
  docs: DocumentSet;
}

export function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
