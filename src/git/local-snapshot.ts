import { lstat, readdir, readFile } from "node:fs/promises";
import { basename, dirname, join, relative, sep } from "node:path";
import { configReadLimits, isConfigPath, selectConfigFiles, withReadTimeout, type ConfigReadLimits, type FileContent, type Snapshot } from "../config/index.js";

/** Never walked into: dependencies and Git's own files hold no config (isConfigPath agrees). */
const SKIP_DIRS = new Set(["node_modules", ".git"]);

export class SnapshotReadError extends Error {
  readonly code = "SNAPSHOT_UNREADABLE";
}

/**
 * Reads a working-tree directory into a snapshot of its JSON/YAML files. Files over the size limit
 * are listed by size without being loaded; symbolic links are not followed (they could leave the tree).
 */
export async function readDirectorySnapshot(root: string, limits: number | Partial<ConfigReadLimits>): Promise<Map<string, FileContent>> {
  const l = configReadLimits(limits);
  return withReadTimeout(readDirectoryWithin(root, l), l, root);
}

async function readDirectoryWithin(root: string, limits: ConfigReadLimits): Promise<Map<string, FileContent>> {
  const found: { path: string; full: string; size: number }[] = [];
  const pending = [root];
  // The walk stops one file past the count cap: selectConfigFiles then says how many is too many.
  while (pending.length > 0 && found.length <= limits.maxFiles) {
    const dir = pending.pop()!;
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      throw new SnapshotReadError(`Cannot read directory ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    for (const entry of entries) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!SKIP_DIRS.has(entry.name)) pending.push(full);
      } else if (entry.isFile()) {
        const path = relative(root, full).split(sep).join("/");
        if (isConfigPath(path)) found.push({ path, full, size: (await lstat(full)).size });
      }
    }
  }
  const { load, oversized } = selectConfigFiles(found, limits, root);
  const out = new Map<string, FileContent>();
  for (const e of oversized) out.set(e.path, { size: e.size });
  for (const e of load) out.set(e.path, await readFile(e.full));
  return out;
}

/** A directory, or a single OpenAPI file read with its directory (for its relative $refs). */
export async function readPathSnapshot(path: string, limits: number | Partial<ConfigReadLimits>): Promise<{ snapshot: Snapshot; openapi: string | undefined }> {
  const maxFileBytes = configReadLimits(limits).maxFileBytes;
  let stat;
  try {
    stat = await lstat(path);
  } catch (e) {
    throw new SnapshotReadError(`Cannot read ${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file or directory" : (e as Error).message}`);
  }
  if (stat.isDirectory()) return { snapshot: await readDirectorySnapshot(path, limits), openapi: undefined };
  if (!stat.isFile()) throw new SnapshotReadError(`${path} is neither a file nor a directory`);
  const snapshot = await readDirectorySnapshot(dirname(path), limits);
  const name = basename(path);
  // A file the directory walk skipped (unusual extension) is still the one the user named.
  if (!snapshot.has(name)) snapshot.set(name, stat.size > maxFileBytes ? { size: stat.size } : await readFile(path));
  return { snapshot, openapi: name };
}
