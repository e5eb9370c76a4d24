import type { IncomingMessage } from "node:http";
import { problem, type Problem } from "./problem.js";

/** Reads a request body up to a limit; over it, a 413 problem (the rest is not read). */
export function readBody(req: IncomingMessage, limit: number, timeoutMs: number): Promise<Buffer | Problem> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.resolve(problem(413, "payload-too-large", "Payload Too Large", `The request body is ${declared} bytes; at most ${limit} are accepted`));
  }
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
        finish(problem(413, "payload-too-large", "Payload Too Large", `The request body is over ${limit} bytes`));
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => finish(Buffer.concat(chunks)));
    req.on("error", () => finish(problem(400, "bad-request", "Bad Request", "The request body could not be read")));
  });
}
