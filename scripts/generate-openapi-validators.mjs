/**
 * Run by `npm run build` after tsc: writes each OpenAPI version's schema validator as code
 * (ajv standalone) beside the built config module, so `gitway validate` and `gitway diff` load it
 * instead of compiling the OpenAPI schema on every run. Running from the sources compiles it instead.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath, URL } from "node:url";

const built = new URL("../dist/config/openapi-schema.js", import.meta.url);
const { openApiValidatorSource, PREBUILT_VALIDATOR_FILES } = await import(built.href);
for (const [version, file] of Object.entries(PREBUILT_VALIDATOR_FILES)) {
  const target = fileURLToPath(new URL(file, built));
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, openApiValidatorSource(version));
}
