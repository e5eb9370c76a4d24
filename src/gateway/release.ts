import { createHash } from "node:crypto";
import { findPolicy, isObject, SchemaCompiler, SMOKE_CONSUMER, staticOrigin, type GatewayConfig, type JsonObject, type Operation, type Route } from "../config/index.js";
import type { BodyLimits, Handler, Inbound, Outbound } from "./context.js";
import { ReleaseError } from "./errors.js";
import { redirectHandler, urlRewriteHandler } from "./handlers/rewrite.js";
import { urlForwardHandler, type Egress } from "./handlers/forward.js";
import { EGRESS_SETTING, EgressPolicy, type HostRule, type Resolver } from "./egress.js";
import { PathMatcher } from "./path-match.js";
import { basicAuthInbound, ipRestrictionInbound, requestSizeLimitInbound } from "./policies/access.js";
import { apiKeyInbound, KeyIndex } from "./policies/api-key.js";
import { ANYTHING_GOES, compileCors, type Cors } from "./policies/cors.js";
import { removeHeadersInbound, removeHeadersOutbound, setHeadersInbound, setHeadersOutbound } from "./policies/headers.js";
import { mockApiInbound } from "./policies/mock-api.js";
import { rateLimitInbound, type RateLimitOptions } from "./policies/rate-limit.js";
import type { RateLimitStore } from "./policies/rate-limit-store.js";
import { requestValidationInbound } from "./policies/request-validation.js";
import type { Upstreams } from "./upstreams.js";

/** What one environment supplies to its release: `$env` values and the API consumers' key hashes. */
export interface EnvironmentSettings {
  name: string;
  vars: Readonly<Record<string, string>>;
  consumers: readonly { name: string; keyHashes: readonly string[] }[];
  /**
   * A preview is fenced: it may reach public addresses, the `host:port` pairs of `trusted` (what its
   * repository's production release forwards to) and what the operator allows. Absent: not fenced.
   */
  egress?: { fenced: boolean; trusted: readonly string[] };
}

/** The body cap and wait every gateway process uses unless it is told otherwise. */
export const DEFAULT_BODY_LIMITS = { maxBodyBytes: 10 * 1024 * 1024, bodyTimeoutMs: 30_000 } as const;

/** What every release of a gateway process shares. */
export interface GatewayServices {
  upstreams: Upstreams;
  rateLimitStore: RateLimitStore;
  log: (level: "info" | "warn" | "error", message: string) => void;
  /** The cap on every request body the gateway reads or forwards (413 over it); DEFAULT_BODY_LIMITS has 10 MiB. */
  maxBodyBytes: number;
  bodyTimeoutMs: number;
  /** GITWAY_UPSTREAM_ALLOW and the ports of this app (a shared set: ports bound later join it). */
  egress?: { allow: readonly HostRule[]; ownPorts: ReadonlySet<number>; resolver?: Resolver };
  /** Key hashes revoked while this process runs: every release's key check refuses them at once. */
  revokedKeys?: ReadonlySet<string>;
}


export interface CompiledRoute {
  /** "METHOD /path/{template}". */
  id: string;
  /** What usage is counted under: the operationId, or the id when the operation has none. */
  operation: string;
  inbound: readonly Inbound[];
  handler: Handler;
  cors: Cors | undefined;
}

/** An immutable compiled config for one environment; swapped whole, never changed in place. */
export interface Release {
  hash: string;
  environment: string;
  routeCount: number;
  matcher: PathMatcher<CompiledRoute>;
  body: BodyLimits;
}

/** `$env(NAME)` filled from the environment; every missing name is collected (the nginx renderer fills the same way). */
export function fillEnv<T>(value: T, vars: Readonly<Record<string, string>>, missing: Set<string>): T {
  if (typeof value === "string") {
    return value.replace(/\$env\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)/g, (_m, name: string) => {
      const v = vars[name];
      if (v === undefined) {
        missing.add(name);
        return "";
      }
      return v;
    }) as T;
  }
  if (Array.isArray(value)) return value.map((v) => fillEnv(v, vars, missing)) as T;
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillEnv(v, vars, missing)])) as T;
  return value;
}

