import { execFile, spawn, type ChildProcess } from "node:child_process";
import { promisify } from "node:util";
import { configReadLimits, selectConfigFiles, withReadTimeout, type ConfigReadLimits, type FileContent } from "../config/index.js";
import { gitEnv } from "./git-env.js";
import { SnapshotReadError } from "./local-snapshot.js";

const run = promisify(execFile);

/** Whether `rev` names a commit in the repository at `cwd`. */
export async function isRevision(cwd: string, rev: string): Promise<boolean> {
  if (rev.startsWith("-")) return false;
  try {
    await run("git", ["rev-parse", "--verify", "--quiet", `${rev}^{commit}`], { cwd, env: gitEnv() });
    return true;
  } catch {
    return false;
  }
}

/**
 * The JSON/YAML files of a commit, read from Git's object store (no checkout, the work tree is
 * untouched). Blobs over the size limit are listed by size and not loaded.
 */
export function readRevisionSnapshot(cwd: string, rev: string, limits: number | Partial<ConfigReadLimits>): Promise<Map<string, FileContent>> {
  const l = configReadLimits(limits);
  const children = new Set<ChildProcess>();
  return withReadTimeout(readWithin(cwd, rev, l, children), l, rev, () => children.forEach((c) => c.kill()));
}

async function readWithin(cwd: string, rev: string, limits: ConfigReadLimits, children: Set<ChildProcess>): Promise<Map<string, FileContent>> {
  if (!(await isRevision(cwd, rev))) throw new SnapshotReadError(`${rev} is not a commit in the Git repository at ${cwd}`);
  // --full-tree: the whole commit, also when run from a subdirectory of the repository.
  const { stdout } = await run("git", ["ls-tree", "--full-tree", "-r", "-l", "-z", rev], { cwd, env: gitEnv(), maxBuffer: 64 * 1024 * 1024 });
  const entries: { path: string; oid: string; size: number }[] = [];
  for (const line of stdout.split("\0")) {
    // "<mode> blob <oid> <size>\t<path>"
    const m = /^\d+ blob ([0-9a-f]+)\s+(\d+)\t(.+)$/.exec(line);
    if (m) entries.push({ oid: m[1]!, size: Number(m[2]), path: m[3]! });
  }
  const out = new Map<string, FileContent>();
  const { load: wanted, oversized } = selectConfigFiles(entries, limits, rev);
  for (const e of oversized) out.set(e.path, { size: e.size });
  const blobs = await catFiles(cwd, wanted.map((e) => e.oid), children);
  wanted.forEach((e, i) => out.set(e.path, blobs[i]!));
  return out;
}

/** Reads many blobs through one `git cat-file --batch` process. */
function catFiles(cwd: string, oids: string[], children: Set<ChildProcess>): Promise<Buffer[]> {
  if (oids.length === 0) return Promise.resolve([]);
  return new Promise((resolve, reject) => {
    const child = spawn("git", ["cat-file", "--batch"], { cwd, env: gitEnv(), stdio: ["pipe", "pipe", "pipe"] });
    children.add(child);
    const chunks: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => chunks.push(c));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new SnapshotReadError(`git cat-file exited with ${code}`));
      const all = Buffer.concat(chunks);
      const out: Buffer[] = [];
      let at = 0;
      for (let i = 0; i < oids.length; i++) {
        const nl = all.indexOf(10, at);
        const size = Number(all.subarray(at, nl).toString("latin1").split(" ")[2]);
        out.push(all.subarray(nl + 1, nl + 1 + size));
        at = nl + 1 + size + 1;
      }
      resolve(out);
    });
    child.stdin.end(oids.join("\n") + "\n");
  });
}
