import { sql } from "drizzle-orm";
import { afterEach, expect, it } from "vitest";
import { addConsumer, migrateStore, pruneOlderThan, pruneRevokedKeysOfRetiredEnvironments, removeConsumer, revokedKeyHashes, rowsOf, upsertEnvironment, upsertRepository, type Store } from "../../src/store/index.js";
import { describeEachDriver } from "./drivers.js";

const open: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (open.length) await open.pop()!();
});

const ids = async (store: Store, query: ReturnType<typeof sql>) => rowsOf<{ id: string | number }>(await store.db.execute(query)).map((r) => String(r.id));

describeEachDriver("retention", (driver) => {
  async function store(): Promise<Store> {
    const s = await driver.open();
    open.push(() => s.close());
    await migrateStore(s);
    return s;
  }

  it("deletes finished jobs, webhook deliveries and check results older than the retention, and keeps the rest and the audit log", async () => {
    const s = await store();
    const old = sql`now() - interval '31 days'`;
    await s.db.execute(sql`INSERT INTO jobs (kind, environment_key, payload, status, updated_at) VALUES
      ('a', 'old-done', '{}', 'done', ${old}), ('a', 'old-failed', '{}', 'failed', ${old}), ('a', 'old-superseded', '{}', 'superseded', ${old}),
      ('a', 'old-queued', '{}', 'queued', ${old}), ('a', 'new-done', '{}', 'done', now())`);
    await s.db.execute(sql`INSERT INTO webhook_deliveries (delivery_id, event, received_at) VALUES ('old', 'push', ${old}), ('new', 'push', now())`);
    const [repo] = rowsOf<{ id: number }>(await s.db.execute(sql`INSERT INTO repositories (owner, name) VALUES ('acme', 'shop') RETURNING id`));
    await s.db.execute(sql`INSERT INTO check_results (repository_id, commit_sha, name, conclusion, title, summary, created_at) VALUES
      (${repo!.id}, 'a1', 'validate', 'success', 'older', '', ${old}), (${repo!.id}, 'a2', 'validate', 'success', 'newest but old', '', ${old}),
      (${repo!.id}, 'a3', 'preview', 'success', 'old preview', '', ${old}), (${repo!.id}, 'a3', 'preview', 'success', 'recent', '', now())`);
    await s.db.execute(sql`INSERT INTO audit_log (actor, action, at) VALUES ('alice', 'deploy', ${old})`);

    expect(await pruneOlderThan(s.db, 30)).toEqual({ jobs: 3, deliveries: 1, checkResults: 2 });

    expect(await ids(s, sql`SELECT environment_key AS id FROM jobs ORDER BY 1`)).toEqual(["new-done", "old-queued"]);
    expect(await ids(s, sql`SELECT delivery_id AS id FROM webhook_deliveries`)).toEqual(["new"]);
    // The newest result of each check stays, however old: the dashboard still has something to show.
    expect(await ids(s, sql`SELECT title AS id FROM check_results ORDER BY 1`)).toEqual(["newest but old", "recent"]);
    expect(await ids(s, sql`SELECT actor AS id FROM audit_log`)).toEqual(["alice"]);
    expect(await pruneOlderThan(s.db, 30)).toEqual({ jobs: 0, deliveries: 0, checkResults: 0 });
  });

  it("forgets the revoked keys of a torn-down environment and keeps those of environments still served", async () => {
    const s = await store();
    const repositoryId = await upsertRepository(s.db, { owner: "acme", name: "shop" });
    const preview = await upsertEnvironment(s.db, { repositoryId, name: "pr-7", kind: "preview", hostName: "acme-shop-pr-7", pullRequest: 7 });
    const production = await upsertEnvironment(s.db, { repositoryId, name: "production", kind: "production", hostName: "acme-shop-production" });
    await addConsumer(s.db, preview, "gitway-smoke", ["smoke-hash-1"]);
    await addConsumer(s.db, production, "alice", ["alice-hash"]);
    await removeConsumer(s.db, preview, "gitway-smoke");
    await removeConsumer(s.db, production, "alice");

    // While the preview is served, its smoke key's hash must still be refused by a process that missed the revocation.
    expect(await pruneRevokedKeysOfRetiredEnvironments(s.db)).toBe(0);
    expect((await revokedKeyHashes(s.db)).sort()).toEqual(["alice-hash", "smoke-hash-1"]);

    await s.db.execute(sql`UPDATE environments SET status = 'torn-down' WHERE id = ${preview}`);
    expect(await pruneRevokedKeysOfRetiredEnvironments(s.db)).toBe(1);
    expect(await revokedKeyHashes(s.db)).toEqual(["alice-hash"]);
  });
});
