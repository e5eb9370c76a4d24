import { envNames, findPolicy, joinPointer, type CorsPolicyDefinition, type GatewayConfig, type Location, type PolicyDefinition, type Route } from "../config/index.js";
import type { ChangeSink } from "./emit.js";
import { changedOptions, describeOptionChanges, safeUrl } from "./safe-values.js";
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

/**
 * Where a route's policy setting lives: when both sides use the same named policy and only its
 * options differ, the change was made once in policies.json (at `option`) and is reported there
 * for every route using it; otherwise the route itself changed (its inbound list).
 */
interface PolicyPlace {
  base: Location;
  head: Location;
  shared: boolean;
}

function policyPlace(b: RoutePolicy, h: RoutePolicy, option: string): PolicyPlace {
  if (b.def.name === h.def.name) {
    const at = (p: PolicyDefinition) => ({ file: p.location.file, pointer: joinPointer(p.location.pointer, "handler", "options", ...(p.options[option] === undefined ? [] : [option])) });
    return { base: at(b.def), head: at(h.def), shared: true };
  }
  return { base: b.at, head: h.at, shared: false };
}

/** Route changes: the options of shared policies that a route-level rule already reported, so policy-options-changed does not repeat them. */
class Reporter {
  readonly covered = new Set<string>();

  constructor(private readonly sink: ChangeSink) {}

  /** A change of one route, or of a shared policy that the route uses (then one change for all its routes). */
  route(rule: string, route: string, message: string, place: PolicyPlace | { base?: Location; head?: Location }, policy?: { name: string; options: string[] }): void {
    if ("shared" in place && place.shared && policy) {
      for (const o of policy.options) this.covered.add(`${policy.name}\u0000${o}`);
      this.sink.addAtSource(rule, { detail: message, base: place.base, head: place.head }, { operation: route, where: "" }, () => ({ source: `policy "${policy.name}": ${message}`, single: message }));
    } else {
      this.sink.add(rule, route, message, place.base, place.head);
    }
  }
}

/** Changes a gateway reviewer needs and no OpenAPI differ sees: auth, limits, CORS, upstreams, secrets. */
export function diffGateway(sink: ChangeSink, base: GatewayConfig, head: GatewayConfig): void {
  const report = new Reporter(sink);
  const headRoutes = new Map(head.routes.map((r) => [operationKey(r.operation), r]));
  const headOps = new Set(head.operations.map((op) => operationKey(op)));
  for (const b of base.routes) {
    const key = operationKey(b.operation);
    const h = headRoutes.get(key);
    if (!h) {
      if (headOps.has(key)) sink.add("route-no-longer-served", b.id, `${b.id} is still in the OpenAPI document but no longer served by the gateway`, b.location);
      continue;
    }
    diffRoute(report, sink, base, head, b, h);
  }

  const headPolicies = new Map(head.policies.map((p) => [p.name, p]));
  for (const bp of base.policies) {
    const hp = headPolicies.get(bp.name);
    if (!hp || bp.export !== hp.export) continue;
    const left = changedOptions(bp, hp).filter((o) => !report.covered.has(`${bp.name}\u0000${o}`));
    if (left.length === 0) continue;
    const at = (p: PolicyDefinition) => ({ file: p.location.file, pointer: joinPointer(p.location.pointer, "handler", "options", ...(left.length === 1 && p.options[left[0]!] !== undefined ? [left[0]!] : [])) });
    sink.add("policy-options-changed", undefined, `policy "${bp.name}" options changed: ${describeOptionChanges(bp, hp, left)}`, at(bp), at(hp));
  }

  const baseEnv = new Set(envNames(base.env));
  for (const name of envNames(head.env)) {
    if (!baseEnv.has(name)) {
      const ref = head.env.find((e) => e.name === name)!;
      sink.add("env-variable-added", undefined, `$env(${name}) is now required: set it in every environment before this deploys`, undefined, ref.location);
    }
  }
}

