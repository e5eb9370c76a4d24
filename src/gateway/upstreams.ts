import { isIP } from "node:net";
import { Agent, buildConnector, interceptors, Pool, type Dispatcher } from "undici";
import { EgressRefused, openPolicy, type EgressPolicy } from "./egress.js";

export interface UpstreamTimeouts {
  connectMs: number;
  /** Until the upstream's response headers arrive. */
  headersMs: number;
  /** Between body chunks. */
  bodyMs: number;
}

export const DEFAULT_TIMEOUTS: UpstreamTimeouts = { connectMs: 5_000, headersMs: 30_000, bodyMs: 30_000 };

/**
 * A connector that resolves the host itself, has the egress policy judge every address, and
 * connects to the address it judged (so a name cannot resolve once for the check and again, to
 * somewhere else, for the connection). The TLS server name stays the URL's host.
 */
function checkingConnector(policy: EgressPolicy, connectMs: number): buildConnector.connector {
  const base = buildConnector({ timeout: connectMs });
  return (options, callback) => {
    const port = Number(options.port || (options.protocol === "https:" ? 443 : 80));
    const hostname = options.hostname.replace(/^\[|\]$/g, "");
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error(`resolving ${hostname} took over ${connectMs} ms`), { code: "UND_ERR_CONNECT_TIMEOUT" })), connectMs);
    });
    Promise.race([policy.resolve(hostname, port), deadline])
      .then((address) => {
        const servername = options.servername ?? (isIP(hostname) ? undefined : hostname);
        base({ ...options, hostname: address, ...(servername ? { servername } : {}) }, callback);
      })
      .catch((e: Error) => callback(e, null))
      .finally(() => clearTimeout(timer));
  };
}

/**
 * Keep-alive connection pools per egress policy and upstream origin, shared by every release that
 * has that policy: a connection judged for one environment is never reused by another's.
 */
export class Upstreams {
  private readonly pools = new Map<string, Pool>();
  private readonly lastUsed = new Map<string, number>();
  private readonly redirecting = new Map<string, Dispatcher>();
  readonly defaultPolicy: EgressPolicy;

  constructor(
    readonly timeouts: UpstreamTimeouts = DEFAULT_TIMEOUTS,
    defaultPolicy?: EgressPolicy,
  ) {
    this.defaultPolicy = defaultPolicy ?? openPolicy();
  }

  pool(origin: string, policy: EgressPolicy = this.defaultPolicy): Pool {
    const key = `${policy.key} ${origin}`;
    let p = this.pools.get(key);
    if (!p) {
      p = new Pool(origin, { connections: 256, keepAliveTimeout: 30_000, connect: checkingConnector(policy, this.timeouts.connectMs) });
      this.pools.set(key, p);
    }
    this.lastUsed.set(key, Date.now());
    return p;
  }

  /**
   * Closes the pools of origins no request used for `idleMs` (an upstream a removed preview
   * reached, one a release no longer names): their sockets and memory are not kept for good.
   * A later request to the origin opens a new pool. Returns how many were closed.
   */
  closeIdle(idleMs: number, now = Date.now()): number {
    let closed = 0;
    for (const [key, used] of this.lastUsed) {
      if (now - used < idleMs) continue;
      const p = this.pools.get(key);
      this.pools.delete(key);
      this.lastUsed.delete(key);
      if (p) {
        closed++;
        void p.close().catch(() => {});
      }
    }
    return closed;
  }

  /** For routes with followRedirects outside previews: up to five redirects, each hop judged like the first. */
  redirectAgent(policy: EgressPolicy = this.defaultPolicy): Dispatcher {
    let agent = this.redirecting.get(policy.key);
    if (!agent) {
      agent = new Agent({ keepAliveTimeout: 30_000, connect: checkingConnector(policy, this.timeouts.connectMs) }).compose(interceptors.redirect({ maxRedirections: 5 }));
      this.redirecting.set(policy.key, agent);
    }
    return agent;
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close()));
    this.pools.clear();
    this.lastUsed.clear();
    await Promise.all([...this.redirecting.values()].map((a) => a.close()));
    this.redirecting.clear();
  }
}

export { EgressRefused };
