import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

export type SecretErrorCode = "SECRET_KEY_MISSING" | "SECRET_KEY_INVALID" | "SECRET_DECRYPT_FAILED";

export class SecretKeyError extends Error {
  constructor(
    readonly code: SecretErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "SecretKeyError";
  }
}

/** GITWAY_SECRET_KEY: 32 bytes, as 64 hex characters or base64. */
export function secretKeyFrom(value: string | undefined): Buffer {
  if (!value) throw new SecretKeyError("SECRET_KEY_MISSING", "GITWAY_SECRET_KEY is not set; secrets cannot be stored or read. Generate one with: openssl rand -base64 32");
  const key = /^[0-9a-fA-F]{64}$/.test(value) ? Buffer.from(value, "hex") : Buffer.from(value, "base64");
  if (key.length !== 32) throw new SecretKeyError("SECRET_KEY_INVALID", "GITWAY_SECRET_KEY must be 32 bytes (64 hex characters, or 44 base64 characters)");
  return key;
}

/**
 * AES-256-GCM with a fresh 96-bit nonce per value. `context` (environment and name) is bound as
 * associated data, so a ciphertext copied to another row does not decrypt there.
 */
export function encryptSecret(key: Buffer, plaintext: string, context: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(context));
  const ct = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return "v1:" + Buffer.concat([iv, cipher.getAuthTag(), ct]).toString("base64");
}

export function decryptSecret(key: Buffer, token: string, context: string): string {
  if (!token.startsWith("v1:")) throw new SecretKeyError("SECRET_DECRYPT_FAILED", "stored secret has an unknown format");
  const raw = Buffer.from(token.slice(3), "base64");
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
  } catch {
    throw new SecretKeyError("SECRET_DECRYPT_FAILED", "a stored secret could not be decrypted: GITWAY_SECRET_KEY is not the key it was encrypted with (or the value was altered)");
  }
}

/** What may be shown of a secret: never the value, only that it is set and how long it is. */
export function maskSecret(value: string): string {
  return `•••••• (${value.length} characters)`;
}
