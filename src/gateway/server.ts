import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { isIP, type AddressInfo } from "node:net";
import { isProblem, type RequestContext } from "./context.js";
import { baseDomain, labelOfHost, type BaseDomain } from "./host-names.js";
import { normalizePath } from "./path-match.js";
import { corsResponseHeaders, preflightHeaders } from "./policies/cors.js";
import { problem, sendProblem } from "./problem.js";
import { declaredTooLarge } from "./request-body.js";
import type { Release } from "./release.js";
import type { UsageCounter } from "./usage.js";

export interface AccessLogEntry {
  time: string;
  requestId: string;
  environment: string;
  method: string;
  path: string;
  route: string | undefined;
  status: number;
  ms: number;
  consumer: string | undefined;
  ip: string;
}

export interface GatewayServerOptions {
  /** Host names are `<label>.<baseDomain>`. */
  baseDomain: string;
  /** Serve this environment for hosts of no environment (single-environment mode, `gitway serve`). */
  fallbackEnvironment?: string;
  /** Until a request's headers have arrived (slowloris). */
  headersTimeoutMs?: number;
  /** Whole request. */
  requestTimeoutMs?: number;
  maxHeaderBytes?: number;
  accessLog?: (entry: AccessLogEntry) => void;
  /** Counts every answered call of a route, per operation and consumer (absent: nothing counted). */
  usage?: UsageCounter;
  log?: (level: "info" | "warn" | "error", message: string) => void;
  /**
   * A proxy in front whose word on the caller's address is taken (the nginx engine handing a route
   * over): requests from one of `addresses` carry the caller's address in `header`. From anywhere
   * else the header is ignored, so a caller cannot choose the address its policies judge.
   */
  trustedProxy?: { header: string; addresses: readonly string[] };
}

interface Slot {
  release: Release;
}

let sequence = 0;
const PREFIX = `${process.pid.toString(36)}-${Date.now().toString(36)}`;

/** One HTTP server for many environments, chosen by host name; releases swap atomically. */
export class GatewayServer {
  private readonly environments = new Map<string, Slot>();
  private readonly base: BaseDomain;
  readonly server: Server;

