import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // Tests that share the machine's PostgreSQL or Redis keep their own schemas/keys, so files may run in parallel.
    pool: "forks",
  },
});
