import { sql } from "drizzle-orm";
import { fileURLToPath } from "node:url";
import { rowsOf, type Db, type Store } from "./db.js";

export const MIGRATIONS_FOLDER = fileURLToPath(new URL("../../migrations", import.meta.url));

/** A fixed advisory lock key: two processes starting together migrate one after the other. */
const MIGRATION_LOCK = 0x67_69_74_77;

async function appliedCount(db: Db): Promise<number> {
  try {
    return Number(rowsOf<{ n: number }>(await db.execute(sql`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`))[0]?.n ?? 0);
  } catch {
    return 0;
  }
}

/** Applies the migrations in migrations/ that have not run yet; a second run applies none. */
export async function migrateStore(store: Store): Promise<{ applied: number; total: number }> {
  return store.withLock(MIGRATION_LOCK, async (db) => {
    const before = await appliedCount(db);
    if (store.driver === "pg") {
      const { migrate } = await import("drizzle-orm/node-postgres/migrator");
      await migrate(db as never, { migrationsFolder: MIGRATIONS_FOLDER });
    } else {
      const { migrate } = await import("drizzle-orm/pglite/migrator");
      await migrate(db as never, { migrationsFolder: MIGRATIONS_FOLDER });
    }
    const after = await appliedCount(db);
    return { applied: after - before, total: after };
  });
}
