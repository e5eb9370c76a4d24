// @ts-check
/**
 * `npm run test:mutation`: Stryker mutates the modules where a silent regression costs most and
 * runs, per mutant, only the tests that cover the mutated code. Not part of `npm test` (it takes
 * tens of minutes on two cores). One area at a time: `npm run test:mutation -- --mutate src/jobs/queue.ts`.
 */
import process from "node:process";
import { fileURLToPath, URL } from "node:url";

// Tests read the workplace's shared/ folder beside the clone; the sandbox Stryker copies the
// project into is two levels deeper, so point them at it explicitly.
process.env.GITWAY_SHARED_DIR ??= fileURLToPath(new URL("../shared/", import.meta.url));

/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  vitest: { configFile: "vitest.mutation.config.ts", related: false },
  coverageAnalysis: "perTest",
  mutate: [
    "src/gateway/policies/**/*.ts",
    "src/gateway/server.ts",
    "src/jobs/**/*.ts",
    "src/diff/rules.ts",
    "src/diff/operation-diff.ts",
    "src/config/documents.ts",
  ],
  // Two shared cores: one test runner at a time, and a generous timeout for HTTP and database tests.
  concurrency: 1,
  timeoutMS: 15_000,
  incremental: true,
  incrementalFile: "reports/stryker-incremental.json",
  reporters: ["clear-text", "progress", "html"],
  htmlReporter: { fileName: "reports/mutation/index.html" },
  clearTextReporter: { allowColor: false, logTests: false, reportMutants: true, reportScoreTable: true },
  thresholds: { high: 90, low: 80, break: null },
  tempDirName: ".stryker-tmp",
  cleanTempDir: true,
};
