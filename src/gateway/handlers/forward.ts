import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import type { Writable } from "node:stream";
import type { BodyLimits, Handler, Outbound, RequestContext } from "../context.js";
import { problem, sendProblem, type Problem } from "../problem.js";
import { declaredTooLarge, readBody } from "../request-body.js";
import type { Upstreams } from "../upstreams.js";

/**
 * Connection-level headers are for one hop only (RFC 9110 7.6.1). `expect` is answered by the
 * gateway itself (the server sends 100 Continue), so the upstream gets the body without it.
 */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "host", "expect"]);

function upstreamRequestHeaders(ctx: RequestContext): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const h: IncomingHttpHeaders = ctx.req.headers;
  const connectionTokens = typeof h.connection === "string" ? h.connection.toLowerCase().split(",").map((t) => t.trim()) : [];
  for (const k in h) {
    const v = h[k];
    if (v === undefined || HOP_BY_HOP.has(k) || connectionTokens.includes(k)) continue;
    out[k] = v;
  }
  // Only the gateway says who the consumer is; a caller's own header would be a forgery.
  delete out["x-consumer-name"];
  const prior = h["x-forwarded-for"];
  out["x-forwarded-for"] = prior ? `${Array.isArray(prior) ? prior.join(", ") : prior}, ${ctx.ip}` : ctx.ip;
  out["x-forwarded-proto"] = "encrypted" in ctx.req.socket ? "https" : "http";
  if (h.host) out["x-forwarded-host"] = h.host;
  out["x-request-id"] = ctx.requestId;
  for (const k in ctx.upstreamHeaders) {
    const v = ctx.upstreamHeaders[k];
    if (v === null || v === undefined) delete out[k];
    else out[k] = v;
  }
  if (ctx.body !== undefined) {
    out["content-length"] = String(ctx.body.length);
    delete out["transfer-encoding"];
  }
  return out;
}

function responseHeaders(headers: Record<string, string | string[] | undefined>, ctx: RequestContext, outbound: readonly Outbound[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const k in headers) {
    const v = headers[k];
    if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  }
  for (const k in ctx.responseHeaders) out[k] = ctx.responseHeaders[k]!;
  for (const o of outbound) o(out, ctx);
  out["x-request-id"] = ctx.requestId;
  return out;
}

function refuse(ctx: RequestContext, p: Problem): void {
  p.headers = { ...ctx.responseHeaders, ...p.headers };
  sendProblem(ctx.res, p, ctx.path, ctx.requestId);
  if (!ctx.req.complete) ctx.req.resume();
}

/**
 * The body to forward, held to the gateway's cap before the upstream is called: a declared length
 * over it is refused unread, a body of declared length streams (the parser holds it to that length),
 * and a chunked body is read up to the cap first, since only then is its size known.
 */
async function bodyToForward(ctx: RequestContext, limits: BodyLimits): Promise<Buffer | IncomingMessage | null | Problem> {
  if (ctx.body !== undefined) return ctx.body;
  const h = ctx.req.headers;
  if (ctx.method === "GET" || ctx.method === "HEAD") return null;
  if (h["content-length"] !== undefined) return declaredTooLarge(ctx.req, limits.maxBytes) ?? (h["content-length"] === "0" ? null : ctx.req);
  if (h["transfer-encoding"] === undefined) return null;
  const read = await readBody(ctx.req, limits.maxBytes, limits.timeoutMs);
  if (Buffer.isBuffer(read)) ctx.body = read;
  return read;
}

/** Sends the request to origin + path and streams the answer back; upstream failure is 502, timeout 504. */
export async function forwardTo(origin: string, path: string, ctx: RequestContext, upstreams: Upstreams, outbound: readonly Outbound[], follow: boolean, timeoutMs: number | undefined, limits: BodyLimits): Promise<void> {
  const method = ctx.method;
  const body = await bodyToForward(ctx, limits);
  if (body !== null && !Buffer.isBuffer(body) && "status" in body) return refuse(ctx, body);
  const options = {
    origin,
    path,
    method: method as "GET",
    headers: upstreamRequestHeaders(ctx),
    body,
    headersTimeout: timeoutMs ?? upstreams.timeouts.headersMs,
    bodyTimeout: timeoutMs ?? upstreams.timeouts.bodyMs,
  };
  const dispatcher = follow ? upstreams.redirectAgent() : upstreams.pool(origin);
  try {
    await dispatcher.stream(options, ({ statusCode, headers }) => {
      ctx.res.writeHead(statusCode, responseHeaders(headers, ctx, outbound));
      return ctx.res as unknown as Writable;
    });
  } catch (e) {
    const code = (e as { code?: string }).code ?? "";
    const timeout = code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT" || code === "UND_ERR_CONNECT_TIMEOUT";
    if (ctx.res.headersSent) {
      ctx.res.destroy();
      return;
    }
    const p = timeout
      ? problem(504, "upstream-timeout", "Gateway Timeout", `The upstream did not answer in time (${code === "UND_ERR_CONNECT_TIMEOUT" ? "connect" : "read"} timeout)`)
      : problem(502, "upstream-failed", "Bad Gateway", `The upstream could not be reached or failed (${code || (e as Error).name})`);
    p.headers = { ...ctx.responseHeaders };
    sendProblem(ctx.res, p, ctx.path, ctx.requestId);
  }
}

export function urlForwardHandler(options: { baseUrl: string; forwardSearch?: boolean; followRedirects?: boolean; timeoutMs?: number }, upstreams: Upstreams, outbound: readonly Outbound[], limits: BodyLimits): Handler {
  // Parsed once per release; per request the path is only concatenated (ctx.path is already normalised).
  const base = new URL(options.baseUrl);
  const prefix = base.pathname.replace(/\/+$/, "");
  const forwardSearch = options.forwardSearch !== false;
  const follow = options.followRedirects === true;
  return (ctx) => forwardTo(base.origin, prefix + ctx.path + (forwardSearch && ctx.search ? "?" + ctx.search : ""), ctx, upstreams, outbound, follow, options.timeoutMs, limits);
}
