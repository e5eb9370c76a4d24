import { request } from "node:http";
import type { AddressInfo } from "node:net";
import { eq } from "drizzle-orm";
import { afterEach, beforeEach, expect, it } from "vitest";
import { Operations } from "../../src/admin/index.js";
import { pipelineDeployer } from "../../src/app/start.js";
import { environmentLabel, GatewayDeployer, GatewayServer, MemoryRateLimitStore, Upstreams } from "../../src/gateway/index.js";
import { promoteCommit, type ConfigSource } from "../../src/pipeline/index.js";
import { migrateStore, StorePublisher, StoreRecords, tables, type Store } from "../../src/store/index.js";
import { describeEachDriver } from "../store/drivers.js";
import { startUpstream } from "../gateway/harness.js";
import { shopFiles } from "../github/shop-repo.js";
import { snapshot } from "../helpers.js";

const ROUNDS = 8;
const LABEL = environmentLabel("acme", "shop", "production");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sha = (n: number) => n.toString(16).padStart(40, "0");

/**
 * The parts a process wires (store, records, gateway, deployer, operations), a repository whose
 * commits differ by the upstream path they forward to, and production's promotion as a job runs it.
 */
async function parts(store: Store) {
  await migrateStore(store);
  const upstream = await startUpstream();
  const log = () => {};
  const gateway = new GatewayServer({ baseDomain: "gitway.test", log });
  const services = { upstreams: new Upstreams(), rateLimitStore: new MemoryRateLimitStore(), log, maxBodyBytes: 1024 * 1024, bodyTimeoutMs: 2_000, revokedKeys: new Set<string>() };
  const deployer = pipelineDeployer(new GatewayDeployer(gateway, services), log);
  const records = new StoreRecords(store.db, { label: environmentLabel, url: (l) => `http://${l}.gitway.test/` }, undefined, store.driver === "pg" ? (key, fn) => store.withLock(key, () => fn()) : undefined);
  /**
   * While `job` is set, the job's second read of the commit production runs (its change report's
   * base, after the pin check) waits; while `operator` is set, an operator's swap waits before it
   * asks for the environment's turn. So each round forces the interleaving it is about.
   */
  const hold: { job?: Promise<void>; operator?: Promise<void> } = {};
  const operatorRecords = Object.create(records, { exclusive: { value: async <T>(id: number, fn: () => Promise<T>) => (await hold.operator, records.exclusive(id, fn)) } }) as StoreRecords;
  const adminDeps = { db: store.db, records: operatorRecords, deployer, running: (label: string) => gateway.releaseOf(label)?.hash, secretKey: undefined, revokeKeys: async (hashes: string[]) => void hashes.forEach((h) => services.revokedKeys.add(h)) };
  const operations = new Operations(adminDeps);
  /** Waits for the environment's turn 0.2 s only. */
  const impatient = new Operations({ ...adminDeps, turnWaitMs: 200 });
  const commits = new Map<string, Record<string, string>>();
  const reads: string[] = [];
  const source: ConfigSource = {
    snapshot: async (at) => {
      reads.push(at);
      if (hold.job && reads.filter((r) => r === at).length === 2) await hold.job;
      return snapshot(commits.get(at) ?? {});
    },
  };
  const repositoryId = await records.repository("acme", "shop");
  const commit = (n: number) => {
    commits.set(sha(n), shopFiles({ upstream: `${upstream.url}/v${n}` }));
    return sha(n);
  };
  /** Production's promotion of a commit, given at `order`, as its job runs it. */
  const promote = (at: string, order: number) =>
    promoteCommit({ source, publisher: new StorePublisher(store.db, repositoryId), deployer, records, fence: async () => true, order }, { owner: "acme", repo: "shop", sha: at, actor: "dev-alice", trigger: "push", environments: [{ name: "production", kind: "production" }] });
  /** What the store says production runs, and what the gateway serves. */
  const state = async () => {
    const [row] = await store.db
      .select({ hash: tables.releases.contentHash, commit: tables.environments.deployedCommitSha, pinned: tables.environments.pinnedReleaseId })
      .from(tables.environments)
      .innerJoin(tables.releases, eq(tables.releases.id, tables.environments.deployedReleaseId))
      .where(eq(tables.environments.hostName, LABEL));
    return { recorded: row?.hash, commit: row?.commit, pinned: row?.pinned !== null, serving: gateway.releaseOf(LABEL)?.hash };
  };
  await new Promise<void>((r) => gateway.server.listen(0, "127.0.0.1", r));
  const port = (gateway.server.address() as AddressInfo).port;
  const call = (path: string, key: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, path, headers: { host: `${LABEL}.gitway.test`, authorization: `Bearer ${key}` }, timeout: 5_000 }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      });
      req.on("timeout", () => req.destroy(new Error("no answer")));
      req.on("error", reject);
      req.end();
    });
  return { operations, impatient, records, repositoryId, commit, promote, state, call, hold, reads, close: async () => (await gateway.close(), await services.upstreams.close(), await upstream.close()) };
}

