import { mkdirSync } from "node:fs";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import * as schema from "./schema.js";

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

/** One store, two drivers: PostgreSQL when DATABASE_URL is set, embedded PGlite in a folder otherwise. */
export interface Store {
  db: Db;
  driver: "pg" | "pglite";
  /** Runs fn holding a session-level advisory lock (PGlite is one connection, so the lock is implicit). */
  withLock<T>(key: number, fn: (db: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface StoreOptions {
  databaseUrl?: string;
  /** PGlite data folder; "memory://" keeps everything in memory (tests). */
  dataDir?: string;
  poolSize?: number;
}

export async function openStore(options: StoreOptions = {}): Promise<Store> {
  if (options.databaseUrl) {
    const { default: pg } = await import("pg");
    const { drizzle } = await import("drizzle-orm/node-postgres");
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? 10 });
    // An idle client's error (server restart) must not crash the process; the next query reconnects.
    pool.on("error", () => {});
    const db = drizzle(pool, { schema }) as unknown as Db;
    return {
      db,
      driver: "pg",
      async withLock(key, fn) {
        const client = await pool.connect();
        try {
          await client.query("SELECT pg_advisory_lock($1)", [key]);
          try {
            return await fn(drizzle(client, { schema }) as unknown as Db);
          } finally {
            await client.query("SELECT pg_advisory_unlock($1)", [key]);
          }
        } finally {
          client.release();
        }
      },
      close: () => pool.end(),
    };
  }
  const { PGlite } = await import("@electric-sql/pglite");
  const { drizzle } = await import("drizzle-orm/pglite");
  const dataDir = options.dataDir ?? "./data";
  if (!dataDir.startsWith("memory://")) mkdirSync(dataDir, { recursive: true });
  const client = new PGlite(dataDir);
  await client.waitReady;
  const db = drizzle(client, { schema }) as unknown as Db;
  let chain: Promise<unknown> = Promise.resolve();
  return {
    db,
    driver: "pglite",
    withLock(_key, fn) {
      const run = chain.then(() => fn(db));
      chain = run.catch(() => {});
      return run;
    },
    close: () => client.close(),
  };
}

/** Rows of a raw query, whichever driver ran it. */
export function rowsOf<T>(result: unknown): T[] {
  return ((result as { rows?: T[] }).rows ?? (result as T[])) as T[];
}
