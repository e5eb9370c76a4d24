import { defineConfig } from "vitest/config";

/** `npm run test:corpus`: the suites that read third-party data from GITWAY_CORPUS_DIR. */
export default defineConfig({
  test: {
    include: ["test/corpus/**/*.test.ts"],
    globalSetup: ["test/corpus/global-setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 30_000,
    pool: "forks",
  },
});
