import process from "node:process";

/**
 * The modules `npm run test:mutation` mutates, grouped with the tests that exercise them. Each
 * area is one Stryker run that loads only its own tests: a mutant in a module-level table (the
 * rule registry) is covered by every test that imports it, so a wider test set multiplies the time.
 * `env` is set for the area's test runners (run.mjs decides what needs DATABASE_URL).
 */
export const AREAS = {
  config: { mutate: ["src/config/documents.ts"], tests: ["test/config/documents.test.ts", "test/config/read-config.test.ts", "test/config/hostile-input.test.ts", "test/config/json-source.test.ts"] },
  diff: { mutate: ["src/diff/operation-diff.ts"], tests: ["test/diff/**/*.test.ts"] },
  // The rule registry apart: it is built at import, so each of its mutants runs every test here.
  rules: { mutate: ["src/diff/rules.ts"], tests: ["test/diff/**/*.test.ts", "test/readme.test.ts"] },
  // On PostgreSQL alone when DATABASE_URL is set: the advisory lock and the unique-violation path
  // need two real connections, and PGlite's start-up would cost seconds per test per mutant.
  jobs: { mutate: ["src/jobs/**/*.ts"], tests: ["test/jobs/**/*.test.ts"], env: process.env.DATABASE_URL ? { GITWAY_TEST_DRIVER: "PostgreSQL" } : {} },
  // Not the suites that start `gitway serve` as a process (serve, serve-defaults, cluster): that
  // process runs the built dist/, so it never meets a mutant, and their 10 s and 30 s timeouts would
  // be paid by every static mutant.
  gateway: { mutate: ["src/gateway/policies/**/*.ts", "src/gateway/server.ts"], tests: ["access-details", "body-cap", "gateway", "options", "policies", "rate-limit-store", "relay", "release", "request-validation-details", "rewrite", "server-details", "traffic-details"].map((f) => `test/gateway/${f}.test.ts`) },
};
