/**
 * `npm run test:mutation [area ...] [stryker options]`: one Stryker run per area (all areas when none is named),
 * one after another. Each prints its score per file and its surviving mutants; the HTML report
 * and the incremental state (a second run re-tests only what changed) go to reports/mutation/.
 */
import { spawnSync } from "node:child_process";
import process from "node:process";
import { AREAS } from "./areas.mjs";

// Area names first; anything from the first option on goes to Stryker (e.g. --mutate one/file.ts).
const args = process.argv.slice(2);
const firstOption = args.findIndex((a) => a.startsWith("-"));
const wanted = firstOption === -1 ? args : args.slice(0, firstOption);
const passed = firstOption === -1 ? [] : args.slice(firstOption);
const unknown = wanted.filter((a) => !(a in AREAS));
if (unknown.length > 0) {
  process.stderr.write(`unknown area ${unknown.join(", ")}; the areas are ${Object.keys(AREAS).join(", ")}\n`);
  process.exit(2);
}
let failed = false;
for (const area of wanted.length > 0 ? wanted : Object.keys(AREAS)) {
  const on = AREAS[area].env?.GITWAY_TEST_DRIVER ? ` on ${AREAS[area].env.GITWAY_TEST_DRIVER}` : "";
  process.stderr.write(`\n== mutation testing: ${area}${on} (${AREAS[area].mutate.join(", ")})\n`);
  const r = spawnSync("npx", ["stryker", "run", "stryker.config.mjs", ...passed], { stdio: "inherit", env: { ...process.env, ...AREAS[area].env, GITWAY_MUTATION_AREA: area } });
  if (r.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
