import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** Large benchmark inputs are fetched on demand into .bench-cache/, never installed by `npm ci`. */
export const CACHE = fileURLToPath(new URL("../.bench-cache/", import.meta.url));
const OCTOKIT_OPENAPI = "@octokit/openapi@23.0.2";
const TARBALL = "octokit-openapi-23.0.2.tgz";

/** Path of generated/<name>.json from @octokit/openapi, fetched with `npm pack` the first time. */
export function octokitSpec(name: string): string {
  mkdirSync(CACHE, { recursive: true });
  const target = join(CACHE, "package", "generated", `${name}.json`);
  if (existsSync(target)) return target;
  if (!existsSync(join(CACHE, TARBALL))) {
    process.stderr.write(`fetching ${OCTOKIT_OPENAPI} into ${CACHE} ...\n`);
    execFileSync("npm", ["pack", OCTOKIT_OPENAPI, "--silent"], { cwd: CACHE, stdio: ["ignore", "ignore", "inherit"] });
  }
  execFileSync("tar", ["xzf", TARBALL, `package/generated/${name}.json`], { cwd: CACHE });
  return target;
}

/** The corpus: GITWAY_CORPUS_DIR when set (a git worktree sits elsewhere than the checkout), else ../shared/corpus. */
export const CORPUS = process.env.GITWAY_CORPUS_DIR ?? fileURLToPath(new URL("../../shared/corpus/", import.meta.url));

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
