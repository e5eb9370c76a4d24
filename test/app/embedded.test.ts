import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startProcess, type Started } from "./start.js";

interface Env {
  name: string;
  status: string;
  url: string;
  label: string;
}

let data: string;
let app: Started;
let synced: Env[];

/** What a newcomer runs: `npm start` with no settings at all (only where to listen and keep data). */
beforeAll(async () => {
  data = mkdtempSync(join(tmpdir(), "gitway-embedded-"));
  app = await startProcess(["dist/main.js"], { GITWAY_DATA_DIR: data, PORT: "0", GATEWAY_PORT: "0" });
  const until = Date.now() + 30_000;
  for (;;) {
    const { environments } = (await (await fetch(`${app.appUrl}/api/environments`)).json()) as { environments: Env[] };
    if (environments.length === 3 && environments.every((e) => e.status === "synced")) {
      synced = environments;
      break;
    }
    if (Date.now() > until) throw new Error(`not synced within 30 s: ${JSON.stringify(environments)}\n${app.output()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}, 90_000);

afterAll(async () => {
  expect(await app?.stop()).toBe(0);
  rmSync(data, { recursive: true, force: true });
});

async function call(env: Env, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  const url = new URL(env.url);
  const res = await request(`${app.gatewayUrl}${path}`, { method: (init.method ?? "GET") as "GET", headers: { host: url.host, ...init.headers }, ...(init.body ? { body: init.body } : {}) });
  return { status: res.statusCode, body: await res.body.text() };
}

describe("npm start with no settings", () => {
  it("makes the bundled example a Git repository and syncs production and both branches within 30 s", () => {
    expect(synced.map((e) => e.name).sort()).toEqual(["branch-feature-open-orders", "branch-feature-stock-webhooks", "production"]);
    expect(existsSync(join(data, "example", "shopkart", ".git"))).toBe(true);
  });

  it("serves each environment at its URL, forwarding to the example's upstream", async () => {
    const byName = Object.fromEntries(synced.map((e) => [e.name, e]));
    const products = await call(byName.production!, "/v1/products");
    expect(products.status).toBe(200);
    expect(JSON.parse(products.body)[0]).toMatchObject({ id: "p-100" });
    expect((await call(byName.production!, "/v1/orders")).status).toBe(401);
    // feature/open-orders removed the key from GET /v1/orders; feature/stock-webhooks added an operation.
    expect((await call(byName["branch-feature-open-orders"]!, "/v1/orders")).status).toBe(200);
    expect((await call(byName["branch-feature-stock-webhooks"]!, "/v1/webhooks/stock", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).status).toBe(401);
    expect((await call(byName.production!, "/v1/webhooks/stock", { method: "POST" })).status).toBe(404);
  });

  it("mints an API key with the token it wrote to the data folder, and the key opens production", async () => {
    const token = readFileSync(join(data, "admin-token"), "utf8").trim();
    // The log says where the token is, never the token: logs are collected and shipped by people who must not hold it.
    expect(app.output()).not.toContain(token);
    expect(app.output()).toContain(`admin token generated into ${join(data, "admin-token")}`);
    expect(statSync(join(data, "admin-token")).mode & 0o777).toBe(0o600);
    const res = await fetch(`${app.appUrl}/api/environments/production/keys`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify({ consumer: "newcomer" }) });
    expect(res.status).toBe(201);
    const { key } = (await res.json()) as { key: string };
    const production = synced.find((e) => e.name === "production")!;
    const order = await call(production, "/v1/orders", { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify({ productId: "p-200", quantity: 1 }) });
    expect(order.status).toBe(201);
    const invalid = await call(production, "/v1/orders", { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify({ productId: "p-200", quantity: 0 }) });
    expect(invalid.status).toBe(400);
  });
});
