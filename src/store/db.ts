import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
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

/** Why a store cannot be opened. Callers match on `code`. */
export class StoreError extends Error {
  constructor(
    readonly code: "STORE_LOCKED",
    message: string,
  ) {
    super(message);
    this.name = "StoreError";
  }
}

export const LOCK_FILE = "gitway.lock";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * PGlite is one Postgres without a postmaster: two processes (or two opens in one process) on the
 * same folder would each write its files and corrupt them. A lock file naming the owner's pid keeps
 * the second one out with a clear error; a lock left by a process that has died is taken over.
 * Returns the release.
 */
function lockDataDir(dir: string): () => void {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: "wx" });
      return () => {
        try {
          if (readFileSync(path, "utf8").trim() === String(process.pid)) unlinkSync(path);
        } catch {
          // already gone
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    let owner = NaN;
    try {
      owner = Number(readFileSync(path, "utf8").trim());
    } catch {
      continue; // released between our write and read: try again
    }
    if (Number.isSafeInteger(owner) && owner > 0 && alive(owner)) {
      throw new StoreError("STORE_LOCKED", `The data folder ${dir} is in use by process ${owner}${owner === process.pid ? " (this one)" : ""} (${path}). PGlite serves one process: stop it, use another GITWAY_DATA_DIR, or set DATABASE_URL to share a PostgreSQL`);
    }
    try {
      unlinkSync(path); // its owner died without cleaning up
    } catch {
      // another process took it over first; the next attempt sees its lock
    }
  }
  throw new StoreError("STORE_LOCKED", `The data folder ${dir} is being locked by another process (${path}); try again`);
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
  let unlock = () => {};
  if (!dataDir.startsWith("memory://")) {
    mkdirSync(dataDir, { recursive: true });
    unlock = lockDataDir(dataDir);
  }
  const client = new PGlite(dataDir);
  try {
    await client.waitReady;
  } catch (e) {
    unlock();
    throw e;
  }
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
    close: async () => {
      try {
        await client.close();
      } finally {
        unlock();
      }
    },
  };
}

/** Rows of a raw query, whichever driver ran it. */
export function rowsOf<T>(result: unknown): T[] {
  return ((result as { rows?: T[] }).rows ?? (result as T[])) as T[];
}
