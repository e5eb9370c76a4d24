import { randomUUID } from "node:crypto";
import pg from "pg";

/** A new, empty database on the machine's PostgreSQL for one benchmark round, and how to drop it. */
export async function freshDatabase(adminUrl = process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test"): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `gitway_bench_${randomUUID().replace(/-/g, "").slice(0, 12)}`;
  const run = async (statement: string) => {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      await admin.query(statement);
    } finally {
      await admin.end();
    }
  };
  await run(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