  constructor(private readonly options: GatewayServerOptions) {
    this.base = baseDomain(options.baseDomain);
    this.server = createServer({ maxHeaderSize: options.maxHeaderBytes ?? 16 * 1024, requestTimeout: options.requestTimeoutMs ?? 60_000, headersTimeout: options.headersTimeoutMs ?? 10_000, keepAliveTimeout: 5_000, connectionsCheckingInterval: 1_000 }, (req, res) => this.serve(req, res, false));
    // With this listener Node no longer answers `Expect: 100-continue` itself: the gateway decides,
    // so a body over the cap gets 413 instead of an invitation to send it.
    this.server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => this.serve(req, res, true));
    // Oversized or malformed request heads get an answer and the socket closes; nothing crashes.
    this.server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
      // Node checks header and request timeouts only every connectionsCheckingInterval (set above to 1 s).
      if (!socket.writable) return socket.destroy();
      const status = err.code === "HPE_HEADER_OVERFLOW" ? 431 : err.code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400;
      const body = JSON.stringify({ type: `https://gitway.dev/problems/${status === 431 ? "headers-too-large" : "bad-request"}`, title: status === 431 ? "Request Header Fields Too Large" : status === 408 ? "Request Timeout" : "Bad Request", status, detail: status === 431 ? "The request headers are too large" : "The request could not be read" });
      socket.end(`HTTP/1.1 ${status} ${status === 431 ? "Request Header Fields Too Large" : status === 408 ? "Request Timeout" : "Bad Request"}\r\ncontent-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    });
  }

  /** Installs or replaces an environment's release; requests already running finish on the old one. */
  deploy(label: string, release: Release): void {
    const slot = this.environments.get(label);
    if (slot) slot.release = release;
    else this.environments.set(label, { release });
  }

  remove(label: string): boolean {
    return this.environments.delete(label);
  }

  releaseOf(label: string): Release | undefined {
    return this.environments.get(label)?.release;
  }

  /** The labels of every environment served. */
  labels(): string[] {
    return [...this.environments.keys()];
  }

  get environmentCount(): number {
    return this.environments.size;
  }

  listen(port: number, host = "127.0.0.1"): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => resolve((this.server.address() as AddressInfo).port));
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
  }

  private callerAddress(req: IncomingMessage): string {
    const socket = req.socket.remoteAddress ?? "";
    const proxy = this.options.trustedProxy;
    if (!proxy) return socket;
    const from = socket.startsWith("::ffff:") ? socket.slice(7) : socket;
    if (!proxy.addresses.includes(from)) return socket;
    const said = req.headers[proxy.header.toLowerCase()];
    return typeof said === "string" && isIP(said) !== 0 ? said : socket;
  }

  private serve(req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): void {
    const incomingId = req.headers["x-request-id"];
    const requestId = typeof incomingId === "string" && /^[\w.-]{1,64}$/.test(incomingId) ? incomingId : `${PREFIX}-${(++sequence).toString(36)}`;
    this.handle(req, res, requestId, expectsContinue).catch((e: unknown) => {
      this.options.log?.("error", `unhandled gateway error (request ${requestId}): ${(e as Error).stack ?? String(e)}`);
      // The same request id as the access log's, so a user's report of a 500 can be found.
      sendProblem(res, problem(500, "internal-error", "Internal Server Error", "The gateway failed to handle the request"), req.url ?? "/", requestId);
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse, requestId: string, expectsContinue: boolean): Promise<void> {
    const started = performance.now();
    const label = labelOfHost(req.headers.host, this.base);
    const slot = (label !== undefined ? this.environments.get(label) : undefined) ?? (this.options.fallbackEnvironment !== undefined ? this.environments.get(this.options.fallbackEnvironment) : undefined);
    const rawUrl = req.url ?? "/";
    if (!slot) {
      // Says nothing about which environments exist.
      sendProblem(res, problem(404, "environment-not-found", "Not Found", "No environment is served at this host name"), "/", requestId);
      return;
    }
    const release = slot.release;
    if (expectsContinue) {
      const over = declaredTooLarge(req, release.body.maxBytes);
      if (over) {
        sendProblem(res, over, "/", requestId);
        return;
      }
      res.writeContinue();
    }
    const q = rawUrl.indexOf("?");
    const path = normalizePath(q === -1 ? rawUrl : rawUrl.slice(0, q));
    const search = q === -1 ? "" : rawUrl.slice(q + 1);
    const method = req.method ?? "GET";
    if (path === undefined) {
      sendProblem(res, problem(400, "bad-path", "Bad Request", "The request path is not valid (it climbs above the root or is badly encoded)"), "/", requestId);
      return;
    }
    const origin = req.headers.origin;

    if (method === "OPTIONS" && origin !== undefined) {
      const wanted = req.headers["access-control-request-method"];
      if (typeof wanted === "string") {
        const target = release.matcher.find(wanted.toUpperCase(), path);
        const cors = target && "match" in target ? target.match.value.cors : undefined;
        if (cors) {
          const headers = preflightHeaders(cors, origin, wanted.toUpperCase(), req.headers["access-control-request-headers"] as string | undefined);
          if (headers) {
            res.writeHead(204, { ...headers, "content-length": 0, "x-request-id": requestId });
            res.end();
          } else {
            sendProblem(res, problem(403, "cors-not-allowed", "Forbidden", "This origin or method is not allowed by the route's CORS policy"), path, requestId);
          }
          return;
        }
      }
    }

    const found = release.matcher.find(method, path);
    if (!found) {
      sendProblem(res, problem(404, "route-not-found", "Not Found", `No route matches ${method} ${path}`), path, requestId);
      return;
    }
    if (!("match" in found)) {
      const allow = found.allowed.join(", ");
      sendProblem(res, problem(405, "method-not-allowed", "Method Not Allowed", `${method} is not allowed here; use ${allow}`, { headers: { allow } }), path, requestId);
      return;
    }
    const route = found.match.value;
    const ctx: RequestContext = {
      req,
      res,
      requestId,
      environment: release.environment,
      method,
      path,
      search,
      params: found.match.params,
      ip: this.callerAddress(req),
      consumer: undefined,
      upstreamHeaders: {},
      responseHeaders: {},
      body: undefined,
    };
    const { accessLog: log, usage } = this.options;
    // One listener for both: usage is counted on every request, and each listener added to a
    // response is a closure and a slot more in its emitter ('finish' is emitted once, so `on` and
    // no `once` wrapper).
    if (log || usage) {
      res.on("finish", () => {
        if (log) log({ time: new Date().toISOString(), requestId, environment: release.environment, method, path, route: route.id, status: res.statusCode, ms: Math.round((performance.now() - started) * 10) / 10, consumer: ctx.consumer?.name, ip: ctx.ip });
        if (usage) usage.count(release.environment, route, ctx.consumer?.name, res.statusCode);
      });
    }
    // CORS headers go on every answer, errors included, so a browser can read a 401 or 429.
    if (route.cors && origin !== undefined) corsResponseHeaders(route.cors, origin, ctx.responseHeaders);

    for (const policy of route.inbound) {
      let r = policy(ctx);
      if (r instanceof Promise) r = await r;
      if (r === undefined) continue;
      if (isProblem(r)) {
        r.headers = { ...ctx.responseHeaders, ...r.headers };
        sendProblem(res, r, path, requestId);
      } else {
        res.writeHead(r.status, { ...ctx.responseHeaders, ...r.headers, "content-length": Buffer.byteLength(r.body), "x-request-id": requestId });
        res.end(r.body);
      }
      if (!req.complete) req.resume();
      return;
    }
    await route.handler(ctx);
  }
}
