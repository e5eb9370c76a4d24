/**
 * The modules `npm run test:mutation` mutates, grouped with the tests that exercise them. Each
 * area is one Stryker run that loads only its own tests: a mutant in a module-level table (the
 * rule registry) is covered by every test that imports it, so a wider test set multiplies the time.
 */
export const AREAS = {
  config: { mutate: ["src/config/documents.ts"], tests: ["test/config/documents.test.ts", "test/config/read-config.test.ts", "test/config/hostile-input.test.ts", "test/config/json-source.test.ts"] },
  diff: { mutate: ["src/diff/rules.ts", "src/diff/operation-diff.ts"], tests: ["test/diff/**/*.test.ts", "test/readme.test.ts"] },
  jobs: { mutate: ["src/jobs/**/*.ts"], tests: ["test/jobs/**/*.test.ts"] },
  gateway: { mutate: ["src/gateway/policies/**/*.ts", "src/gateway/server.ts"], tests: ["test/gateway/**/*.test.ts"] },
};
