import { createHash, randomBytes } from "node:crypto";
import { Agent, request } from "undici";
import { SMOKE_CONSUMER } from "../config/index.js";
import type { SmokeTester } from "../pipeline/index.js";
import { addKey, removeConsumer, type Db } from "../store/index.js";

/** An answer's body is read up to this size: enough for any schema error, bounded for a huge one. */
const MAX_BODY_BYTES = 1024 * 1024;

export interface SmokeTesterOptions {
  db: Db;
  /** Where the gateway listens (a wildcard address is called on loopback). */
  gateway: () => { host: string; port: number };
  /** The base domain preview host names end with (it may follow the port the gateway bound). */
  baseDomain: () => string;
  /** Refuses the revoked keys at once in every gateway process, before any rebuild. */
  revokeKeys: (hashes: string[]) => Promise<void>;
}

/** Smoke tests through the real gateway, over loopback HTTP, with keys kept in the store like any consumer's. */
export function createSmokeTester(options: SmokeTesterOptions): SmokeTester & { close(): Promise<void> } {
  const agent = new Agent({ connections: 4, keepAliveTimeout: 5_000 });
  return {
    async send(label, req, timeoutMs) {
      const { host, port } = options.gateway();
      const address = host === "0.0.0.0" || host === "" ? "127.0.0.1" : host === "::" ? "[::1]" : host.includes(":") ? `[${host}]` : host;
      try {
        const res = await request(`http://${address}:${port}${req.path}`, {
          method: req.method as "GET",
          headers: { ...req.headers, host: `${label}.${options.baseDomain()}`, "user-agent": "gitway-smoke" },
          ...(req.body !== undefined ? { body: req.body } : {}),
          dispatcher: agent,
          signal: AbortSignal.timeout(Math.max(1, timeoutMs)),
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of res.body as AsyncIterable<Buffer>) {
          size += chunk.length;
          if (size > MAX_BODY_BYTES) {
            res.body.destroy();
            return { error: `the answer's body is over ${MAX_BODY_BYTES} bytes` };
          }
          chunks.push(chunk);
        }
        const type = res.headers["content-type"];
        return { status: res.statusCode, contentType: Array.isArray(type) ? type[0] : type, body: Buffer.concat(chunks).toString("utf8") };
      } catch (e) {
        const err = e as Error & { code?: string };
        return { error: err.name === "TimeoutError" || err.name === "AbortError" || err.code === "UND_ERR_HEADERS_TIMEOUT" || err.code === "UND_ERR_BODY_TIMEOUT" ? `no answer within ${Math.round(timeoutMs / 100) / 10} s` : `the gateway could not be reached (${err.code ?? err.name})` };
      }
    },
    async mintKey(environmentId) {
      const key = "gw_smoke_" + randomBytes(24).toString("base64url");
      // Left over from a test that never finished (the process died): gone before a new key is added.
      await options.revokeKeys(await removeConsumer(options.db, environmentId, SMOKE_CONSUMER));
      await addKey(options.db, environmentId, SMOKE_CONSUMER, createHash("sha256").update(key).digest("hex"));
      return {
        key,
        revoke: async () => options.revokeKeys(await removeConsumer(options.db, environmentId, SMOKE_CONSUMER)),
      };
    },
    close: () => agent.close(),
  };
}
