import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import type { Dispatcher } from "undici";
import type { BodyLimits, Handler, Outbound, RequestContext } from "../context.js";
import { problem, sendProblem, type Problem } from "../problem.js";
import { declaredTooLarge, readBody } from "../request-body.js";
import type { EgressPolicy } from "../egress.js";
import type { Upstreams } from "../upstreams.js";

/**
 * Connection-level headers are for one hop only (RFC 9110 7.6.1). `expect` is answered by the
 * gateway itself (the server sends 100 Continue), so the upstream gets the body without it.
 */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "host", "expect"]);

/**
 * The headers for the upstream: the caller's, less hop-by-hop ones and those a policy removed,
 * plus the forwarding headers and the policies' own. Built in one pass with no `delete`, which would
 * turn the object into a slow dictionary for undici to walk.
 */
function upstreamRequestHeaders(ctx: RequestContext): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const h: IncomingHttpHeaders = ctx.req.headers;
  const set = ctx.upstreamHeaders;
  const connection = h.connection;
  const connectionTokens = typeof connection === "string" && connection.includes(",") ? connection.toLowerCase().split(",").map((t) => t.trim()) : typeof connection === "string" ? [connection.toLowerCase().trim()] : undefined;
  for (const k in h) {
    const v = h[k];
    // Only the gateway says who the consumer is; a caller's own x-consumer-name would be a forgery.
    if (v === undefined || HOP_BY_HOP.has(k) || k in set || k === "x-consumer-name" || k === "x-forwarded-for" || k === "content-length" || connectionTokens?.includes(k)) continue;
    out[k] = v;
  }
  const prior = h["x-forwarded-for"];
  out["x-forwarded-for"] = prior ? `${Array.isArray(prior) ? prior.join(", ") : prior}, ${ctx.ip}` : ctx.ip;
  out["x-forwarded-proto"] = "encrypted" in ctx.req.socket ? "https" : "http";
  if (h.host) out["x-forwarded-host"] = h.host;
  out["x-request-id"] = ctx.requestId;
  for (const k in set) {
    const v = set[k];
    if (v !== null && v !== undefined) out[k] = v;
  }
  // The length of what is sent: the body read by a policy, or the caller's declared one as it streams.
  if (ctx.body !== undefined) out["content-length"] = String(ctx.body.length);
  else if (h["content-length"] !== undefined && !("content-length" in set)) out["content-length"] = h["content-length"];
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
 * and a chunked body is read up to the cap first, since only then is its size known (a promise then).
 */
function bodyToForward(ctx: RequestContext, limits: BodyLimits): Buffer | IncomingMessage | null | Problem | Promise<Buffer | Problem> {
  if (ctx.body !== undefined) return ctx.body;
  const h = ctx.req.headers;
  if (ctx.method === "GET" || ctx.method === "HEAD") return null;
  if (h["content-length"] !== undefined) return declaredTooLarge(ctx.req, limits.maxBytes) ?? (h["content-length"] === "0" ? null : ctx.req);
  if (h["transfer-encoding"] === undefined) return null;
  return readBody(ctx.req, limits.maxBytes, limits.timeoutMs).then((read) => {
    if (Buffer.isBuffer(read)) ctx.body = read;
    return read;
  });
}

/**
 * Relays the upstream's answer to the caller through undici's dispatch API (no stream pipeline per
 * request). The last chunk is held back and sent with `end`, so a small answer leaves in one write
 * with its headers, and a chunked one needs no separate terminating write.
 */
class Relay implements Dispatcher.DispatchHandler {
  private pending: Buffer | undefined;
  private started = false;
  resolve!: () => void;
  reject!: (e: Error) => void;
  readonly done = new Promise<void>((resolve, reject) => {
    this.resolve = resolve;
    this.reject = reject;
  });

  constructor(
    private readonly ctx: RequestContext,
    private readonly outbound: readonly Outbound[],
  ) {}

