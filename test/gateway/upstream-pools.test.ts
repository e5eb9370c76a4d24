import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Upstreams } from "../../src/gateway/index.js";
import { startUpstream } from "./harness.js";

let upstream: Awaited<ReturnType<typeof startUpstream>>;
let other: Awaited<ReturnType<typeof startUpstream>>;
beforeAll(async () => {
  upstream = await startUpstream();
  other = await startUpstream();
});
afterAll(async () => {
  await upstream?.close();
  await other?.close();
});

const get = async (upstreams: Upstreams, origin: string) => {
  const res = await upstreams.pool(origin).request({ method: "GET", path: "/" });
  await res.body.text();
  return res.statusCode;
};

describe("upstream connection pools", () => {
  it("close when no request used them for the idle time, and a later request opens a new one", async () => {
    const upstreams = new Upstreams();
    try {
      const origin = new URL(upstream.url).origin;
      const recent = new URL(other.url).origin;
      await get(upstreams, origin);
      const first = upstreams.pool(origin);
      await new Promise((r) => setTimeout(r, 100));
      const recentAt = Date.now();
      await get(upstreams, recent);
      const recentPool = upstreams.pool(recent);

      expect(upstreams.closeIdle(60_000, recentAt + 20)).toBe(0);
      // 50 ms later than its last use `origin` is idle; `recent`, used since, is not.
      expect(upstreams.closeIdle(50, recentAt + 20)).toBe(1);
      expect(recentPool.closed).toBe(false);
      await new Promise((r) => setTimeout(r, 50));
      expect(first.closed).toBe(true);

      expect(await get(upstreams, origin)).toBe(200);
      expect(upstreams.pool(origin)).not.toBe(first);
      expect(upstreams.pool(origin).closed).toBe(false);
    } finally {
      await upstreams.close();
    }
  });
});
