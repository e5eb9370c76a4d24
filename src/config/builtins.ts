/**
 * The handlers and policies Gitway's gateway implements, by the seed format's export names, with
 * the schema of their options. Validation and the runtime both read this one list, so a config
 * that validates is a config the gateway can serve.
 */
export const RUNTIME_MODULE = "$import(@zuplo/runtime)";

type Schema = Record<string, unknown>;

/**
 * Options the schema accepts (they are part of the seed format) but the runtime does not act on
 * yet, by path inside the options ("*" is any array item), with why. Validation refuses them with
 * `option-unsupported`, so no config promises something the gateway does not do.
 */
export type UnsupportedOptions = Readonly<Record<string, string>>;

export interface BuiltinHandler {
  export: string;
  options: Schema;
  unsupported?: UnsupportedOptions;
}

export type PolicyDirection = "inbound" | "outbound";
/** What a policy does, so the diff can say "authentication removed" or "rate limit loosened". */
export type PolicyKind = "authentication" | "authorization" | "rate-limit" | "validation" | "transform" | "mock" | "size-limit";

export interface BuiltinPolicy {
  export: string;
  policyType: string;
  direction: PolicyDirection;
  kind: PolicyKind;
  options: Schema;
  unsupported?: UnsupportedOptions;
}

const str = { type: "string" } as const;
const bool = { type: "boolean" } as const;
const headerName = { type: "string", minLength: 1, pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" } as const;
const validationMode = { enum: ["none", "log-only", "reject-and-log", "reject-only"] } as const;

function object(properties: Schema, required: string[] = []): Schema {
  return { type: "object", properties, required, additionalProperties: false };
}

export const HANDLERS: readonly BuiltinHandler[] = [
  {
    export: "urlForwardHandler",
    options: object({ baseUrl: { type: "string", minLength: 1 }, forwardSearch: bool, followRedirects: bool, timeoutMs: { type: "integer", minimum: 1 } }, ["baseUrl"]),
  },
  {
    export: "urlRewriteHandler",
    options: object({ rewritePattern: { type: "string", minLength: 1 }, forwardSearch: bool, followRedirects: bool, timeoutMs: { type: "integer", minimum: 1 } }, ["rewritePattern"]),
  },
  {
    export: "redirectHandler",
    options: object({ location: { type: "string", minLength: 1 }, status: { enum: [301, 302, 303, 307, 308] } }, ["location"]),
  },
];

const headersToSet = {
  type: "array",
  items: object({ name: headerName, value: str, overwrite: bool }, ["name", "value"]),
} as const;

export const POLICIES: readonly BuiltinPolicy[] = [
  {
    export: "ApiKeyInboundPolicy",
    policyType: "api-key-inbound",
    direction: "inbound",
    kind: "authentication",
    options: object({ authHeader: headerName, authScheme: { type: "string" }, allowUnauthenticatedRequests: bool, cacheTtlSeconds: { type: "number", minimum: 0 } }),
    unsupported: { cacheTtlSeconds: "Gitway holds an environment's key hashes in memory and checks every request against them; there is no key lookup to cache" },
  },
  {
    export: "BasicAuthInboundPolicy",
    policyType: "basic-auth-inbound",
    direction: "inbound",
    kind: "authentication",
    options: object(
      {
        accounts: { type: "array", minItems: 1, items: object({ username: { type: "string", minLength: 1, pattern: "^[^:]*$" }, password: { type: "string", minLength: 1 }, data: { type: "object" } }, ["username", "password"]) },
        allowUnauthenticatedRequests: bool,
      },
      ["accounts"],
    ),
    unsupported: { "accounts/*/data": "account data is not passed on to the upstream or the access log yet; only the username is (as x-consumer-name)" },
  },
  {
    export: "IPRestrictionInboundPolicy",
    policyType: "ip-restriction-inbound",
    direction: "inbound",
    kind: "authorization",
    options: object({ allowedIpAddresses: { type: "array", items: { type: "string", format: "ip-or-cidr" } }, blockedIpAddresses: { type: "array", items: { type: "string", format: "ip-or-cidr" } } }),
  },
  {
    export: "RateLimitInboundPolicy",
    policyType: "rate-limit-inbound",
    direction: "inbound",
    kind: "rate-limit",
    options: object(
      {
        rateLimitBy: { enum: ["ip", "user", "all"] },
        requestsAllowed: { type: "integer", minimum: 1 },
        timeWindowMinutes: { type: "number", exclusiveMinimum: 0 },
        headerMode: { enum: ["none", "retry-after"] },
        throwOnFailure: bool,
      },
      ["rateLimitBy", "requestsAllowed", "timeWindowMinutes"],
    ),
  },
  {
    export: "RequestValidationInboundPolicy",
    policyType: "request-validation-inbound",
    direction: "inbound",
    kind: "validation",
    options: object({ validateBody: validationMode, validateQueryParameters: validationMode, validatePathParameters: validationMode, validateHeaders: validationMode, includeRequestInLogs: bool }),
    unsupported: { includeRequestInLogs: "the log of a failed validation names the method, path and errors; whole requests are never logged, since they carry credentials" },
  },
  {
    export: "RequestSizeLimitInboundPolicy",
    policyType: "request-size-limit-inbound",
    direction: "inbound",
    kind: "size-limit",
    options: object({ maxSizeInBytes: { type: "integer", minimum: 0 }, trustContentLengthHeader: bool }, ["maxSizeInBytes"]),
    unsupported: { trustContentLengthHeader: "the gateway always counts the bytes it reads (and refuses a declared Content-Length over the limit before reading)" },
  },
  {
    export: "MockApiInboundPolicy",
    policyType: "mock-api-inbound",
    direction: "inbound",
    kind: "mock",
    options: object({ random: bool, responsePrefixFilter: str, contentType: str, exampleName: str }),
  },
  { export: "SetHeadersInboundPolicy", policyType: "set-headers-inbound", direction: "inbound", kind: "transform", options: object({ headers: headersToSet }, ["headers"]) },
  { export: "SetHeadersOutboundPolicy", policyType: "set-headers-outbound", direction: "outbound", kind: "transform", options: object({ headers: headersToSet }, ["headers"]) },
  { export: "RemoveHeadersInboundPolicy", policyType: "remove-headers-inbound", direction: "inbound", kind: "transform", options: object({ headers: { type: "array", items: headerName } }, ["headers"]) },
  { export: "RemoveHeadersOutboundPolicy", policyType: "remove-headers-outbound", direction: "outbound", kind: "transform", options: object({ headers: { type: "array", items: headerName } }, ["headers"]) },
];

export const BUILTIN_CORS = ["none", "anything-goes"] as const;

export function findHandler(name: string): BuiltinHandler | undefined {
  return HANDLERS.find((h) => h.export === name);
}

export function findPolicy(exportName: string): BuiltinPolicy | undefined {
  return POLICIES.find((p) => p.export === exportName);
}

/** The closest known name, for "did you mean" in messages. */
export function closest(name: string, candidates: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  const extended = candidates.filter((c) => c.toLowerCase().startsWith(lower) || lower.startsWith(c.toLowerCase()));
  if (lower.length >= 3 && extended.length === 1) return extended[0];
  let best: string | undefined;
  let bestDistance = Math.max(3, Math.floor(name.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(name.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
