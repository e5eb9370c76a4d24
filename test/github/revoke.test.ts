import { sql } from "drizzle-orm";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startUpstream } from "../gateway/harness.js";
import { startApp, WEBHOOK_SECRET, type AppUnderTest } from "./app-harness.js";
import { shopFiles } from "./shop-repo.js";
import { deliver, pushEvent } from "./webhooks.js";

let t: AppUnderTest;
let upstream: Awaited<ReturnType<typeof startUpstream>>;

beforeAll(async () => {
  upstream = await startUpstream();
  t = await startApp();
}, 60_000);

afterAll(async () => {
  await t?.close();
  await upstream?.close();
});

/** Orders behind an API key; products send `$env(UPSTREAM_TOKEN)` upstream. */
const files = () =>
  shopFiles({
    upstream: upstream.url,
    products: true,
    productsInbound: ["upstream-token"],
    extraPolicies: [{ name: "upstream-token", policyType: "set-headers-inbound", handler: { export: "SetHeadersInboundPolicy", module: "$import(@zuplo/runtime)", options: { headers: [{ name: "x-upstream-token", value: "$env(UPSTREAM_TOKEN)" }] } } }],
  });

async function admin(method: "DELETE" | "POST", path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await request(`${t.app.appUrl}${path}`, { method, headers: { authorization: `Bearer ${t.app.adminToken}`, "content-type": "application/json" }, ...(body ? { body: JSON.stringify(body) } : {}) });
  return { status: res.statusCode, json: (await res.body.json()) as Record<string, unknown> };
}

describe("revoking a key", () => {
  it("refuses the key at once even when the rebuild after it fails, and the API says the rebuild failed", async () => {
    const repo = t.github.repo("acme", "revoke");
    const label = "acme-revoke-production";
    const first = t.github.commit(repo, files(), "main");
    await deliver(t.app.appUrl, "push", pushEvent(repo, t.github.installationId, "main", "0".repeat(40), first), WEBHOOK_SECRET);
    await t.app.idle();
    await t.app.operations.setVariable(label, "UPSTREAM_TOKEN", "t0ken", false, "test");
    const second = t.github.commit(repo, files(), "main");
    await deliver(t.app.appUrl, "push", pushEvent(repo, t.github.installationId, "main", first, second), WEBHOOK_SECRET);
    await t.app.idle();
    const { key } = await t.app.operations.createKey(label, "alice", "test");
    expect((await t.call(label, "/api/v1/orders", { authorization: `Bearer ${key}` })).status).toBe(200);

    // The value the release needs is gone: rebuilding it now fails.
    await t.app.store.db.execute(sql`DELETE FROM environment_variables WHERE name = 'UPSTREAM_TOKEN'`);
    const revoked = await admin("DELETE", `/api/environments/${label}/keys/alice`);

    expect(revoked.status).toBe(200);
    expect(revoked.json).toMatchObject({ revoked: 1, rebuild: { ok: false, failed: [{ environment: label }] } });
    expect((await t.call(label, "/api/v1/orders", { authorization: `Bearer ${key}` })).status).toBe(401);
  }, 60_000);
});
