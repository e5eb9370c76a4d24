import type { IncomingMessage } from "node:http";
import { problem, type Problem } from "./problem.js";

/**
 * A 413 that closes the connection: the rest of the body is never read (a chunked body may be
 * endless), so the connection cannot carry another request.
 */
export function tooLarge(detail: string): Problem {
  return problem(413, "payload-too-large", "Payload Too Large", detail, { headers: { connection: "close" } });
}

/** The 413 for a declared Content-Length over the limit, before any of the body is read; undefined when it fits or is not declared. */
export function declaredTooLarge(req: IncomingMessage, limit: number): Problem | undefined {
  const declared = Number(req.headers["content-length"]);
  return Number.isFinite(declared) && declared > limit ? tooLarge(`The request body is ${declared} bytes; at most ${limit} are accepted`) : undefined;
}

/** Reads a request body up to a limit; over it, a 413 problem (the rest is not read). */
export function readBody(req: IncomingMessage, limit: number, timeoutMs: number): Promise<Buffer | Problem> {
  const over = declaredTooLarge(req, limit);
  if (over) return Promise.resolve(over);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (v: Buffer | Problem) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.removeAllListeners("data");
      resolve(v);
    };
    // A slow client cannot hold the request (and its place in the gateway) forever.
    const timer = setTimeout(() => finish(problem(408, "request-timeout", "Request Timeout", `The request body did not arrive within ${timeoutMs} ms`)), timeoutMs);
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        finish(tooLarge(`The request body is over ${limit} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => finish(Buffer.concat(chunks)));
    req.on("error", () => finish(problem(400, "bad-request", "Bad Request", "The request body could not be read")));
  });
}
