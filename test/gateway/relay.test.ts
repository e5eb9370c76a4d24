import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { forward, policiesFile, route, routesFile } from "../config/fixtures/seed.js";
import { startGateway, startUpstream } from "./harness.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

async function setup(answer: Parameters<typeof startUpstream>[0]) {
  const u = await startUpstream(answer);
  closers.push(u.close);
  const files = { "config/routes.oas.json": routesFile([{ route: route([], forward(u.url)) }, { method: "head", route: route([], forward(u.url)) }]), "config/policies.json": policiesFile([]) };
  const g = await startGateway(files);
  closers.push(g.close);
  return g;
}

describe("relaying the upstream's answer", () => {
  it("streams a large chunked answer whole, in order, to a slow reader", async () => {
    const part = (i: number) => Buffer.alloc(64 * 1024, 97 + (i % 26));
    const g = await setup((_req, res) => {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      let i = 0;
      const next = () => {
        while (i < 40) if (!res.write(part(i++))) return void res.once("drain", next);
        res.end();
      };
      next();
    });
    const r = await request(`${g.url}/api/v1/orders`);
    const chunks: Buffer[] = [];
    for await (const c of r.body) {
      chunks.push(c as Buffer);
      if (chunks.length % 8 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const body = Buffer.concat(chunks);
    expect(body.length).toBe(40 * 64 * 1024);
    expect(body.equals(Buffer.concat(Array.from({ length: 40 }, (_, i) => part(i))))).toBe(true);
  });

  it("answers a small response with its length, and a HEAD with headers only", async () => {
    const g = await setup((req, res) => {
      res.writeHead(200, { "content-type": "text/plain", "content-length": 5 });
      res.end(req.method === "HEAD" ? undefined : "hello");
    });
    const r = await request(`${g.url}/api/v1/orders`);
    expect([r.statusCode, r.headers["content-length"], await r.body.text()]).toEqual([200, "5", "hello"]);
    const h = await request(`${g.url}/api/v1/orders`, { method: "HEAD" });
    expect([h.statusCode, h.headers["content-length"], await h.body.text()]).toEqual([200, "5", ""]);
  });
});
