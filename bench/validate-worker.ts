/** One measured run in a fresh process: `gitway` or `swagger-parser` validating one file. */
import { readFileSync } from "node:fs";
import { basename } from "node:path";

const [engine, file] = process.argv.slice(2) as [string, string];
const started = performance.now();
let findings = 0;
if (engine === "gitway") {
  const { readConfig } = await import("../src/config/index.js");
  const content = readFileSync(file);
  const { diagnostics } = readConfig(new Map([[basename(file), content]]), { openapi: basename(file) });
  findings = diagnostics.filter((d) => d.severity === "error").length;
} else {
  const { default: SwaggerParser } = await import("@apidevtools/swagger-parser");
  // Resolution of external refs off: never fetch anything a spec names.
  const api = JSON.parse(readFileSync(file, "utf8")) as object;
  try {
    await SwaggerParser.validate(api as never, { resolve: { external: false }, dereference: { circular: "ignore" } } as never);
  } catch {
    findings = 1;
  }
}
const ms = performance.now() - started;
process.stdout.write(JSON.stringify({ ms, maxRssMB: process.resourceUsage().maxRSS / 1024, findings }) + "\n");
