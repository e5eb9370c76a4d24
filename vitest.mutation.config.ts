import { defineConfig } from "vitest/config";

/**
 * The tests Stryker runs against each mutant: the mutated area's own tests only
 * (GITWAY_MUTATION_TESTS, set by stryker.config.mjs from test/mutation/areas.mjs).
 */
export default defineConfig({
  test: {
    include: (process.env.GITWAY_MUTATION_TESTS ?? "test/**/*.test.ts").split(","),
    // Stryker runs beside other work on two shared cores: room for a slow PGlite start.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
