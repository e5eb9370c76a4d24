import { sql } from "drizzle-orm";
import { afterEach, expect, it } from "vitest";
import { Operations } from "../../src/admin/index.js";
import { migrateStore, reportEngine, StoreRecords, type Store } from "../../src/store/index.js";
import { shopFiles } from "../github/shop-repo.js";
import { describeEachDriver, pglite } from "../store/drivers.js";

const open: Store[] = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

describeEachDriver(
  "sync status of an environment nginx serves",
  (driver) => {
    async function setup() {
      const store = await driver.open();
      open.push(store);
      await migrateStore(store);
      const records = new StoreRecords(store.db, { label: (o, r, e) => `${o}-${r}-${e}`, url: (l) => `http://${l}.gitway.test/` }, undefined);
      const env = await records.environment(await records.repository("acme", "shop"), { name: "production", kind: "production" });
      await records.recordDeployment({ environmentId: env.id, commitSha: "a".repeat(40), releaseHash: "b".repeat(64), files: shopFiles({ upstream: "http://127.0.0.1:9" }), trigger: "push", actor: "test", outcome: "succeeded" });
      const operations = new Operations({
        db: store.db,
        records,
        deployer: { build: () => Promise.reject(new Error("not in this test")), remove: async () => {} },
        running: () => "b".repeat(64),
        engineOf: (kind) => (kind === "preview" ? "node" : "nginx"),
        secretKey: undefined,
      });
      /** The deployment happened `seconds` ago. */
      const deployedAgo = (seconds: number) => store.db.execute(sql`UPDATE environments SET updated_at = now() - make_interval(secs => ${seconds})`);
      return { store, records, env, operations, deployedAgo };
    }

    it("is synced when every instance serves the deployed release", async () => {
      const { store, operations } = await setup();
      await reportEngine(store.db, "edge-1", "nginx", new Map([["acme-shop-production", { releaseHash: "b".repeat(64), lastError: null }]]));
      await reportEngine(store.db, "edge-2", "nginx", new Map([["acme-shop-production", { releaseHash: "b".repeat(64), lastError: null }]]));
      const view = await operations.environment("production");
      expect(view).toMatchObject({ engine: "nginx", status: "synced", reason: null });
      expect(view.engines.map((e) => e.instance)).toEqual(["edge-1", "edge-2"]);
    });

    it("is progressing while an instance loads the release, and out of sync naming it once it lags longer", async () => {
      const { store, operations, deployedAgo } = await setup();
      await reportEngine(store.db, "edge-1", "nginx", new Map([["acme-shop-production", { releaseHash: "b".repeat(64), lastError: null }]]));
      await reportEngine(store.db, "edge-2", "nginx", new Map([["acme-shop-production", { releaseHash: "c".repeat(64), lastError: null }]]));
      expect(await operations.environment("production")).toMatchObject({ status: "progressing", reason: expect.stringContaining("edge-2 serves cccccccccccccccc") });
      await deployedAgo(60);
      expect(await operations.environment("production")).toMatchObject({ status: "out-of-sync", reason: expect.stringContaining("edge-2 serves cccccccccccccccc, deployed is bbbbbbbbbbbbbbbb") });
    });

    it("is failed with nginx's message when an instance refused the release, the last good one serving there", async () => {
      const { store, operations } = await setup();
      await reportEngine(store.db, "edge-1", "nginx", new Map([["acme-shop-production", { releaseHash: "c".repeat(64), lastError: 'nginx refused release bbbbbbbbbbbb: [emerg] host not found in upstream "x.invalid:80"' }]]));
      expect(await operations.environment("production")).toMatchObject({ status: "failed", reason: expect.stringMatching(/^nginx instance edge-1: nginx refused release bbbbbbbbbbbb: \[emerg\] host not found .*; the last good release \(cccccccccccccccc\) keeps serving$/) });
    });

    it("keeps the routes nginx hands to the Node gateway on each deployment, apart from its change report, and the running commit's risk through a rebuild", async () => {
      const { records, env, operations } = await setup();
      const change = { fingerprint: "f1", rule: "api-key-removed", level: "breaking", category: "security", operation: "GET /api/v1/orders", message: "the API key was removed" };
      const hybridRoutes = [{ route: "POST /api/v1/orders", reason: "request validation" }];
      const deploy = (release: string, more: { report?: unknown; hybridRoutes?: typeof hybridRoutes }) =>
        records.recordDeployment({ environmentId: env.id, commitSha: "c".repeat(40), releaseHash: release.repeat(64), files: {}, trigger: "push", actor: "test", outcome: "succeeded", ...more });
      await deploy("d", { report: { summary: { breaking: 1, warning: 0, info: 0, accepted: 0 }, changes: [change] }, hybridRoutes });
      // A rebuild of the same commit (a key revoked) has no change report of its own.
      await deploy("e", { hybridRoutes });
      const [rebuild, first, initial] = await operations.deployments("production", { limit: 3, offset: 0 });
      expect(rebuild).toMatchObject({ report: null, hybridRoutes });
      expect(first).toMatchObject({ report: { summary: { breaking: 1 }, changes: [change] }, hybridRoutes });
      expect(first!.report).not.toHaveProperty("hybridRoutes");
      expect(initial).toMatchObject({ report: null, hybridRoutes: [] });
      expect((await operations.environment("production")).risk).toEqual({ breaking: 1, security: 1 });
    });

    it("is out of sync when no instance reports it a while after its deployment (no agent runs)", async () => {
      const { operations, deployedAgo } = await setup();
      await deployedAgo(60);
      expect(await operations.environment("production")).toMatchObject({ status: "out-of-sync", reason: expect.stringContaining("no nginx instance reports serving it") });
    });
  },
  [pglite],
);
