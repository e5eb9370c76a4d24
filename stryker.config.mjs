// @ts-check
/**
 * Stryker for `npm run test:mutation` (test/mutation/run.mjs runs it once per area of
 * test/mutation/areas.mjs). Not part of `npm test`: an area takes from five to forty minutes on two cores.
 */
import process from "node:process";
import { AREAS } from "./test/mutation/areas.mjs";

const area = process.env.GITWAY_MUTATION_AREA ?? "diff";
const chosen = AREAS[/** @type {keyof typeof AREAS} */ (area)];
if (!chosen) throw new Error(`GITWAY_MUTATION_AREA: no area ${area}`);

// The test runners Stryker starts inherit this: vitest.mutation.config.ts loads only the area's tests.
process.env.GITWAY_MUTATION_TESTS = chosen.tests.join(",");

/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  vitest: { configFile: "vitest.mutation.config.ts", related: false },
  coverageAnalysis: "perTest",
  mutate: chosen.mutate,
  // Two shared cores: one test runner at a time, and room for HTTP and database tests.
  concurrency: 1,
  timeoutMS: 15_000,
  incremental: true,
  incrementalFile: `reports/mutation/${area}-incremental.json`,
  reporters: ["clear-text", "progress-append-only", "html"],
  htmlReporter: { fileName: `reports/mutation/${area}.html` },
  clearTextReporter: { allowColor: false, logTests: false, reportMutants: true, reportScoreTable: true },
  thresholds: { high: 90, low: 80, break: null },
  tempDirName: `.stryker-tmp/${area}`,
  // Not into the sandbox: other areas' sandboxes (two areas may run at once), reports, data, caches.
  ignorePatterns: [".stryker-tmp", "reports", "data", "test-results", ".bench-cache", "scratch"],
  cleanTempDir: true,
};
