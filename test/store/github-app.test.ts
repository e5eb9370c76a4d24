import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterEach, expect, it } from "vitest";
import { createManifestState, forgetGitHubApp, loadGitHubApp, migrateStore, rowsOf, saveGitHubApp, SecretKeyError, takeManifestState, type Store } from "../../src/store/index.js";
import { describeEachDriver } from "./drivers.js";

const open: Store[] = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

const app = { appId: 7, slug: "gitway-acme", name: "Gitway acme", htmlUrl: "https://github.com/apps/gitway-acme", apiUrl: "https://api.github.com", clientId: "Iv1.x", clientSecret: "client-secret-1", webhookSecret: "hook-secret-1", privateKey: "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n", connectedBy: "admin" };

describeEachDriver("the connected GitHub App in the store", (driver) => {
  async function migrated(): Promise<Store> {
    const store = await driver.open();
    open.push(store);
    await migrateStore(store);
    return store;
  }

  it("keeps one app, its secrets encrypted, readable only with the key, and forgets it on disconnect (audited)", async () => {
    const store = await migrated();
    const key = randomBytes(32);
    expect(await loadGitHubApp(store.db, key)).toBeUndefined();
    await saveGitHubApp(store.db, key, app);
    await saveGitHubApp(store.db, key, { ...app, appId: 8 });
    expect(rowsOf(await store.db.execute(sql`SELECT app_id FROM github_app`))).toHaveLength(1);
    expect(await loadGitHubApp(store.db, key)).toMatchObject({ ...app, appId: 8 });
    const raw = JSON.stringify(rowsOf(await store.db.execute(sql`SELECT * FROM github_app`)));
    for (const secret of [app.clientSecret, app.webhookSecret, "BEGIN PRIVATE KEY"]) expect(raw).not.toContain(secret);
    await expect(loadGitHubApp(store.db, randomBytes(32))).rejects.toBeInstanceOf(SecretKeyError);
    expect(await forgetGitHubApp(store.db, "admin")).toBe(true);
    expect(await forgetGitHubApp(store.db, "admin")).toBe(false);
    expect(await loadGitHubApp(store.db, key)).toBeUndefined();
    const audit = rowsOf<{ action: string }>(await store.db.execute(sql`SELECT action FROM audit_log ORDER BY id`)).map((r) => r.action);
    expect(audit).toEqual(["github.connected", "github.connected", "github.disconnected"]);
  });

  it("gives back a manifest state once, only within the hour, and never one it did not issue", async () => {
    const store = await migrated();
    const state = await createManifestState(store.db, "https://ghe.example.com/api/v3");
    expect(await takeManifestState(store.db, "forged-" + state)).toBeUndefined();
    expect(await takeManifestState(store.db, state)).toBe("https://ghe.example.com/api/v3");
    expect(await takeManifestState(store.db, state)).toBeUndefined();
    const old = await createManifestState(store.db, "https://api.github.com");
    await store.db.execute(sql`UPDATE github_manifest_states SET created_at = now() - interval '61 minutes'`);
    expect(await takeManifestState(store.db, old)).toBeUndefined();
  });
});
