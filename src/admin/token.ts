import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const TOKEN_FILE = "admin-token";

/**
 * GITWAY_ADMIN_TOKEN, or one generated at first start into the data folder (mode 0600) and shown
 * once; the CLI on the same machine reads it from there.
 */
export function adminToken(configured: string | undefined, dataDir: string | undefined): { token: string; generated: boolean; file?: string } {
  if (configured) return { token: configured, generated: false };
  if (!dataDir) return { token: randomBytes(24).toString("base64url"), generated: true };
  const file = join(dataDir, TOKEN_FILE);
  if (existsSync(file)) return { token: readFileSync(file, "utf8").trim(), generated: false, file };
  mkdirSync(dataDir, { recursive: true });
  const token = randomBytes(24).toString("base64url");
  writeFileSync(file, token + "\n", { mode: 0o600 });
  return { token, generated: true, file };
}
