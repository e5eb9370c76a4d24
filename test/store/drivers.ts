import { randomUUID } from "node:crypto";
import pg from "pg";
import { openStore, type Store } from "../../src/store/index.js";

export interface Driver {
  name: string;
  /** A fresh, empty database; closing the store drops it. */
  open(): Promise<Store & { url?: string }>;
}

const DATABASE_URL = process.env.DATABASE_URL;

/** A database of its own per test on the machine's PostgreSQL, so test files can run in parallel. */
async function freshPostgres(): Promise<Store & { url: string }> {
  const name = `gitway_test_${randomUUID().replace(/-/g, "").slice(0, 16)}`;
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(DATABASE_URL!);
  url.pathname = `/${name}`;
  const store = await openStore({ databaseUrl: url.toString() });
  return {
    ...store,
    url: url.toString(),
    async close() {
      await store.close();
      const a = new pg.Client({ connectionString: DATABASE_URL });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

/** PGlite always (it needs nothing installed); the real PostgreSQL too when DATABASE_URL is set, as in CI. */
export const drivers: Driver[] = [
  { name: "PGlite", open: () => openStore({ dataDir: "memory://" }) },
  ...(DATABASE_URL ? [{ name: "PostgreSQL", open: freshPostgres }] : []),
];

export const postgres: Driver | undefined = DATABASE_URL ? { name: "PostgreSQL", open: freshPostgres } : undefined;
