import { createHash, timingSafeEqual } from "node:crypto";
import { BlockList, isIP } from "node:net";
import type { BodyLimits, Inbound } from "../context.js";
import { problem } from "../problem.js";
import { readBody, tooLarge } from "../request-body.js";

const sha = (s: string) => createHash("sha256").update(s).digest();

/** basic-auth-inbound: username and password compared as hashes, in constant time. */
export function basicAuthInbound(options: { accounts: { username: string; password: string }[]; allowUnauthenticatedRequests?: boolean }): Inbound {
  const accounts = options.accounts.map((a) => ({ user: sha(a.username), pass: sha(a.password), name: a.username }));
  const unauthorized = (detail: string) => problem(401, "unauthorized", "Unauthorized", detail, { headers: { "www-authenticate": 'Basic realm="gitway", charset="UTF-8"' } });
  return (ctx) => {
    const header = ctx.req.headers.authorization;
    ctx.upstreamHeaders.authorization = null;
    if (!header?.toLowerCase().startsWith("basic ")) return options.allowUnauthenticatedRequests ? undefined : unauthorized("Basic authentication is required");
    const decoded = Buffer.from(header.slice(6).trim(), "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    const user = sha(colon === -1 ? decoded : decoded.slice(0, colon));
    const pass = sha(colon === -1 ? "" : decoded.slice(colon + 1));
    let found: string | undefined;
    for (const a of accounts) if (timingSafeEqual(a.user, user) && timingSafeEqual(a.pass, pass)) found = a.name;
    if (!found) return options.allowUnauthenticatedRequests ? undefined : unauthorized("The username or password is not valid");
    ctx.consumer = { name: found };
    ctx.upstreamHeaders["x-consumer-name"] = found;
    return undefined;
  };
}

function blockList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const e of entries) {
    const [ip, bits] = e.split("/");
    const type = isIP(ip!) === 6 ? "ipv6" : "ipv4";
    if (bits === undefined) list.addAddress(ip!, type);
    else list.addSubnet(ip!, Number(bits), type);
  }
  return list;
}

/** ip-restriction-inbound: blocked addresses first, then the allow list when there is one. */
export function ipRestrictionInbound(options: { allowedIpAddresses?: string[]; blockedIpAddresses?: string[] }): Inbound {
  const allowed = options.allowedIpAddresses?.length ? blockList(options.allowedIpAddresses) : undefined;
  const blocked = options.blockedIpAddresses?.length ? blockList(options.blockedIpAddresses) : undefined;
  return (ctx) => {
    const ip = ctx.ip.startsWith("::ffff:") ? ctx.ip.slice(7) : ctx.ip;
    const type = isIP(ip) === 6 ? "ipv6" : "ipv4";
    if (blocked?.check(ip, type) || (allowed && !allowed.check(ip, type))) return problem(403, "forbidden", "Forbidden", "Requests from this address are not allowed");
    return undefined;
  };
}

/**
 * request-size-limit-inbound: bodies over the limit get 413; the body read here is forwarded as is.
 * The gateway's own cap still bounds a limit set higher than it.
 */
export function requestSizeLimitInbound(options: { maxSizeInBytes: number }, limits: BodyLimits): Inbound {
  const max = Math.min(options.maxSizeInBytes, limits.maxBytes);
  return async (ctx) => {
    if (ctx.body !== undefined) return ctx.body.length > max ? tooLarge(`The request body is over ${max} bytes`) : undefined;
    const body = await readBody(ctx.req, max, limits.timeoutMs);
    if (!Buffer.isBuffer(body)) return body;
    ctx.body = body;
    return undefined;
  };
}
