import type { BodyLimits, Handler, Outbound, RequestContext } from "../context.js";
import { ReleaseError } from "../errors.js";
import { problem, sendProblem } from "../problem.js";
import { forwardTo, type Egress } from "./forward.js";
import { decodeParam } from "../path-match.js";
import { staticOrigin } from "../../config/index.js";

type Part = (ctx: RequestContext) => string;

/** A request-derived value inside a URL: encoded, and dot segments escaped, so it cannot change the host or climb the path. */
function safe(value: string | undefined): string {
  const v = encodeURIComponent(value ?? "");
  return v === "." ? "%2E" : v === ".." ? "%2E%2E" : v;
}

/**
 * Compiles a template such as `https://api-${params.version}.example.com/users/${params.id}` into
 * functions once, when the release is built; nothing is evaluated as code at request time.
 */
export function compileTemplate(template: string, env: Readonly<Record<string, string>>): Part[] {
  const parts: Part[] = [];
  let last = 0;
  for (const m of template.matchAll(/\$\{\s*([^}]*?)\s*\}/g)) {
    const literal = template.slice(last, m.index);
    parts.push(() => literal);
    last = m.index + m[0].length;
    const expr = m[1]!;
    let x: RegExpExecArray | null;
    if ((x = /^params\.([A-Za-z_$][\w$]*)$|^params\[["']([^"']+)["']\]$/.exec(expr))) {
      const name = x[1] ?? x[2]!;
      parts.push((ctx) => safe(decodeParam(ctx.params[name])));
    } else if ((x = /^query\.([A-Za-z_$][\w$-]*)$|^query\[["']([^"']+)["']\]$/.exec(expr))) {
      const name = x[1] ?? x[2]!;
      parts.push((ctx) => safe(new URLSearchParams(ctx.search).get(name) ?? ""));
    } else if ((x = /^headers\.get\(["']([^"']+)["']\)$|^headers\.([A-Za-z][\w-]*)$/.exec(expr))) {
      const name = (x[1] ?? x[2]!).toLowerCase();
      parts.push((ctx) => {
        const v = ctx.req.headers[name];
        return safe(Array.isArray(v) ? v[0] : v);
      });
    } else if ((x = /^env\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(expr))) {
      const value = env[x[1]!];
      if (value === undefined) throw new ReleaseError("ENV_VARIABLE_MISSING", `rewritePattern uses env.${x[1]} but the environment does not set ${x[1]}`);
      parts.push(() => value);
    } else if (expr === "method" || expr === "request.method") {
      parts.push((ctx) => ctx.method);
    } else if (expr === "pathname" || expr === "url.pathname") {
      parts.push((ctx) => ctx.path);
    } else if (expr === "search" || expr === "url.search") {
      parts.push((ctx) => (ctx.search ? "?" + ctx.search : ""));
    } else {
      throw new ReleaseError("UNSUPPORTED", `rewritePattern expression \${${expr}} is not supported; use params.X, query.X, headers.X, env.X, method, pathname or search`);
    }
  }
  const tail = template.slice(last);
  parts.push(() => tail);
  return parts;
}

/**
 * `origins` holds what the release itself names (forward base URLs, rewrite templates' fixed
 * origins): under a fenced (preview) policy, a rewrite whose origin a request chooses may only
 * reach one of them.
 */
export function urlRewriteHandler(options: { rewritePattern: string; forwardSearch?: boolean; followRedirects?: boolean; timeoutMs?: number }, env: Readonly<Record<string, string>>, egress: Egress, outbound: readonly Outbound[], limits: BodyLimits, origins: ReadonlySet<string> = new Set()): Handler {
  const parts = compileTemplate(options.rewritePattern, env);
  const fixed = staticOrigin(options.rewritePattern, env);
  const forwardSearch = options.forwardSearch !== false;
  return async (ctx) => {
    let url: URL;
    try {
      url = new URL(parts.map((p) => p(ctx)).join(""));
      if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("not http");
    } catch {
      sendProblem(ctx.res, problem(502, "rewrite-failed", "Bad Gateway", "The route's rewritePattern did not produce an http(s) URL for this request"), ctx.path, ctx.requestId);
      return;
    }
    if (fixed === undefined && egress.policy.fenced && !origins.has(url.origin)) {
      sendProblem(ctx.res, problem(502, "upstream-not-allowed", "Bad Gateway", "In a preview, a rewritePattern whose origin comes from the request may only reach an origin the release itself names"), ctx.path, ctx.requestId);
      if (!ctx.req.complete) ctx.req.resume();
      return;
    }
    if (forwardSearch && ctx.search && !url.search) url.search = ctx.search;
    await forwardTo(url.origin, url.pathname + url.search, ctx, egress, outbound, options.followRedirects === true, options.timeoutMs, limits);
  };
}

export function redirectHandler(options: { location: string; status?: number }): Handler {
  const status = options.status ?? 302;
  // A header carries visible ASCII only: "https://docs.example/日本" (or a space) goes percent-encoded, as a browser would send it.
  const location = options.location.replace(/[^\x21-\x7e]/gu, (c) => encodeURIComponent(c));
  return async (ctx) => {
    ctx.res.writeHead(status, { ...ctx.responseHeaders, location, "content-length": 0, "x-request-id": ctx.requestId });
    ctx.res.end();
  };
}
