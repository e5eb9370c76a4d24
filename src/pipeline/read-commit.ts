import { ConfigReadError, diagnostic, readConfig, sortDiagnostics, type Snapshot } from "../config/index.js";
import { checkDiffSettings } from "../diff/index.js";
import type { ConfigSource, ReadSide } from "./ports.js";

/** Snapshot, then parse and validate (settings included): the config of one commit, or the diagnostics saying why not. */
export async function readCommit(source: ConfigSource, sha: string): Promise<ReadSide> {
  let snapshot: Snapshot;
  try {
    snapshot = await source.snapshot(sha);
  } catch (e) {
    // Over a read limit is the commit's own doing: the validate check says so instead of retrying.
    if (e instanceof ConfigReadError) return { sha, config: undefined, diagnostics: [diagnostic("config-read-limit", e.message, { file: "." })] };
    throw e;
  }
  const { config, diagnostics } = readConfig(snapshot);
  // The diff stage knows its rule ids: an unknown one under diff.severity fails validation too.
  return { sha, config, diagnostics: config ? sortDiagnostics([...diagnostics, ...checkDiffSettings(config)]) : diagnostics };
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
