import { envNames, findPolicy, joinPointer, type CorsPolicyDefinition, type GatewayConfig, type Location, type PolicyDefinition, type Route } from "../config/index.js";
import type { ChangeSink } from "./emit.js";
import { operationKey } from "./operation-diff.js";

interface RoutePolicy {
  def: PolicyDefinition;
  kind: string;
  at: Location;
}

function inboundPolicies(config: GatewayConfig, route: Route): RoutePolicy[] {
  const byName = new Map(config.policies.map((p) => [p.name, p]));
  return route.inbound.flatMap((name, i) => {
    const def = byName.get(name);
    const builtin = def ? findPolicy(def.export) : undefined;
    return def && builtin ? [{ def, kind: builtin.kind, at: { file: route.location.file, pointer: joinPointer(route.location.pointer, "policies", "inbound", i) } }] : [];
  });
}

function perMinute(p: PolicyDefinition): number {
  const requests = Number(p.options.requestsAllowed);
  const minutes = Number(p.options.timeWindowMinutes);
  return minutes > 0 ? requests / minutes : Number.POSITIVE_INFINITY;
}

function describeLimit(p: PolicyDefinition): string {
  return `${String(p.options.requestsAllowed)} requests per ${String(p.options.timeWindowMinutes)} min by ${String(p.options.rateLimitBy)}`;
}

const CORS_RANK = (name: string) => (name === "none" ? 0 : name === "anything-goes" ? 2 : 1);

function origins(config: GatewayConfig, name: string): string[] | undefined {
  if (name === "anything-goes") return ["*"];
  if (name === "none") return [];
  return config.corsPolicies.find((c: CorsPolicyDefinition) => c.name === name)?.allowedOrigins;
}

function upstreamOf(route: Route): string {
  const o = route.handler.options;
  return String(o.baseUrl ?? o.rewritePattern ?? o.location ?? "");
}

/** Changes a gateway reviewer needs and no OpenAPI differ sees: auth, limits, CORS, upstreams, secrets. */
export function diffGateway(sink: ChangeSink, base: GatewayConfig, head: GatewayConfig): void {
  const headRoutes = new Map(head.routes.map((r) => [operationKey(r.operation), r]));
  const headOps = new Set(head.operations.map((op) => operationKey(op)));
  for (const b of base.routes) {
    const key = operationKey(b.operation);
    const h = headRoutes.get(key);
    if (!h) {
      if (headOps.has(key)) sink.add("route-no-longer-served", b.id, `${b.id} is still in the OpenAPI document but no longer served by the gateway`, b.location);
      continue;
    }
    diffRoute(sink, base, head, b, h);
  }

  const headPolicies = new Map(head.policies.map((p) => [p.name, p]));
  for (const bp of base.policies) {
    const hp = headPolicies.get(bp.name);
    if (hp && bp.export === hp.export && JSON.stringify(bp.options) !== JSON.stringify(hp.options)) {
      const at = (p: PolicyDefinition) => ({ file: p.location.file, pointer: joinPointer(p.location.pointer, "handler", "options") });
      sink.add("policy-options-changed", undefined, `policy "${bp.name}" options changed from ${JSON.stringify(bp.options)} to ${JSON.stringify(hp.options)}`, at(bp), at(hp));
    }
  }

  const baseEnv = new Set(envNames(base.env));
  for (const name of envNames(head.env)) {
    if (!baseEnv.has(name)) {
      const ref = head.env.find((e) => e.name === name)!;
      sink.add("env-variable-added", undefined, `$env(${name}) is now required: set it in every environment before this deploys`, undefined, ref.location);
    }
  }
}

