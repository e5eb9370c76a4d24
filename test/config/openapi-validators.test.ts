import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type { ValidateFunction } from "ajv";
import { compileOpenApiValidator, openApiValidatorSource, type OpenApiVersion } from "../../src/config/openapi-schema.js";

// Inside the project, as dist/ is: the generated code requires ajv's runtime helpers and ajv-formats from node_modules.
const dir = mkdtempSync(join(fileURLToPath(new URL(".", import.meta.url)), ".validators-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What the build writes, loaded the way the built module loads it. */
function prebuilt(version: OpenApiVersion): ValidateFunction {
  const file = join(dir, `openapi-${version}-validator.cjs`);
  writeFileSync(file, openApiValidatorSource(version));
  return createRequire(import.meta.url)(file) as ValidateFunction;
}

const broken = (openapi: string) => ({
  openapi,
  info: { title: "t" },
  paths: { "/a": { get: { responses: { "200": { description: 1 } } }, parameters: [{ name: "x", in: "nowhere" }] } },
  servers: [{ url: 5 }],
});

describe("the OpenAPI validators the build writes as code", () => {
  for (const [version, openapi] of [["3.0", "3.0.3"], ["3.1", "3.1.0"]] as const) {
    it(`find exactly what the compiled ${version} validator finds, on a valid and a broken document`, () => {
      const compiled = compileOpenApiValidator(version);
      const generated = prebuilt(version);
      const valid = { openapi, info: { title: "t", version: "1" }, paths: { "/a": { get: { responses: { "200": { description: "ok" } } } } } };
      expect(generated(valid)).toBe(true);
      expect(compiled(valid)).toBe(true);
      expect(generated(broken(openapi))).toBe(false);
      expect(compiled(broken(openapi))).toBe(false);
      expect(generated.errors!.length).toBeGreaterThan(3);
      expect(generated.errors).toEqual(compiled.errors);
    });
  }
});