  onRequestStart(): void {}

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[]>): void {
    if (statusCode < 200 || this.started) return; // 1xx from the upstream are not relayed
    this.started = true;
    this.ctx.res.writeHead(statusCode, responseHeaders(headers, this.ctx, this.outbound));
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const res = this.ctx.res;
    if (res.destroyed) {
      controller.abort(new Error("the caller went away"));
      return;
    }
    const previous = this.pending;
    this.pending = chunk;
    if (previous !== undefined && !res.write(previous)) {
      controller.pause();
      res.once("drain", () => controller.resume());
    }
  }

  onResponseEnd(): void {
    if (this.ctx.res.destroyed) return this.resolve();
    this.ctx.res.end(this.pending);
    this.pending = undefined;
    this.resolve();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.reject(error);
  }
}

/** Where a release's upstream calls go and what they may reach. */
export interface Egress {
  upstreams: Upstreams;
  policy: EgressPolicy;
}

/**
 * Sends the request to origin + path and streams the answer back; upstream failure is 502, timeout
 * 504, an address the egress policy refuses 502 upstream-not-allowed. A fenced (preview) policy
 * never follows redirects: the caller gets the redirect as the upstream sent it.
 */
export async function forwardTo(origin: string, path: string, ctx: RequestContext, egress: Egress, outbound: readonly Outbound[], follow: boolean, timeoutMs: number | undefined, limits: BodyLimits): Promise<void> {
  const upstreams = egress.upstreams;
  let body = bodyToForward(ctx, limits);
  if (body instanceof Promise) body = await body;
  if (body !== null && !Buffer.isBuffer(body) && "status" in body) return refuse(ctx, body);
  const options: Dispatcher.DispatchOptions = {
    origin,
    path,
    method: ctx.method as Dispatcher.HttpMethod,
    headers: upstreamRequestHeaders(ctx),
    body,
    headersTimeout: timeoutMs ?? upstreams.timeouts.headersMs,
    bodyTimeout: timeoutMs ?? upstreams.timeouts.bodyMs,
  };
  const dispatcher = follow && !egress.policy.fenced ? upstreams.redirectAgent(egress.policy) : upstreams.pool(origin, egress.policy);
  const relay = new Relay(ctx, outbound);
  try {
    dispatcher.dispatch(options, relay);
    await relay.done;
  } catch (e) {
    const code = (e as { code?: string }).code ?? "";
    const timeout = code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT" || code === "UND_ERR_CONNECT_TIMEOUT";
    if (ctx.res.headersSent || ctx.res.destroyed) {
      ctx.res.destroy();
      return;
    }
    const p = code === "GITWAY_EGRESS_REFUSED"
      ? problem(502, "upstream-not-allowed", "Bad Gateway", `This environment may not reach the route's upstream: ${(e as Error).message}`)
      : timeout
      ? problem(504, "upstream-timeout", "Gateway Timeout", `The upstream did not answer in time (${code === "UND_ERR_CONNECT_TIMEOUT" ? "connect" : "read"} timeout)`)
      : problem(502, "upstream-failed", "Bad Gateway", `The upstream could not be reached or failed (${code || (e as Error).name})`);
    p.headers = { ...ctx.responseHeaders };
    sendProblem(ctx.res, p, ctx.path, ctx.requestId);
  }
}

export function urlForwardHandler(options: { baseUrl: string; forwardSearch?: boolean; followRedirects?: boolean; timeoutMs?: number }, egress: Egress, outbound: readonly Outbound[], limits: BodyLimits): Handler {
  // Parsed once per release; per request the path is only concatenated (ctx.path is already normalised).
  const base = new URL(options.baseUrl);
  const prefix = base.pathname.replace(/\/+$/, "");
  const forwardSearch = options.forwardSearch !== false;
  const follow = options.followRedirects === true;
  return (ctx) => forwardTo(base.origin, prefix + ctx.path + (forwardSearch && ctx.search ? "?" + ctx.search : ""), ctx, egress, outbound, follow, options.timeoutMs, limits);
}