function diffRoute(sink: ChangeSink, base: GatewayConfig, head: GatewayConfig, b: Route, h: Route): void {
  const label = h.id;
  const bp = inboundPolicies(base, b);
  const hp = inboundPolicies(head, h);
  const of = (list: RoutePolicy[], kind: string) => list.filter((p) => p.kind === kind);

  // Authentication
  const bAuth = of(bp, "authentication");
  const hAuth = of(hp, "authentication");
  const names = (list: RoutePolicy[]) => list.map((p) => p.def.policyType).join(", ");
  if (bAuth.length > 0 && hAuth.length === 0) {
    sink.add("route-authentication-removed", label, `${names(bAuth)} was removed: ${label} now answers without credentials`, bAuth[0]!.at, h.location);
  } else if (bAuth.length === 0 && hAuth.length > 0) {
    sink.add("route-authentication-added", label, `${names(hAuth)} was added: callers without credentials now get 401`, b.location, hAuth[0]!.at);
  } else if (bAuth.length > 0 && names(bAuth) !== names(hAuth)) {
    sink.add("route-authentication-changed", label, `authentication changed from ${names(bAuth)} to ${names(hAuth)}`, bAuth[0]!.at, hAuth[0]!.at);
  } else if (bAuth.length > 0) {
    const optional = (list: RoutePolicy[]) => list.every((p) => p.def.options.allowUnauthenticatedRequests === true);
    if (!optional(bAuth) && optional(hAuth)) sink.add("route-authentication-made-optional", label, `${names(hAuth)} now lets unauthenticated requests through (allowUnauthenticatedRequests: true)`, bAuth[0]!.at, hAuth[0]!.at);
  }

  // IP restriction
  const bIp = of(bp, "authorization");
  const hIp = of(hp, "authorization");
  if (bIp.length > 0 && hIp.length === 0) sink.add("route-ip-restriction-removed", label, `${names(bIp)} was removed`, bIp[0]!.at, h.location);
  else if (bIp.length > 0 && JSON.stringify(bIp.map((p) => p.def.options)) !== JSON.stringify(hIp.map((p) => p.def.options))) {
    sink.add("route-ip-restriction-changed", label, `IP restriction changed from ${JSON.stringify(bIp[0]!.def.options)} to ${JSON.stringify(hIp[0]!.def.options)}`, bIp[0]!.at, hIp[0]!.at);
  }

  // Rate limit
  const bRl = of(bp, "rate-limit")[0];
  const hRl = of(hp, "rate-limit")[0];
  if (bRl && !hRl) sink.add("route-rate-limit-removed", label, `rate limit of ${describeLimit(bRl.def)} was removed`, bRl.at, h.location);
  else if (!bRl && hRl) sink.add("route-rate-limit-added", label, `rate limit of ${describeLimit(hRl.def)} was added`, b.location, hRl.at);
  else if (bRl && hRl) {
    const before = perMinute(bRl.def);
    const after = perMinute(hRl.def);
    if (after > before) sink.add("route-rate-limit-loosened", label, `rate limit loosened from ${describeLimit(bRl.def)} to ${describeLimit(hRl.def)}`, bRl.at, hRl.at);
    if (after < before) sink.add("route-rate-limit-tightened", label, `rate limit tightened from ${describeLimit(bRl.def)} to ${describeLimit(hRl.def)}`, bRl.at, hRl.at);
    if (bRl.def.options.rateLimitBy !== hRl.def.options.rateLimitBy) sink.add("route-rate-limit-key-changed", label, `rate limit now counts by ${String(hRl.def.options.rateLimitBy)} instead of ${String(bRl.def.options.rateLimitBy)}`, bRl.at, hRl.at);
  }

  // Request validation and the other policies
  const bVal = of(bp, "validation").length > 0;
  const hVal = of(hp, "validation").length > 0;
  if (!bVal && hVal) sink.add("route-request-validation-added", label, "request validation was added: requests that do not fit the OpenAPI schemas are now refused", b.location, h.location);
  if (bVal && !hVal) sink.add("route-request-validation-removed", label, "request validation was removed", b.location, h.location);
  const others = (list: RoutePolicy[]) => list.filter((p) => !["authentication", "authorization", "rate-limit", "validation"].includes(p.kind)).map((p) => p.def.policyType);
  const bo = others(bp);
  const ho = others(hp);
  for (const t of ho.filter((x) => !bo.includes(x))) sink.add("route-policy-added", label, `policy ${t} was added`, b.location, h.location);
  for (const t of bo.filter((x) => !ho.includes(x))) sink.add("route-policy-removed", label, `policy ${t} was removed`, b.location, h.location);

  // CORS
  const corsAt = (r: Route) => ({ file: r.location.file, pointer: joinPointer(r.location.pointer, "corsPolicy") });
  if (b.corsPolicy !== h.corsPolicy) {
    const rb = CORS_RANK(b.corsPolicy);
    const rh = CORS_RANK(h.corsPolicy);
    const opened = rh > rb || (rh === rb && (origins(head, h.corsPolicy) ?? []).some((o) => !(origins(base, b.corsPolicy) ?? []).includes(o)));
    const wording = `CORS policy changed from ${b.corsPolicy} to ${h.corsPolicy}${h.corsPolicy === "anything-goes" ? " (every origin, with credentials)" : ""}`;
    sink.add(opened ? "route-cors-opened" : "route-cors-closed", label, wording, corsAt(b), corsAt(h));
  } else if (CORS_RANK(b.corsPolicy) === 1) {
    const bo2 = origins(base, b.corsPolicy) ?? [];
    const added = (origins(head, h.corsPolicy) ?? []).filter((o) => !bo2.includes(o));
    if (added.length > 0) sink.add("cors-policy-origins-widened", label, `CORS policy ${h.corsPolicy} now also admits ${added.join(", ")}`, corsAt(b), corsAt(h));
  }

  // Handler and upstream
  const handlerAt = (r: Route) => r.handler.location;
  if (b.handler.export !== h.handler.export) sink.add("route-handler-changed", label, `handler changed from ${b.handler.export} to ${h.handler.export}`, handlerAt(b), handlerAt(h));
  else if (upstreamOf(b) !== upstreamOf(h)) sink.add("route-upstream-changed", label, `upstream changed from ${upstreamOf(b)} to ${upstreamOf(h)}`, handlerAt(b), handlerAt(h));
}
