import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CORPUS_DIR, CORPUS_LOOKED_AT } from "../test/corpus/corpus-dir.js";

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

/** The third-party corpus (oasdiff's pairs, real descriptions), from GITWAY_CORPUS_DIR; a benchmark that needs it stops here without it. */
export function corpusDir(): string {
  if (!CORPUS_DIR) throw new Error(`this benchmark reads the corpus (oasdiff's pairs, real descriptions), and there is none at ${CORPUS_LOOKED_AT}: set GITWAY_CORPUS_DIR`);
  return CORPUS_DIR;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
