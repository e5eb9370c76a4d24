import { envNamesIn } from "./env-refs.js";
import type { GatewayConfig } from "./model.js";

/**
 * Why a forwarding target cannot be used, or undefined when it can. `$env(...)` parts are
 * filled per environment at deploy time, so they are checked with a stand-in value here.
 */
export function upstreamUrlProblem(value: unknown): string | undefined {
  if (typeof value !== "string" || value.trim() === "") return "must be an absolute http(s) URL such as https://api.example.com";
  const { problems } = envNamesIn(value);
  if (problems.length > 0) return problems[0];
  const probe = value.replace(/\$env\([^)]*\)/g, (m, offset: number) => (offset === 0 && m.length === value.length ? "https://env.invalid" : "env"));
  let url: URL;
  try {
    url = new URL(probe);
  } catch {
    return `"${value}" is not an absolute URL; write it with its scheme, such as https://${value.replace(/^\/+/, "")}`;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return `"${value}" uses ${url.protocol.slice(0, -1)}; only http and https upstreams are served`;
  if (url.username || url.password) return `"${value}" has credentials in the URL; put them in a header policy with $env(...) instead`;
  if (url.search || url.hash) return `"${value}" has a query or fragment; a base URL is joined with each request's path`;
  return undefined;
}

/**
 * The origin a template always produces (its `env.X` parts filled), or undefined when a request
 * value (a param, query, header...) takes part in it.
 */
export function staticOrigin(template: string, env: Readonly<Record<string, string>>): string | undefined {
  const marker = "\u0000";
  const filled = template.replace(/\$\{\s*([^}]*?)\s*\}/g, (_m, expr: string) => {
    const e = /^env\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(expr);
    return e ? (env[e[1]!] ?? "") : marker;
  });
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(filled);
  if (!scheme) return undefined;
  const end = filled.slice(scheme[0].length).search(/[/?#]/);
  const authority = end === -1 ? filled : filled.slice(0, scheme[0].length + end);
  if (authority.includes(marker)) return undefined;
  try {
    return new URL(authority).origin;
  } catch {
    return undefined;
  }
}

/** `$env(NAME)` filled from an environment's values (an unset name becomes ""). */
function fillEnvText(value: string, vars: Readonly<Record<string, string>>): string {
  return value.replace(/\$env\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)/g, (_m, name: string) => vars[name] ?? "");
}

/**
 * The `host:port` pairs a config forwards to with these values: forward base URLs and the fixed
 * origins of rewrite templates. What a production release reaches, a preview of it may reach too.
 */
export function upstreamHostPorts(config: GatewayConfig, vars: Readonly<Record<string, string>>): string[] {
  const out = new Set<string>();
  for (const route of config.routes) {
    const o = route.handler.options;
    let origin: string | undefined;
    if (route.handler.export === "urlForwardHandler" && typeof o.baseUrl === "string") {
      try {
        origin = new URL(fillEnvText(o.baseUrl, vars)).origin;
      } catch {
        origin = undefined;
      }
    } else if (route.handler.export === "urlRewriteHandler" && typeof o.rewritePattern === "string") {
      origin = staticOrigin(fillEnvText(o.rewritePattern, vars), vars);
    }
    if (origin === undefined || origin === "null") continue;
    const url = new URL(origin);
    out.add(`${url.hostname.toLowerCase().replace(/^\[|\]$/g, "")}:${url.port || (url.protocol === "https:" ? "443" : "80")}`);
  }
  return [...out].sort();
}
