import { createSign } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Store } from "../store/index.js";

export interface Readiness {
  ok: boolean;
  store: "ok" | string;
  /** Absent when the process does not run as a GitHub App. */
  github?: "ok" | string;
}

const STORE_TIMEOUT_MS = 2000;

/** Whether the key can sign GitHub's app tokens (checked once per key: it does not change). */
const signs = new Map<string, boolean>();
function keySigns(privateKey: string): boolean {
  let ok = signs.get(privateKey);
  if (ok === undefined) {
    try {
      createSign("RSA-SHA256").update("gitway readiness").sign(privateKey);
      ok = true;
    } catch {
      ok = false;
    }
    signs.clear();
    signs.set(privateKey, ok);
  }
  return ok;
}

/**
 * /readyz: ready to take traffic when the store answers within 2 s and, in GitHub App mode, the
 * app's credentials are loaded and its key signs. GitHub itself is not called: an outage there
 * must not take every replica out of service.
 */
export async function readiness(store: Store, githubPrivateKey: string | undefined | null): Promise<Readiness> {
  let storeState: string;
  try {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${STORE_TIMEOUT_MS} ms`)), STORE_TIMEOUT_MS)));
    await Promise.race([store.db.execute(sql`SELECT 1`), late]).finally(() => clearTimeout(timer));
    storeState = "ok";
  } catch (e) {
    storeState = `unavailable: ${(e as Error).message.split("\n")[0]!.slice(0, 200)}`;
  }
  const result: Readiness = { ok: storeState === "ok", store: storeState };
  if (githubPrivateKey !== undefined) {
    result.github = githubPrivateKey && keySigns(githubPrivateKey) ? "ok" : "credentials not loaded";
    if (result.github !== "ok") result.ok = false;
  }
  return result;
}