describeEachDriver("one way to change what runs", (driver) => {
  let store: Store;
  let world: Awaited<ReturnType<typeof parts>>;
  beforeEach(async () => {
    store = await driver.open();
    world = await parts(store);
  });
  afterEach(async () => {
    await world.close();
    await store.close();
  });

  it("a rollback racing a job never leaves an older release serving than the one both were given, and the gateway serves what the store records", async () => {
    const first = world.commit(1);
    expect(await world.promote(first, 1)).toMatchObject({ deployed: ["production"] });
    const rolledBackTo = (await world.state()).recorded!;
    for (let round = 0; round < ROUNDS; round++) {
      if ((await world.state()).pinned) await world.operations.unpin("production", "ops");
      const next = world.commit(100 + round);
      world.reads.length = 0;
      await sleep(10);
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const given = Date.now();
      if (round % 2 === 0) {
        // The job was given first; it passed the pin check, then the operator's rollback swaps before it does.
        world.hold.job = gate;
        const job = world.promote(next, given - 5);
        const rollback = await world.operations.rollback("production", first, "ops");
        release();
        const result = await job;
        expect(rollback.release).toBe(rolledBackTo);
        expect(result !== "no-config" && result.deployed).toEqual([]);
        expect(await world.state()).toMatchObject({ recorded: rolledBackTo, serving: rolledBackTo, commit: first, pinned: true });
      } else {
        // The rollback was asked for first; a job given after it swaps before the rollback does.
        world.hold.operator = gate;
        const rollback = world.operations.rollback("production", first, "ops");
        rollback.catch(() => {});
        expect(await world.promote(next, given + 5)).toMatchObject({ deployed: ["production"] });
        release();
        await expect(rollback).rejects.toThrow(/given after this request/);
        const after = await world.state();
        expect(after).toMatchObject({ commit: next, pinned: false, serving: after.recorded });
      }
      world.hold.job = world.hold.operator = undefined;
    }
  }, 120_000);

  it("a key created while a job deploys a newer commit works on the release that ends up serving, and the rebuild never writes the older one back", async () => {
    expect(await world.promote(world.commit(1), Date.now())).toMatchObject({ deployed: ["production"] });
    for (let round = 0; round < ROUNDS; round++) {
      const next = world.commit(200 + round);
      await sleep(5);
      const [job, created] = await Promise.all([world.promote(next, Date.now()), world.operations.createKey("production", `consumer-${round}`, "ops")]);
      expect(job).toMatchObject({ deployed: ["production"] });
      const after = await world.state();
      expect(after).toMatchObject({ commit: next, serving: after.recorded });
      expect(await world.call(`/api/v1/orders`, created.key)).toBe(200);
    }
  }, 120_000);

  it("a key revoked while a job deploys is refused by the release that ends up serving", async () => {
    expect(await world.promote(world.commit(1), Date.now())).toMatchObject({ deployed: ["production"] });
    for (let round = 0; round < ROUNDS; round++) {
      const { key } = await world.operations.createKey("production", `consumer-${round}`, "ops");
      expect(await world.call(`/api/v1/orders`, key)).toBe(200);
      const next = world.commit(300 + round);
      const [, revoked] = await Promise.all([world.promote(next, Date.now()), world.operations.revokeKey("production", `consumer-${round}`, "ops")]);
      expect(revoked).toMatchObject({ revoked: 1, rebuild: { ok: true } });
      const after = await world.state();
      expect(after).toMatchObject({ commit: next, serving: after.recorded });
      expect(await world.call(`/api/v1/orders`, key)).toBe(401);
    }
  }, 120_000);

  it("an operator's deploy that does not get the environment's turn in time gives up, says why, and changes nothing", async () => {
    const first = world.commit(1);
    expect(await world.promote(first, Date.now())).toMatchObject({ deployed: ["production"] });
    const before = await world.state();
    const production = (await world.records.findEnvironment(world.repositoryId, "production"))!;
    let release!: () => void;
    const stuck = world.records.exclusive(production.id, () => new Promise<void>((r) => (release = r)));
    await expect(world.impatient.deployFiles("production", shopFiles({ upstream: "http://127.0.0.1:9", products: true }), "ops")).rejects.toThrow(/did not end within 0.2 s; nothing was deployed/);
    release();
    await stuck;
    expect(await world.state()).toEqual(before);
  }, 60_000);
});
