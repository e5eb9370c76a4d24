import { randomUUID } from "node:crypto";
import pg from "pg";
import { describe } from "vitest";
import { openStore, type Store } from "../../src/store/index.js";

export interface Driver {
  name: string;
  /** A fresh, empty database; closing the store drops it. */
  open(): Promise<Store & { url?: string }>;
}

const DATABASE_URL = process.env.DATABASE_URL;

/** An empty database of its own on the machine's PostgreSQL; `drop` removes it. */
export async function freshPostgresDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `gitway_test_${randomUUID().replace(/-/g, "").slice(0, 16)}`;
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(DATABASE_URL!);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const a = new pg.Client({ connectionString: DATABASE_URL });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

/** A database of its own per test on the machine's PostgreSQL, so test files can run in parallel. */
async function freshPostgres(): Promise<Store & { url: string }> {
  const db = await freshPostgresDatabase();
  const store = await openStore({ databaseUrl: db.url });
  return {
    ...store,
    url: db.url,
    async close() {
      await store.close();
      await db.drop();
    },
  };
}

/** Without DATABASE_URL the PostgreSQL suites are listed as skipped, saying why, so a run without it does not read as all green. */
export const POSTGRES_SKIPPED = DATABASE_URL ? undefined : "DATABASE_URL is not set: PostgreSQL not tested";

/**
 * GITWAY_TEST_DRIVER=PostgreSQL runs the suites on PostgreSQL alone: the mutation run of the jobs
 * area sets it, as an in-memory PGlite takes seconds to start for every test of every mutant.
 */
const ONLY_DRIVER = process.env.GITWAY_TEST_DRIVER;

export const pglite: Driver = { name: "PGlite", open: () => openStore({ dataDir: "memory://" }) };
export const postgres: Driver = {
  name: "PostgreSQL",
  open: () => (DATABASE_URL ? freshPostgres() : Promise.reject(new Error(POSTGRES_SKIPPED))),
};

/**
 * Declares `suite` once per driver: PGlite always (it needs nothing installed), and PostgreSQL,
 * skipped with the reason in its title when DATABASE_URL is not set (CI sets it).
 */
export function describeEachDriver(title: string, suite: (driver: Driver) => void, drivers: Driver[] = [pglite, postgres]): void {
  for (const driver of drivers) {
    const skip = (driver === postgres ? POSTGRES_SKIPPED : undefined) ?? (ONLY_DRIVER && ONLY_DRIVER !== driver.name ? `GITWAY_TEST_DRIVER=${ONLY_DRIVER}` : undefined);
    describe.skipIf(skip !== undefined)(`${title} on ${driver.name}${skip ? ` (skipped: ${skip})` : ""}`, () => suite(driver));
  }
}
