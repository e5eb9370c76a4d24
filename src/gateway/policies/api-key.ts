import { createHash, hash, timingSafeEqual } from "node:crypto";
import type { Consumer, Inbound } from "../context.js";
import { problem } from "../problem.js";

export function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** One-shot SHA-256 (much cheaper per call than createHash on the request path). */
function digest(key: string): Buffer {
  return hash("sha256", key, "buffer");
}

/**
 * An environment's API keys, held only as SHA-256 hashes. A lookup hashes the presented key and
 * compares hashes in constant time, so neither the stored keys nor timing reveal a valid key.
 */
export class KeyIndex {
  private readonly byHash = new Map<string, { hash: Buffer; consumer: Consumer }>();

  /** `revoked`: hashes revoked since this release was built, refused at once even if no rebuild follows. */
  constructor(
    consumers: readonly { name: string; keyHashes: readonly string[] }[],
    private readonly revoked?: ReadonlySet<string>,
  ) {
    for (const c of consumers) for (const h of c.keyHashes) this.byHash.set(h, { hash: Buffer.from(h, "hex"), consumer: { name: c.name } });
  }

  find(key: string): Consumer | undefined {
    const presented = digest(key);
    const hex = presented.toString("hex");
    const entry = this.byHash.get(hex);
    if (!entry || this.revoked?.has(hex)) return undefined;
    return timingSafeEqual(entry.hash, presented) ? entry.consumer : undefined;
  }
}

export interface ApiKeyOptions {
  authHeader?: string;
  authScheme?: string;
  allowUnauthenticatedRequests?: boolean;
}

/** api-key-inbound: the key from a header (default `Authorization: Bearer <key>`) must belong to a consumer. */
export function apiKeyInbound(options: ApiKeyOptions, keys: KeyIndex): Inbound {
  const header = (options.authHeader ?? "authorization").toLowerCase();
  const scheme = options.authScheme ?? "Bearer";
  const prefix = scheme === "" ? "" : scheme.toLowerCase() + " ";
  const how = `send it as "${options.authHeader ?? "Authorization"}: ${scheme ? scheme + " " : ""}<key>"`;
  const optional = options.allowUnauthenticatedRequests === true;
  return (ctx) => {
    const raw = ctx.req.headers[header];
    const value = Array.isArray(raw) ? raw[0] : raw;
    const key = value !== undefined && value.toLowerCase().startsWith(prefix) ? value.slice(prefix.length).trim() : undefined;
    // The key is not for the upstream: it would leak the gateway's credentials to every backend.
    ctx.upstreamHeaders[header] = null;
    if (!key) return optional ? undefined : problem(401, "unauthorized", "Unauthorized", `An API key is required: ${how}`, { headers: { "www-authenticate": `${scheme || "ApiKey"} realm="gitway"` } });
    const consumer = keys.find(key);
    if (!consumer) return optional ? undefined : problem(401, "unauthorized", "Unauthorized", "The API key is not valid for this environment", { headers: { "www-authenticate": `${scheme || "ApiKey"} realm="gitway"` } });
    ctx.consumer = consumer;
    ctx.upstreamHeaders["x-consumer-name"] = consumer.name;
    return undefined;
  };
}
