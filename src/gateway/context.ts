import type { IncomingMessage, ServerResponse } from "node:http";
import type { Problem } from "./problem.js";

/** What a consumer authenticated as; reaches later policies, the upstream (a header) and the access log. */
export interface Consumer {
  name: string;
}

/** One request on its way through a route's policies. */
export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly requestId: string;
  readonly environment: string;
  readonly method: string;
  /** Normalised path, still percent-encoded. */
  readonly path: string;
  /** The raw query string without "?", or "". */
  readonly search: string;
  readonly params: Record<string, string>;
  readonly ip: string;
  consumer: Consumer | undefined;
  /** Headers to add to (or, with null, remove from) the upstream request. */
  upstreamHeaders: Record<string, string | null>;
  /** Headers added to the response, whoever answers (rate-limit and CORS headers). */
  responseHeaders: Record<string, string>;
  /** The request body when a policy needed it (validation, size limit); forwarded as is. */
  body: Buffer | undefined;
}

/** A policy's answer: undefined lets the request go on; a problem or a response stops it. */
export type InboundResult = undefined | Problem | DirectResponse;
export type Inbound = (ctx: RequestContext) => InboundResult | Promise<InboundResult>;

/** A response the gateway makes itself (mock, redirect). */
export interface DirectResponse {
  direct: true;
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
}

export function isProblem(r: InboundResult): r is Problem {
  return r !== undefined && !("direct" in r);
}

/** Outbound policies change the response headers before they are written. */
export type Outbound = (headers: Record<string, string | string[]>, ctx: RequestContext) => void;

export type Handler = (ctx: RequestContext) => Promise<void>;

/** How much of a request body a release accepts, and how long it waits for it. */
export interface BodyLimits {
  maxBytes: number;
  timeoutMs: number;
}
