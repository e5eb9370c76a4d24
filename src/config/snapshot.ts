import { posix } from "node:path";
import type { FileContent } from "./source/source-file.js";

/**
 * The files of one commit that the config stage may read: repository path -> content.
 * The core never touches a file system or network; adapters build snapshots.
 */
export type Snapshot = ReadonlyMap<string, FileContent>;

/** Repository-relative, forward slashes, no "./"; undefined when the path climbs out of the repository. */
export function normalizeRepoPath(path: string): string | undefined {
  if (path.startsWith("/") || /^[a-zA-Z]:[\\/]/.test(path)) return undefined;
  const normal = posix.normalize(path.replace(/\\/g, "/"));
  if (normal === ".." || normal.startsWith("../")) return undefined;
  return normal === "." ? "" : normal.replace(/^\.\//, "");
}
