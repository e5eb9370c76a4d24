import { readConfig } from "../config/index.js";
import type { ConfigSource, ReadSide } from "./ports.js";

/** Snapshot, then parse and validate: the config of one commit, or the diagnostics saying why not. */
export async function readCommit(source: ConfigSource, sha: string): Promise<ReadSide> {
  const snapshot = await source.snapshot(sha);
  const { config, diagnostics } = readConfig(snapshot);
  return { sha, config, diagnostics };
}

/** The files a release is built from, as text, for the store (the gateway rebuilds releases from them at start). */
export function filesOf(side: ReadSide): Record<string, string> {
  const out: Record<string, string> = {};
  if (!side.config) return out;
  for (const [path, content] of side.config.docs.snapshot) {
    if (typeof content === "string") out[path] = content;
    else if (content instanceof Uint8Array) out[path] = new TextDecoder().decode(content);
  }
  return out;
}
