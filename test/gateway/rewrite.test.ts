import { request as rawRequest } from "node:http";
import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { policiesFile, route, routesFile } from "../config/fixtures/seed.js";
import { startGateway, startUpstream } from "./harness.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

const rewrite = (rewritePattern: string) => ({ export: "urlRewriteHandler", module: "$import(@zuplo/runtime)", options: { rewritePattern } });

/** A gateway whose one route, GET and POST /api/v1/orders, rewrites to `pattern`. */
async function rewriting(pattern: (upstream: string) => string) {
  const u = await startUpstream();
  closers.push(u.close);
  const files = { "config/routes.oas.json": routesFile([{ route: route([], rewrite(pattern(u.url))) }, { method: "post", route: route([], rewrite(pattern(u.url))) }]), "config/policies.json": policiesFile([]) };
  const g = await startGateway(files);
  closers.push(g.close);
  return { u, g };
}

async function send(url: string, method = "GET", headers: Record<string, string> = {}) {
  const r = await request(url, { method: method as "GET", headers, ...(method === "POST" ? { body: "" } : {}) });
  return { status: r.statusCode, text: await r.body.text() };
}

describe("urlRewriteHandler templates", () => {
  it("fills ${headers.x} from the request, encoded", async () => {
    const { u, g } = await rewriting((up) => `${up}/tenants/\${headers.x-tenant}/orders`);
    await send(`${g.url}/api/v1/orders`, "GET", { "x-tenant": "acme/eu 1" });
    expect(u.seen[0]!.url).toBe("/tenants/acme%2Feu%201/orders");
  });

  it("fills ${method}, ${pathname} and ${search}", async () => {
    const { u, g } = await rewriting((up) => `${up}/m/\${method}\${pathname}\${search}`);
    await send(`${g.url}/api/v1/orders?status=open&x=1`);
    await send(`${g.url}/api/v1/orders`, "POST");
    expect(u.seen.map((s) => [s.method, s.url])).toEqual([
      ["GET", "/m/GET/api/v1/orders?status=open&x=1"],
      ["POST", "/m/POST/api/v1/orders"],
    ]);
  });

  it("does not let a request value change the host, wherever the template puts it after the host", async () => {
    // A second upstream on loopback is where each value tries to send the request instead.
    const other = await startUpstream();
    closers.push(other.close);
    const to = new URL(other.url).host;
    const attempts = [`@${to}`, `@${to}/x`, `\\${to}`, `/${to}`, `%40${to}`, `#@${to}`];
    const patterns = [(up: string) => `${up}\${headers.x-v}`, (up: string) => `${up}/a/\${headers.x-v}`, (up: string) => `${up}/a?q=\${headers.x-v}`];
    const reached: number[] = [];
    for (const pattern of patterns) {
      const { u, g } = await rewriting(pattern);
      // Right after the host, an encoded value makes no valid URL (502); further on it is path or query text.
      for (const v of attempts) await send(`${g.url}/api/v1/orders`, "GET", { "x-v": v });
      reached.push(u.seen.length);
    }
    expect(other.seen).toEqual([]);
    expect(reached).toEqual([0, attempts.length, attempts.length]);
  });

  it("encodes a query value it places in the path", async () => {
    const { u, g } = await rewriting((up) => `${up}/q/\${query.next}`);
    await new Promise<void>((resolve, reject) => {
      const req = rawRequest(`${g.url}/api/v1/orders?next=${encodeURIComponent("@evil.example/../x")}`, (res) => res.resume().on("end", resolve));
      req.on("error", reject).end();
    });
    expect(u.seen.map((s) => s.url.split("?")[0])).toEqual(["/q/%40evil.example%2F..%2Fx"]);
  });
});
