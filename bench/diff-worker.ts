/** One measured diff in a fresh process: `gitway` (grouped at the source), `gitway-ungrouped`, `openapi-diff` or `floor` (reading and JSON.parse alone) on a base/head pair of files. */
import { readFileSync } from "node:fs";
import { basename, dirname } from "node:path";

/** A benchmark folder holds several large descriptions side by side, not one repository's config: the caps for a pushed commit do not apply. */
const BENCH_READ_LIMITS = { maxFileBytes: 64 * 1024 * 1024, maxFiles: 10_000, maxTotalBytes: 4 * 1024 * 1024 * 1024 };

const [engine, baseFile, headFile] = process.argv.slice(2) as [string, string, string];
let started = performance.now();
let cpuStart = process.cpuUsage();
let result: Record<string, unknown> = {};
if (engine === "gitway" || engine === "gitway-ungrouped") {
  const { readConfig } = await import("../src/config/index.js");
  const { diffConfigs } = await import("../src/diff/index.js");
  const { readDirectorySnapshot } = await import("../src/git/index.js");
  const { renderChangesMarkdown } = await import("../src/report/index.js");
  // The clock starts once the modules are loaded: tsx compiles them here, the built CLI does not.
  started = performance.now();
  cpuStart = process.cpuUsage();
  const side = async (file: string) => readConfig(await readDirectorySnapshot(dirname(file), BENCH_READ_LIMITS), { openapi: basename(file), limits: { maxFileBytes: 64 * 1024 * 1024 } }).config!;
  const report = diffConfigs(await side(baseFile), await side(headFile), { perOperation: engine === "gitway-ungrouped" });
  // The markdown a pull request would get is part of the work measured.
  const markdownChars = renderChangesMarkdown(report).length;
  const byRule: Record<string, number> = {};
  for (const c of report.changes) byRule[c.rule] = (byRule[c.rule] ?? 0) + 1;
  const affects = (c: (typeof report.changes)[number]) => (c.affected && c.affected.length > 1 ? ` (affects ${c.affected.length})` : "");
  result = { summary: report.summary, entries: report.changes.length, breakingEntries: report.changes.filter((c) => c.level === "breaking" && !c.accepted).length, markdownChars, byRule, breaking: report.changes.filter((c) => c.level === "breaking").map((c) => `${c.operation ?? ""} | ${c.rule} | ${c.message}${affects(c)}`) };
} else if (engine === "floor") {
  // The least any differ must do: read both files and parse the JSON (YAML files are only read).
  started = performance.now();
  cpuStart = process.cpuUsage();
  for (const file of [baseFile, headFile]) {
    const text = readFileSync(file, "utf8");
    if (file.endsWith(".json")) JSON.parse(text);
  }
  result = {};
} else {
  const { default: openapiDiff } = await import("openapi-diff");
  started = performance.now();
  cpuStart = process.cpuUsage();
  const spec = (file: string) => ({ content: readFileSync(file, "utf8"), location: file, format: "openapi3" as const });
  try {
    const outcome = await openapiDiff.diffSpecs({ sourceSpec: spec(baseFile), destinationSpec: spec(headFile) });
    result = { summary: { breaking: outcome.breakingDifferencesFound ? outcome.breakingDifferences.length : 0, nonBreaking: outcome.nonBreakingDifferences.length, unclassified: outcome.unclassifiedDifferences.length } };
  } catch (e) {
    result = { error: (e as Error).message.split("\n")[0]!.slice(0, 160) };
  }
}
const ms = performance.now() - started;
// CPU time (user + system) of the same span: what the work costs whatever else runs on the machine.
const cpu = process.cpuUsage(cpuStart);
const cpuMs = (cpu.user + cpu.system) / 1000;
process.stdout.write(JSON.stringify({ ms, cpuMs, maxRssMB: process.resourceUsage().maxRSS / 1024, ...result }) + "\n");
