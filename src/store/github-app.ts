import { createHash, randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import { rowsOf, type Db } from "./db.js";
import { appendAudit } from "./queries.js";
import { decryptSecret, encryptSecret } from "./secrets.js";

/** A GitHub App as GitHub's manifest conversion describes it, with its three secrets in clear. */
export interface StoredGitHubApp {
  appId: number;
  slug: string;
  name: string;
  htmlUrl: string;
  /** The API root the app lives on: https://api.github.com or https://<host>/api/v3. */
  apiUrl: string;
  clientId: string;
  clientSecret: string;
  webhookSecret: string;
  privateKey: string;
  connectedBy: string;
  connectedAt: Date;
}

/** How long a started manifest flow may take before its state is no longer accepted. */
export const MANIFEST_STATE_TTL_MINUTES = 60;

// Each secret is bound to its column, so a ciphertext moved to another column does not decrypt.
const context = (column: string) => `github_app:${column}`;
const hashOf = (state: string) => createHash("sha256").update(state).digest("hex");

export async function saveGitHubApp(db: Db, key: Buffer, app: Omit<StoredGitHubApp, "connectedAt">): Promise<void> {
  const enc = (column: string, value: string) => encryptSecret(key, value, context(column));
  await db.execute(sql`
    INSERT INTO github_app (id, app_id, slug, name, html_url, api_url, client_id, client_secret, webhook_secret, private_key, connected_by)
    VALUES (1, ${app.appId}, ${app.slug}, ${app.name}, ${app.htmlUrl}, ${app.apiUrl}, ${app.clientId}, ${enc("client_secret", app.clientSecret)}, ${enc("webhook_secret", app.webhookSecret)}, ${enc("private_key", app.privateKey)}, ${app.connectedBy})
    ON CONFLICT (id) DO UPDATE SET app_id = excluded.app_id, slug = excluded.slug, name = excluded.name, html_url = excluded.html_url, api_url = excluded.api_url,
      client_id = excluded.client_id, client_secret = excluded.client_secret, webhook_secret = excluded.webhook_secret, private_key = excluded.private_key,
      connected_by = excluded.connected_by, connected_at = now()`);
  await appendAudit(db, { actor: app.connectedBy, action: "github.connected", details: { appId: app.appId, slug: app.slug, apiUrl: app.apiUrl } });
}

interface Row {
  app_id: string | number;
  slug: string;
  name: string;
  html_url: string;
  api_url: string;
  client_id: string;
  client_secret: string;
  webhook_secret: string;
  private_key: string;
  connected_by: string;
  connected_at: string | Date;
}

/** The connected app with its secrets decrypted, or undefined when none is connected. */
export async function loadGitHubApp(db: Db, key: Buffer): Promise<StoredGitHubApp | undefined> {
  const [row] = rowsOf<Row>(await db.execute(sql`SELECT * FROM github_app WHERE id = 1`));
  if (!row) return undefined;
  const dec = (column: string, value: string) => decryptSecret(key, value, context(column));
  return {
    appId: Number(row.app_id),
    slug: row.slug,
    name: row.name,
    htmlUrl: row.html_url,
    apiUrl: row.api_url,
    clientId: row.client_id,
    clientSecret: dec("client_secret", row.client_secret),
    webhookSecret: dec("webhook_secret", row.webhook_secret),
    privateKey: dec("private_key", row.private_key),
    connectedBy: row.connected_by,
    connectedAt: new Date(row.connected_at),
  };
}

/** Forgets the connected app (the app itself stays registered on GitHub until its owner deletes it). */
export async function forgetGitHubApp(db: Db, actor: string): Promise<boolean> {
  const gone = rowsOf<{ app_id: string }>(await db.execute(sql`DELETE FROM github_app WHERE id = 1 RETURNING app_id`));
  if (gone.length > 0) await appendAudit(db, { actor, action: "github.disconnected", details: { appId: Number(gone[0]!.app_id) } });
  return gone.length > 0;
}

/** Starts a manifest flow: a fresh unguessable state, kept (as a hash) with the GitHub it is for. */
export async function createManifestState(db: Db, apiUrl: string): Promise<string> {
  const state = randomBytes(24).toString("base64url");
  await db.execute(sql`DELETE FROM github_manifest_states WHERE created_at < now() - make_interval(mins => ${MANIFEST_STATE_TTL_MINUTES})`);
  await db.execute(sql`INSERT INTO github_manifest_states (state_hash, api_url) VALUES (${hashOf(state)}, ${apiUrl})`);
  return state;
}

/** Takes a state back once: the GitHub it was started for, or undefined when unknown, used or expired. */
export async function takeManifestState(db: Db, state: string): Promise<string | undefined> {
  const [row] = rowsOf<{ api_url: string; fresh: boolean }>(
    await db.execute(sql`DELETE FROM github_manifest_states WHERE state_hash = ${hashOf(state)} RETURNING api_url, created_at >= now() - make_interval(mins => ${MANIFEST_STATE_TTL_MINUTES}) AS fresh`),
  );
  return row?.fresh ? row.api_url : undefined;
}
