import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createAdminApi } from "../../src/admin/index.js";
import { MemoryOperations } from "../web/memory-operations.js";

const TOKEN = "admin-token-for-api-reads-0123";
let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

/** The admin API on loopback, over in-memory operations holding one environment. */
async function api(publicRead: boolean): Promise<string> {
  const ops = Object.assign(new MemoryOperations(), { repositories: async () => [{ owner: "acme", name: "shop" }] });
  ops.addEnvironment({ repository: "acme/shop", name: "production", kind: "production" });
  const handle = createAdminApi({ operations: ops, token: TOKEN, publicRead, version: "test", log: () => {} });
  server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const get = async (url: string, token?: string) => {
  const r = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
};

describe("reading the admin API", () => {
  it("needs the admin token when the dashboard is not public (GITWAY_DASHBOARD_PUBLIC=false)", async () => {
    const url = await api(false);
    for (const path of ["/api/environments", "/api/repositories", "/api/audit", "/api/version", "/api/environments/acme-shop-production/values"]) {
      const anonymous = await get(url + path);
      expect(anonymous.status, path).toBe(401);
      expect(anonymous.body).toEqual({ error: { code: "UNAUTHORIZED", message: expect.stringContaining("admin token") } });
      expect((await get(url + path, "wrong-token-wrong-token")).status, path).toBe(401);
    }
    const signed = await get(`${url}/api/environments`, TOKEN);
    expect(signed.status).toBe(200);
    expect((signed.body.environments as { label: string }[]).map((e) => e.label)).toEqual(["acme-shop-production"]);
  });

  it("is open when the dashboard is public, while changes still need the token", async () => {
    const url = await api(true);
    expect((await get(`${url}/api/environments`)).status).toBe(200);
    const write = await fetch(`${url}/api/sync`, { method: "POST" });
    expect(write.status).toBe(401);
  });
});
