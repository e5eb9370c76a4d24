import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { hashKey } from "../../src/gateway/index.js";
import {
  addConsumer,
  appendAudit,
  consumersOf,
  listVariables,
  markDeployed,
  migrateStore,
  openStore,
  resolveVariables,
  rowsOf,
  saveRelease,
  SecretKeyError,
  secretKeyFrom,
  setVariable,
  upsertEnvironment,
  upsertRepository,
  type Store,
} from "../../src/store/index.js";
import { describeEachDriver } from "./drivers.js";

const open: Store[] = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

// Every migration in the journal, so a new migration needs no edit here.
const migrationCount = (JSON.parse(readFileSync(new URL("../../migrations/meta/_journal.json", import.meta.url), "utf8")) as { entries: unknown[] }).entries.length;

describeEachDriver("the store", (driver) => {
  async function migrated(): Promise<Store> {
    const store = await driver.open();
    open.push(store);
    await migrateStore(store);
    return store;
  }

  async function environment(store: Store): Promise<number> {
    const repo = await upsertRepository(store.db, { owner: "acme", name: "shop" });
    return upsertEnvironment(store.db, { repositoryId: repo, name: "pr-12", kind: "preview", hostName: "acme-shop-pr-12", pullRequest: 12 });
  }

  it("migrates an empty database, and running the migrations again applies nothing", async () => {
    const store = await driver.open();
    open.push(store);
    expect(await migrateStore(store)).toEqual({ applied: migrationCount, total: migrationCount });
    expect(await migrateStore(store)).toEqual({ applied: 0, total: migrationCount });
    const tables = rowsOf<{ t: string }>(await store.db.execute(sql`SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)).map((r) => r.t);
    expect(tables).toEqual(["api_consumers", "api_keys", "approvals", "audit_log", "check_results", "deployments", "engine_instances", "environment_variables", "environments", "github_app", "github_manifest_states", "installations", "jobs", "releases", "repositories", "revoked_keys", "sweep_decisions", "usage", "webhook_deliveries"]);
  });

  it("migrates once when two starts race", async () => {
    const first = await driver.open();
    open.push(first);
    const second = "url" in first && first.url ? await openStore({ databaseUrl: first.url as string }) : first;
    if (second !== first) open.unshift(second);
    const results = await Promise.all([migrateStore(first), migrateStore(second)]);
    expect(results.map((r) => r.applied).sort()).toEqual([0, migrationCount]);
  });

  it("keeps the audit log append-only", async () => {
    const store = await migrated();
    await appendAudit(store.db, { actor: "alice", action: "promote", commitSha: "abc123" });
    await expect(store.db.execute(sql`UPDATE audit_log SET actor = 'mallory'`)).rejects.toThrow();
    await expect(store.db.execute(sql`DELETE FROM audit_log`)).rejects.toThrow();
    expect(rowsOf<{ actor: string }>(await store.db.execute(sql`SELECT actor FROM audit_log`))).toEqual([{ actor: "alice" }]);
  });

  it("stores a secret encrypted, reads it back with the key, and never lists it whole", async () => {
    const store = await migrated();
    const env = await environment(store);
    const key = randomBytes(32);
    await setVariable(store.db, key, { environmentId: env, name: "UPSTREAM_TOKEN", value: "tok_live_123456", secret: true });
    await setVariable(store.db, key, { environmentId: env, name: "ORDERS_URL", value: "https://orders.internal", secret: false });
    const raw = rowsOf<{ value: string }>(await store.db.execute(sql`SELECT value FROM environment_variables WHERE name = 'UPSTREAM_TOKEN'`))[0]!.value;
    expect(raw).toMatch(/^v1:/);
    expect(raw).not.toContain("tok_live");
    expect(await resolveVariables(store.db, key, env)).toEqual({ UPSTREAM_TOKEN: "tok_live_123456", ORDERS_URL: "https://orders.internal" });
    const listed = await listVariables(store.db, env);
    expect(JSON.stringify(listed)).not.toContain("tok_live");
    expect(listed.find((v) => v.name === "UPSTREAM_TOKEN")).toEqual({ name: "UPSTREAM_TOKEN", secret: true, value: "•••••• (15 characters)" });
  });

  it("fails loudly when the key is not the one the secrets were encrypted with", async () => {
    const store = await migrated();
    const env = await environment(store);
    await setVariable(store.db, randomBytes(32), { environmentId: env, name: "TOKEN", value: "s3cret", secret: true });
    const wrong = resolveVariables(store.db, randomBytes(32), env);
    await expect(wrong).rejects.toBeInstanceOf(SecretKeyError);
    await expect(wrong).rejects.toMatchObject({ code: "SECRET_DECRYPT_FAILED" });
  });

  it("refuses to replace a newer deployment with an older commit", async () => {
    const store = await migrated();
    const env = await environment(store);
    const repo = await upsertRepository(store.db, { owner: "acme", name: "shop" });
    const r1 = await saveRelease(store.db, { repositoryId: repo, contentHash: "h1", commitSha: "c1", bundle: {} });
    const r2 = await saveRelease(store.db, { repositoryId: repo, contentHash: "h2", commitSha: "c2", bundle: {} });
    expect(await saveRelease(store.db, { repositoryId: repo, contentHash: "h2", commitSha: "c2", bundle: {} })).toBe(r2);
    expect(await markDeployed(store.db, env, r2, 2)).toBe(true);
    expect(await markDeployed(store.db, env, r1, 1)).toBe(false);
  });

  it("keeps only hashes of API keys", async () => {
    const store = await migrated();
    const env = await environment(store);
    await addConsumer(store.db, env, "alice", [hashKey("alice-key")]);
    expect(await consumersOf(store.db, env)).toEqual([{ name: "alice", keyHashes: [hashKey("alice-key")] }]);
    expect(JSON.stringify(rowsOf(await store.db.execute(sql`SELECT * FROM api_keys`)))).not.toContain("alice-key");
  });
});

describe("GITWAY_SECRET_KEY", () => {
  it("must be 32 bytes, and says how to make one when missing", () => {
    expect(() => secretKeyFrom(undefined)).toThrow(/openssl rand -base64 32/);
    expect(() => secretKeyFrom("c2hvcnQ=")).toThrow(SecretKeyError);
    expect(secretKeyFrom(randomBytes(32).toString("base64")).length).toBe(32);
    expect(secretKeyFrom("ab".repeat(32)).length).toBe(32);
  });
});
