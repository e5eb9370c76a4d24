import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { builtinPolicy, configFiles, forward, route } from "../config/fixtures/seed.js";
import { startGateway, startUpstream } from "./harness.js";

/**
 * A pattern in a configuration meets values a client chooses. The gateway serves every environment
 * in one event loop, so one request must not be able to hold it: patterns run in linear time.
 * Each input below takes V8's backtracking engine seconds; the gateway answers it at once.
 */
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

async function timed(url: string, headers: Record<string, string> = {}) {
  const started = performance.now();
  const r = await request(url, { headers });
  await r.body.text();
  return { status: r.statusCode, headers: r.headers, ms: performance.now() - started };
}

describe("patterns against hostile values", () => {
  it("refuses a query value a nested-quantifier pattern would backtrack on, at once", async () => {
    const u = await startUpstream();
    closers.push(u.close);
    const files = configFiles(
      [{ parameters: [{ name: "sku", in: "query", schema: { type: "string", pattern: "^(a+)+$" } }], route: route(["v"], forward(u.url)) }],
      [builtinPolicy("v", "request-validation-inbound", "RequestValidationInboundPolicy", { validateQueryParameters: "reject-and-log" })],
    );
    const g = await startGateway(files);
    closers.push(g.close);
    expect((await timed(`${g.url}/api/v1/orders?sku=aaaa`)).status).toBe(200);
    const hostile = await timed(`${g.url}/api/v1/orders?sku=${"a".repeat(30)}!`);
    expect(hostile.status).toBe(400);
    expect(hostile.ms).toBeLessThan(500);
  });

  it("judges a long Origin against an origin glob with several wildcards at once", async () => {
    const u = await startUpstream();
    closers.push(u.close);
    const files = configFiles([{ route: route([], forward(u.url), { corsPolicy: "partners" }) }], [], {
      corsPolicies: [{ name: "partners", allowedOrigins: ["https://*.*.*.example.com"], allowedMethods: ["GET"] }],
    });
    const g = await startGateway(files);
    closers.push(g.close);
    const allowed = await timed(`${g.url}/api/v1/orders`, { origin: "https://a.b.c.example.com" });
    expect(allowed.headers["access-control-allow-origin"]).toBe("https://a.b.c.example.com");
    const hostile = await timed(`${g.url}/api/v1/orders`, { origin: `https://${"a.".repeat(2_000)}` });
    expect(hostile.headers["access-control-allow-origin"]).toBeUndefined();
    expect(hostile.ms).toBeLessThan(500);
  });
});
