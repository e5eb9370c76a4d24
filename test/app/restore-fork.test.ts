import { randomBytes } from "node:crypto";
import { afterEach, expect, it } from "vitest";
import { restoreReleases } from "../../src/app/restore.js";
import type { Deployer, EnvironmentValues } from "../../src/pipeline/index.js";
import { migrateStore, secretKeyFrom, setVariable, StoreRecords, type Store } from "../../src/store/index.js";
import { shopFiles } from "../github/shop-repo.js";
import { describeEachDriver } from "../store/drivers.js";

const open: Store[] = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

describeEachDriver("restoring releases at start-up", (driver) => {
  it("gives a fork's preview no secret, as when it was deployed, while a preview of the repository's own branch gets its secret back", async () => {
    const store = await driver.open();
    open.push(store);
    await migrateStore(store);
    const key = randomBytes(32).toString("base64");
    const records = new StoreRecords(store.db, { label: (o, r, e) => `${o}-${r}-${e}`, url: (l) => `http://${l}.gitway.test/` }, secretKeyFrom(key));
    const repositoryId = await records.repository("acme", "shop");
    const files = shopFiles({ upstream: "http://upstream.test" });
    for (const [number, fork] of [[5, true], [6, false]] as const) {
      const env = await records.environment(repositoryId, { name: `pr-${number}`, kind: "preview", pullRequest: number, ...(fork ? { fork } : {}) });
      // A later job that does not say it is a fork does not make it one of the repository's own.
      await records.environment(repositoryId, { name: `pr-${number}`, kind: "preview", pullRequest: number });
      await setVariable(store.db, secretKeyFrom(key), { environmentId: env.id, name: "UPSTREAM_TOKEN", value: "s3cret-token-value", secret: true });
      await setVariable(store.db, secretKeyFrom(key), { environmentId: env.id, name: "REGION", value: "eu", secret: false });
      await records.recordDeployment({ environmentId: env.id, commitSha: "a".repeat(40), releaseHash: `release-${number}`, files, trigger: "pull_request", actor: "dev-alice", outcome: "succeeded" });
    }

    const given = new Map<string, EnvironmentValues>();
    const deployer: Deployer = {
      build: async (label, _config, values) => ({ releaseHash: "restored", install: () => given.set(label, values) }),
      remove: async () => {},
    };
    const { restored, failed } = await restoreReleases(records, deployer);
    expect(failed).toEqual([]);
    expect(restored.sort()).toEqual(["acme-shop-pr-5", "acme-shop-pr-6"]);
    expect(given.get("acme-shop-pr-5")).toMatchObject({ vars: { REGION: "eu" }, secretNames: [] });
    expect(given.get("acme-shop-pr-5")!.vars).not.toHaveProperty("UPSTREAM_TOKEN");
    expect(given.get("acme-shop-pr-6")).toMatchObject({ vars: { REGION: "eu", UPSTREAM_TOKEN: "s3cret-token-value" }, secretNames: ["UPSTREAM_TOKEN"] });
  });

  it("lets a preview inherit only the environment production's settings name, never the one its own settings name", async () => {
    const store = await driver.open();
    open.push(store);
    await migrateStore(store);
    const key = secretKeyFrom(randomBytes(32).toString("base64"));
    const records = new StoreRecords(store.db, { label: (o, r, e) => `${o}-${r}-${e}`, url: (l) => `http://${l}.gitway.test/` }, key);
    const repositoryId = await records.repository("acme", "shop");
    const staging = await records.environment(repositoryId, { name: "staging", kind: "stage" });
    await setVariable(store.db, key, { environmentId: staging.id, name: "STAGING_TOKEN", value: "staging-only-value", secret: true });
    const preview = await records.environment(repositoryId, { name: "pr-7", kind: "preview", pullRequest: 7 });
    await records.recordDeployment({ environmentId: preview.id, commitSha: "b".repeat(40), releaseHash: "release-7", files: shopFiles({ upstream: "http://upstream.test", settings: "previews:\n  inherit: staging\n" }), trigger: "pull_request", actor: "dev-alice", outcome: "succeeded" });

    const restoredValues = async () => {
      const given = new Map<string, EnvironmentValues>();
      await restoreReleases(records, { build: async (label, _config, values) => ({ releaseHash: "restored", install: () => given.set(label, values) }), remove: async () => {} });
      return given.get("acme-shop-pr-7")!;
    };
    expect((await restoredValues()).vars).not.toHaveProperty("STAGING_TOKEN");

    const production = await records.environment(repositoryId, { name: "production", kind: "production" });
    await records.recordDeployment({ environmentId: production.id, commitSha: "c".repeat(40), releaseHash: "release-prod", files: shopFiles({ upstream: "http://upstream.test", settings: "previews:\n  inherit: staging\n" }), trigger: "push", actor: "dev-alice", outcome: "succeeded" });
    expect((await restoredValues()).vars).toMatchObject({ STAGING_TOKEN: "staging-only-value" });
  });
});
