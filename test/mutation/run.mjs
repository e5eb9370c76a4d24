/**
 * `npm run test:mutation [area ...]`: one Stryker run per area (all areas when none is named),
 * one after another. Each prints its score per file and its surviving mutants; the HTML report
 * and the incremental state (a second run re-tests only what changed) go to reports/mutation/.
 */
import { spawnSync } from "node:child_process";
import process from "node:process";
import { AREAS } from "./areas.mjs";

const wanted = process.argv.slice(2);
const unknown = wanted.filter((a) => !(a in AREAS));
if (unknown.length > 0) {
  process.stderr.write(`unknown area ${unknown.join(", ")}; the areas are ${Object.keys(AREAS).join(", ")}\n`);
  process.exit(2);
}
let failed = false;
for (const area of wanted.length > 0 ? wanted : Object.keys(AREAS)) {
  process.stderr.write(`\n== mutation testing: ${area} (${AREAS[area].mutate.join(", ")})\n`);
  const r = spawnSync("npx", ["stryker", "run", "stryker.config.mjs"], { stdio: "inherit", env: { ...process.env, GITWAY_MUTATION_AREA: area } });
  if (r.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
