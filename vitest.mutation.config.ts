import { defineConfig } from "vitest/config";

/**
 * The tests Stryker runs against each mutant: only those that exercise the mutated modules
 * (`stryker.config.mjs`), without the CLI tests that spawn processes Stryker cannot see into.
 */
export default defineConfig({
  test: {
    include: [
      "test/gateway/**/*.test.ts",
      "test/jobs/**/*.test.ts",
      "test/diff/**/*.test.ts",
      "test/config/**/*.test.ts",
      "test/readme.test.ts",
    ],
    exclude: ["test/config/oas-corpus.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
