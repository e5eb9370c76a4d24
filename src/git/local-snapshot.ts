import { lstat, readdir, readFile } from "node:fs/promises";
import { basename, dirname, join, relative, sep } from "node:path";
import type { FileContent, Snapshot } from "../config/index.js";

/** Only these can be config or be reached by a $ref; everything else in a checkout is left alone. */
const CONFIG_FILE = /\.(json|ya?ml)$/i;
const SKIP_DIRS = new Set(["node_modules", ".git"]);
const MAX_FILES = 10_000;

export class SnapshotReadError extends Error {
  readonly code = "SNAPSHOT_UNREADABLE";
}

/**
 * Reads a working-tree directory into a snapshot of its JSON/YAML files. Files over the size limit
 * are listed by size without being loaded; symbolic links are not followed (they could leave the tree).
 */
export async function readDirectorySnapshot(root: string, maxFileBytes: number): Promise<Map<string, FileContent>> {
  const out = new Map<string, FileContent>();
  const pending = [root];
  while (pending.length > 0) {
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
      } else if (entry.isFile() && CONFIG_FILE.test(entry.name)) {
        if (out.size >= MAX_FILES) throw new SnapshotReadError(`More than ${MAX_FILES} JSON/YAML files under ${root}; point gitway at the repository that holds the config`);
        const repoPath = relative(root, full).split(sep).join("/");
        const { size } = await lstat(full);
        out.set(repoPath, size > maxFileBytes ? { size } : await readFile(full));
      }
    }
  }
  return out;
}

/** A directory, or a single OpenAPI file read with its directory (for its relative $refs). */
export async function readPathSnapshot(path: string, maxFileBytes: number): Promise<{ snapshot: Snapshot; openapi: string | undefined }> {
  let stat;
  try {
    stat = await lstat(path);
  } catch (e) {
    throw new SnapshotReadError(`Cannot read ${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file or directory" : (e as Error).message}`);
  }
  if (stat.isDirectory()) return { snapshot: await readDirectorySnapshot(path, maxFileBytes), openapi: undefined };
  if (!stat.isFile()) throw new SnapshotReadError(`${path} is neither a file nor a directory`);
  const snapshot = await readDirectorySnapshot(dirname(path), maxFileBytes);
  const name = basename(path);
  // A file the directory walk skipped (unusual extension) is still the one the user named.
  if (!snapshot.has(name)) snapshot.set(name, stat.size > maxFileBytes ? { size: stat.size } : await readFile(path));
  return { snapshot, openapi: name };
}
