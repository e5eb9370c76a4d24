import { configReadLimits, selectConfigFiles, withReadTimeout, type ConfigReadLimits, type FileContent } from "../config/index.js";
import { SnapshotReadError } from "./local-snapshot.js";
import { runGit } from "./run-git.js";

/** Whether `rev` names a commit in the repository at `cwd`. */
export async function isRevision(cwd: string, rev: string, signal?: AbortSignal): Promise<boolean> {
  if (rev.startsWith("-")) return false;
  try {
    await runGit(["rev-parse", "--verify", "--quiet", `${rev}^{commit}`], { cwd, ...(signal ? { signal } : {}) });
    return true;
  } catch (e) {
    if (signal?.aborted) throw e;
    return false;
  }
}

/**
 * The JSON/YAML files of a commit, read from Git's object store (no checkout, the work tree is
 * untouched). Blobs over the size limit are listed by size and not loaded. The read ends at its
 * timeout or when `signal` (a job's) aborts, its git processes killed either way.
 */
export function readRevisionSnapshot(cwd: string, rev: string, limits: number | Partial<ConfigReadLimits>, signal?: AbortSignal): Promise<Map<string, FileContent>> {
  const l = configReadLimits(limits);
  const stop = new AbortController();
  const onAbort = () => stop.abort(signal!.reason);
  if (signal?.aborted) onAbort();
  else signal?.addEventListener("abort", onAbort, { once: true });
  return withReadTimeout(readWithin(cwd, rev, l, stop.signal), l, rev, () => stop.abort(new SnapshotReadError(`reading ${rev} took too long`))).finally(() => signal?.removeEventListener("abort", onAbort));
}

async function readWithin(cwd: string, rev: string, limits: ConfigReadLimits, signal: AbortSignal): Promise<Map<string, FileContent>> {
  if (!(await isRevision(cwd, rev, signal))) throw new SnapshotReadError(`${rev} is not a commit in the Git repository at ${cwd}`);
  // --full-tree: the whole commit, also when run from a subdirectory of the repository.
  const listing = (await runGit(["ls-tree", "--full-tree", "-r", "-l", "-z", rev], { cwd, signal })).toString("utf8");
  const entries: { path: string; oid: string; size: number }[] = [];
  for (const line of listing.split("\0")) {
    // "<mode> blob <oid> <size>\t<path>"
    const m = /^\d+ blob ([0-9a-f]+)\s+(\d+)\t(.+)$/.exec(line);
    if (m) entries.push({ oid: m[1]!, size: Number(m[2]), path: m[3]! });
  }
  const out = new Map<string, FileContent>();
  const { load: wanted, oversized } = selectConfigFiles(entries, limits, rev);
  for (const e of oversized) out.set(e.path, { size: e.size });
  const blobs = await catFiles(cwd, wanted.map((e) => e.oid), signal);
  wanted.forEach((e, i) => out.set(e.path, blobs[i]!));
  return out;
}

/** Reads many blobs through one `git cat-file --batch` process. */
async function catFiles(cwd: string, oids: string[], signal: AbortSignal): Promise<Buffer[]> {
  if (oids.length === 0) return [];
  const all = await runGit(["cat-file", "--batch"], { cwd, signal, input: oids.join("\n") + "\n" });
  const out: Buffer[] = [];
  let at = 0;
  for (let i = 0; i < oids.length; i++) {
    const nl = all.indexOf(10, at);
    const size = Number(all.subarray(at, nl).toString("latin1").split(" ")[2]);
    out.push(all.subarray(nl + 1, nl + 1 + size));
    at = nl + 1 + size + 1;
  }
  return out;
}
