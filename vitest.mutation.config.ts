import { defineConfig } from "vitest/config";

/**
 * The tests Stryker runs against each mutant: the mutated area's own tests only
 * (GITWAY_MUTATION_TESTS, set by stryker.config.mjs from test/mutation/areas.mjs).
 */
export default defineConfig({
  test: {
    include: (process.env.GITWAY_MUTATION_TESTS ?? "test/**/*.test.ts").split(","),
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