function diffRoute(report: Reporter, sink: ChangeSink, base: GatewayConfig, head: GatewayConfig, b: Route, h: Route): void {
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
    const place = policyPlace(bAuth[0]!, hAuth[0]!, "allowUnauthenticatedRequests");
    const policy = { name: hAuth[0]!.def.name, options: ["allowUnauthenticatedRequests"] };
    if (!optional(bAuth) && optional(hAuth)) report.route("route-authentication-made-optional", label, `${names(hAuth)} now lets unauthenticated requests through (allowUnauthenticatedRequests: true)`, place, policy);
    if (optional(bAuth) && !optional(hAuth)) report.route("route-authentication-made-required", label, `${names(hAuth)} no longer lets unauthenticated requests through: callers without credentials now get 401`, place, policy);
  }

  // IP restriction
  const bIp = of(bp, "authorization");
  const hIp = of(hp, "authorization");
  if (bIp.length > 0 && hIp.length === 0) sink.add("route-ip-restriction-removed", label, `${names(bIp)} was removed`, bIp[0]!.at, h.location);
  else if (bIp.length === 0 && hIp.length > 0) sink.add("route-ip-restriction-added", label, `${names(hIp)} was added: callers from other addresses are now refused`, b.location, hIp[0]!.at);
  else if (bIp.length > 0) {
    const options = changedOptions(bIp[0]!.def, hIp[0]!.def);
    if (options.length > 0 || bIp[0]!.def.name !== hIp[0]!.def.name) {
      const place = policyPlace(bIp[0]!, hIp[0]!, options.length === 1 ? options[0]! : "");
      report.route("route-ip-restriction-changed", label, `IP restriction changed: ${options.length ? describeOptionChanges(bIp[0]!.def, hIp[0]!.def, options) : `policy ${bIp[0]!.def.name} became ${hIp[0]!.def.name}`}`, place, { name: hIp[0]!.def.name, options });
    }
  }

  // Rate limit
  const bRl = of(bp, "rate-limit")[0];
  const hRl = of(hp, "rate-limit")[0];
  if (bRl && !hRl) sink.add("route-rate-limit-removed", label, `rate limit of ${describeLimit(bRl.def)} was removed`, bRl.at, h.location);
  else if (!bRl && hRl) sink.add("route-rate-limit-added", label, `rate limit of ${describeLimit(hRl.def)} was added`, b.location, hRl.at);
  else if (bRl && hRl) {
    const before = perMinute(bRl.def);
    const after = perMinute(hRl.def);
    const changedLimit = bRl.def.options.requestsAllowed !== hRl.def.options.requestsAllowed ? "requestsAllowed" : "timeWindowMinutes";
    const policy = { name: hRl.def.name, options: ["requestsAllowed", "timeWindowMinutes"] };
    if (after > before) report.route("route-rate-limit-loosened", label, `rate limit loosened from ${describeLimit(bRl.def)} to ${describeLimit(hRl.def)}`, policyPlace(bRl, hRl, changedLimit), policy);
    if (after < before) report.route("route-rate-limit-tightened", label, `rate limit tightened from ${describeLimit(bRl.def)} to ${describeLimit(hRl.def)}`, policyPlace(bRl, hRl, changedLimit), policy);
    if (bRl.def.options.rateLimitBy !== hRl.def.options.rateLimitBy) report.route("route-rate-limit-key-changed", label, `rate limit now counts by ${String(hRl.def.options.rateLimitBy)} instead of ${String(bRl.def.options.rateLimitBy)}`, policyPlace(bRl, hRl, "rateLimitBy"), { name: hRl.def.name, options: ["rateLimitBy"] });
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
    const before = origins(base, b.corsPolicy) ?? [];
    const after = origins(head, h.corsPolicy) ?? [];
    const added = after.filter((o) => !before.includes(o));
    const removed = before.filter((o) => !after.includes(o));
    // The origins are written once, in the CORS policy: one change there for every route using it.
    const policyAt = (config: GatewayConfig) => {
      const def = config.corsPolicies.find((c) => c.name === h.corsPolicy);
      return def ? { file: def.location.file, pointer: joinPointer(def.location.pointer, "allowedOrigins") } : undefined;
    };
    const place = { base: policyAt(base) ?? corsAt(b), head: policyAt(head) ?? corsAt(h), shared: policyAt(head) !== undefined };
    if (added.length > 0) report.route("cors-policy-origins-widened", label, `CORS policy ${h.corsPolicy} now also admits ${added.join(", ")}`, place, { name: h.corsPolicy, options: [] });
    if (removed.length > 0) report.route("cors-policy-origins-narrowed", label, `CORS policy ${h.corsPolicy} no longer admits ${removed.join(", ")}: browser callers from there fail`, place, { name: h.corsPolicy, options: [] });
  }

  // Handler and upstream: one upstream moved (written once in servers[0].url, or in each route) is one change for its routes.
  const handlerAt = (r: Route) => r.handler.location;
  if (b.handler.export !== h.handler.export) sink.add("route-handler-changed", label, `handler changed from ${b.handler.export} to ${h.handler.export}`, handlerAt(b), handlerAt(h));
  else if (upstreamOf(b) !== upstreamOf(h)) {
    const message = `upstream changed from ${safeUrl(upstreamOf(b))} to ${safeUrl(upstreamOf(h))}`;
    sink.addAtSource("route-upstream-changed", { detail: message, base: handlerAt(b), head: handlerAt(h), spread: true }, { operation: label, where: "" }, () => ({ source: message, single: message }));
  }
}
