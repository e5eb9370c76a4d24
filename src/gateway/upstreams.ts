import { Agent, interceptors, Pool, type Dispatcher } from "undici";

export interface UpstreamTimeouts {
  connectMs: number;
  /** Until the upstream's response headers arrive. */
  headersMs: number;
  /** Between body chunks. */
  bodyMs: number;
}

export const DEFAULT_TIMEOUTS: UpstreamTimeouts = { connectMs: 5_000, headersMs: 30_000, bodyMs: 30_000 };

/** Keep-alive connection pools per upstream origin, shared by every release and environment. */
export class Upstreams {
  private readonly pools = new Map<string, Pool>();
  private readonly lastUsed = new Map<string, number>();
  private redirecting: Dispatcher | undefined;

  constructor(readonly timeouts: UpstreamTimeouts = DEFAULT_TIMEOUTS) {}

  pool(origin: string): Pool {
    let p = this.pools.get(origin);
    if (!p) {
      p = new Pool(origin, { connections: 256, keepAliveTimeout: 30_000, connect: { timeout: this.timeouts.connectMs } });
      this.pools.set(origin, p);
    }
    this.lastUsed.set(origin, Date.now());
    return p;
  }

  /**
   * Closes the pools of origins no request used for `idleMs` (an upstream a removed preview
   * reached, one a release no longer names): their sockets and memory are not kept for good.
   * A later request to the origin opens a new pool. Returns how many were closed.
   */
  closeIdle(idleMs: number, now = Date.now()): number {
    let closed = 0;
    for (const [origin, used] of this.lastUsed) {
      if (now - used < idleMs) continue;
      const p = this.pools.get(origin);
      this.pools.delete(origin);
      this.lastUsed.delete(origin);
      if (p) {
        closed++;
        void p.close().catch(() => {});
      }
    }
    return closed;
  }

  /** For routes with followRedirects: an agent that follows up to five redirects. */
  redirectAgent(): Dispatcher {
    this.redirecting ??= new Agent({ keepAliveTimeout: 30_000, connect: { timeout: this.timeouts.connectMs } }).compose(interceptors.redirect({ maxRedirections: 5 }));
    return this.redirecting;
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close()));
    this.pools.clear();
    this.lastUsed.clear();
    await this.redirecting?.close();
  }
}