function contentHash(config: GatewayConfig, settings: EnvironmentSettings): string {
  const h = createHash("sha256");
  for (const path of [...config.docs.snapshot.keys()].sort()) {
    const content = config.docs.snapshot.get(path)!;
    h.update(path).update("\0");
    h.update(typeof content === "string" || content instanceof Uint8Array ? content : String(content.size)).update("\0");
  }
  h.update(JSON.stringify(Object.entries(settings.vars).sort()));
  // The smoke test's key lives only while the test runs: the release it was built into is the same release.
  h.update(JSON.stringify(settings.consumers.filter((c) => c.name !== SMOKE_CONSUMER)));
  return h.digest("hex").slice(0, 16);
}

function parsedUrl(value: unknown): URL | undefined {
  try {
    return new URL(String(value));
  } catch {
    return undefined;
  }
}

/**
 * Compiles a validated config into a release for one environment. Throws ReleaseError when the
 * environment lacks a `$env` value the config needs (naming every one) or the config uses
 * something the runtime does not implement: never a silent skip or an empty string.
 */
export function compileRelease(config: GatewayConfig, settings: EnvironmentSettings, services: GatewayServices): Release {
  const missing = new Set<string>();
  for (const ref of config.env) if (settings.vars[ref.name] === undefined) missing.add(ref.name);
  if (missing.size > 0) {
    throw new ReleaseError("ENV_VARIABLE_MISSING", `environment ${settings.name} does not set ${[...missing].map((n) => `$env(${n})`).join(", ")}, which the config needs`);
  }
  const keys = new KeyIndex(settings.consumers, services.revokedKeys);
  const versions = new Map(config.documents.map((d) => [d.file, d.version]));
  const compiler = new SchemaCompiler(config.docs);
  const policies = new Map(config.policies.map((p) => [p.name, { ...p, options: fillEnv(p.options, settings.vars, missing) }]));
  const corsPolicies = new Map(config.corsPolicies.map((c) => [c.name, compileCors(c)]));
  const matcher = new PathMatcher<CompiledRoute>();
  const warn = (m: string) => services.log("warn", `[${settings.name}] ${m}`);
  const body: BodyLimits = { maxBytes: services.maxBodyBytes, timeoutMs: services.bodyTimeoutMs };
  const policy = new EgressPolicy({ fenced: settings.egress?.fenced === true, trusted: settings.egress?.trusted ?? [], allow: services.egress?.allow ?? [], ownPorts: services.egress?.ownPorts ?? new Set(), ...(services.egress?.resolver ? { resolver: services.egress.resolver } : {}) });
  const egress: Egress = { upstreams: services.upstreams, policy };
  // Every origin the release names itself; a preview's request-chosen rewrite origin must be one of them.
  const origins = new Set<string>();
  const refuseUpstream = (route: Route, url: URL, field: string) => {
    const why = policy.checkUrl(url);
    if (!why) return;
    const at = { file: route.handler.location.file, pointer: `${route.handler.location.pointer}/options/${field}` };
    const line = config.docs.locate(at).line;
    throw new ReleaseError("UPSTREAM_NOT_ALLOWED", `upstream-not-allowed: ${route.id} (${at.file} line ${line}) forwards to ${url.origin}: ${why}${why.includes(EGRESS_SETTING) ? "" : ` (${EGRESS_SETTING})`}`, `${at.file}:${line}`);
  };

  const inboundOf = (name: string, route: Route): Inbound => {
    const def = policies.get(name);
    const builtin = def ? findPolicy(def.export) : undefined;
    if (!def || !builtin) throw new ReleaseError("UNSUPPORTED", `${route.id}: policy ${name} is not one the gateway implements`, route.location.file);
    const o = def.options as JsonObject;
    switch (builtin.policyType) {
      case "api-key-inbound":
        return apiKeyInbound(o, keys);
      case "basic-auth-inbound": {
        // The schema's minLength sees `$env(NAME)`, not the value: an empty one would open the route to the username alone.
        const accounts = (o.accounts ?? []) as { username: string; password: string }[];
        if (accounts.some((a) => a.username === "" || a.password === "")) throw new ReleaseError("INVALID_CONFIG", `policy ${name}: an account's username or password is empty in environment ${settings.name} (an $env value set to "")`, def.location?.file);
        return basicAuthInbound(o as never);
      }
      case "ip-restriction-inbound":
        return ipRestrictionInbound(o);
      case "rate-limit-inbound":
        return rateLimitInbound(settings.name, name, o as unknown as RateLimitOptions, { store: services.rateLimitStore, warn });
      case "request-validation-inbound":
        return requestValidationInbound(o, route.operation, config.docs, compiler, versions.get(route.operation.location.file) ?? "3.1", services.maxBodyBytes, services.bodyTimeoutMs, (m) => services.log("info", `[${settings.name}] ${m}`));
      case "request-size-limit-inbound":
        return requestSizeLimitInbound(o as { maxSizeInBytes: number }, body);
      case "mock-api-inbound":
        return mockApiInbound(o, route.operation as Operation, config.docs);
      case "set-headers-inbound":
        return setHeadersInbound(o as never);
      case "remove-headers-inbound":
        return removeHeadersInbound(o as never);
      default:
        throw new ReleaseError("UNSUPPORTED", `${route.id}: ${builtin.policyType} cannot run as an inbound policy`);
    }
  };
  const outboundOf = (name: string, route: Route): Outbound => {
    const def = policies.get(name);
    const builtin = def ? findPolicy(def.export) : undefined;
    if (builtin?.policyType === "set-headers-outbound") return setHeadersOutbound(def!.options as never);
    if (builtin?.policyType === "remove-headers-outbound") return removeHeadersOutbound(def!.options as never);
    throw new ReleaseError("UNSUPPORTED", `${route.id}: policy ${name} cannot run as an outbound policy`);
  };

  for (const route of config.routes) {
    const outbound = route.outbound.map((n) => outboundOf(n, route));
    const options = fillEnv(route.handler.options, settings.vars, missing) as JsonObject;
    let handler: Handler;
    switch (route.handler.export) {
      case "urlForwardHandler": {
        const url = parsedUrl(options.baseUrl);
        if (url) {
          refuseUpstream(route, url, "baseUrl");
          origins.add(url.origin);
        }
        handler = urlForwardHandler(options as { baseUrl: string }, egress, outbound, body);
        break;
      }
      case "urlRewriteHandler": {
        const fixed = staticOrigin(String(options.rewritePattern), settings.vars);
        if (fixed !== undefined) {
          refuseUpstream(route, new URL(fixed), "rewritePattern");
          origins.add(fixed);
        }
        handler = urlRewriteHandler(options as { rewritePattern: string }, settings.vars, egress, outbound, body, origins);
        break;
      }
      case "redirectHandler":
        handler = redirectHandler(options as { location: string; status?: number });
        break;
      default:
        throw new ReleaseError("UNSUPPORTED", `${route.id}: handler ${route.handler.export} is not one the gateway implements`);
    }
    const cors = route.corsPolicy === "none" ? undefined : route.corsPolicy === "anything-goes" ? ANYTHING_GOES : corsPolicies.get(route.corsPolicy);
    matcher.add(route.operation.method, route.operation.path, { id: route.id, operation: route.operation.operationId ?? route.id, inbound: route.inbound.map((n) => inboundOf(n, route)), handler, cors });
  }
  if (missing.size > 0) throw new ReleaseError("ENV_VARIABLE_MISSING", `environment ${settings.name} does not set ${[...missing].map((n) => `$env(${n})`).join(", ")}`);
  return { hash: contentHash(config, settings), environment: settings.name, routeCount: config.routes.length, matcher, body };
}
