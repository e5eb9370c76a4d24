/**
 * Loaded with --import into benchmark child processes that run third-party spec tools: any
 * connection other than to loopback throws, so a URL inside a spec is never fetched.
 */
import net from "node:net";

const original = net.Socket.prototype.connect;
const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

net.Socket.prototype.connect = function guarded(this: net.Socket, ...args: unknown[]) {
  const first = args[0];
  const host = typeof first === "object" && first !== null ? ((first as { host?: string; path?: string }).path ? "localhost" : ((first as { host?: string }).host ?? "localhost")) : typeof args[1] === "string" ? args[1] : "localhost";
  if (!LOOPBACK.has(host)) {
    process.stderr.write(`no-network: refused a connection to ${host}\n`);
    throw new Error(`network access refused in benchmark sandbox: ${host}`);
  }
  return (original as (...a: unknown[]) => net.Socket).apply(this, args);
} as typeof net.Socket.prototype.connect;
