import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Third-party data is not in the repository: those suites are `npm run test:corpus`.
    exclude: [...configDefaults.exclude, "test/corpus/**"],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // Tests that share the machine's PostgreSQL or Redis keep their own schemas/keys, so files may run in parallel.
    pool: "forks",
    // Most suites wait on processes, sockets and timers rather than the CPU: three files at once
    // on a two-core machine (vitest's default would be one).
    maxWorkers: 3,
  },
});
