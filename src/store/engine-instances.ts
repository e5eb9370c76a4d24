import { and, eq, notInArray, sql } from "drizzle-orm";
import type { Db } from "./db.js";
import { engineInstances } from "./schema.js";

/** One engine instance's account of one environment: the release it serves, or why it refused the newest. */
export interface EngineReport {
  instanceId: string;
  engine: string;
  environment: string;
  releaseHash: string | null;
  lastError: string | null;
  updatedAt: Date;
}

/**
 * Records what an engine instance serves now: one row per environment label it serves (the release
 * hash, and the engine's message when it refused a newer one); labels it no longer serves are dropped.
 */
export async function reportEngine(db: Db, instanceId: string, engine: string, served: Map<string, { releaseHash: string | null; lastError: string | null }>): Promise<void> {
  await db.transaction(async (tx) => {
    const t = tx as unknown as Db;
    const labels = [...served.keys()];
    await t.delete(engineInstances).where(labels.length ? and(eq(engineInstances.instanceId, instanceId), notInArray(engineInstances.environment, labels)) : eq(engineInstances.instanceId, instanceId));
    if (labels.length === 0) return;
    const rows = [...served].map(([environment, s]) => ({ instanceId, engine, environment, releaseHash: s.releaseHash, lastError: s.lastError }));
    // Batches keep one statement's parameters well under PostgreSQL's limit for a fleet of many environments.
    for (let i = 0; i < rows.length; i += 1000) {
      await t
        .insert(engineInstances)
        .values(rows.slice(i, i + 1000))
        .onConflictDoUpdate({
          target: [engineInstances.instanceId, engineInstances.environment],
          set: { engine: sql`excluded.engine`, releaseHash: sql`excluded.release_hash`, lastError: sql`excluded.last_error`, updatedAt: sql`now()` },
        });
    }
  });
}

/** An instance that stops cleanly says so: its rows go, so status does not wait on it. */
export async function forgetEngine(db: Db, instanceId: string): Promise<void> {
  await db.delete(engineInstances).where(eq(engineInstances.instanceId, instanceId));
}

/** Every engine instance's report, by environment label. */
export async function engineReports(db: Db): Promise<Map<string, EngineReport[]>> {
  const rows = await db.select().from(engineInstances).orderBy(engineInstances.environment, engineInstances.instanceId);
  const out = new Map<string, EngineReport[]>();
  for (const r of rows) out.set(r.environment, [...(out.get(r.environment) ?? []), r]);
  return out;
}
