/**
 * npm run bench: validating GitHub's REST API description (13 MB JSON) with Gitway and, as the
 * reference, swagger-parser's validate(), each run in a fresh process; medians of 5 runs.
 */
import { spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { median, octokitSpec } from "./bench-data.js";

const swaggerParserVersion = (createRequire(import.meta.url)("@apidevtools/swagger-parser/package.json") as { version: string }).version;

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const TIMEOUT_MS = 120_000;
const worker = fileURLToPath(new URL("./validate-worker.ts", import.meta.url));

interface Run {
  ms: number;
  maxRssMB: number;
  findings: number;
}

function measure(engine: string, file: string): Run[] | string {
  const runs: Run[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = spawnSync(process.execPath, ["--import", "tsx", worker, engine, file], { encoding: "utf8", timeout: TIMEOUT_MS, maxBuffer: 1 << 20 });
    if (r.status !== 0) return r.signal ? `killed (${r.signal}) after ${TIMEOUT_MS / 1000} s` : `failed: ${r.stderr.split("\n").slice(-3).join(" ")}`;
    runs.push(JSON.parse(r.stdout.trim().split("\n").pop()!) as Run);
  }
  return runs;
}

const specs = ["api.github.com", "ghes-3.19"];
console.log(`validation benchmark: ${RUNS} runs each, fresh process per run, medians (wall ms inside the process; peak RSS of the process)\n`);
console.log("| description | size | engine | wall ms (median) | peak RSS MB (max) | errors | ratio vs Gitway |");
console.log("| --- | --- | --- | --- | --- | --- | --- |");
for (const name of specs) {
  const file = octokitSpec(name);
  const size = `${(statSync(file).size / 1e6).toFixed(1)} MB`;
  const gitway = measure("gitway", file);
  const reference = measure("swagger-parser", file);
  const g = typeof gitway === "string" ? undefined : median(gitway.map((r) => r.ms));
  for (const [engine, runs] of [["gitway", gitway], [`swagger-parser ${swaggerParserVersion} validate()`, reference]] as const) {
    if (typeof runs === "string") {
      console.log(`| ${name} | ${size} | ${engine} | ${runs} | | | |`);
      continue;
    }
    const ms = median(runs.map((r) => r.ms));
    console.log(`| ${name} | ${size} | ${engine} | ${ms.toFixed(0)} | ${Math.max(...runs.map((r) => r.maxRssMB)).toFixed(0)} | ${runs[0]!.findings} | ${g ? (ms / g).toFixed(2) + "x" : ""} |`);
  }
}
console.log("\ntargets: Gitway under 2000 ms and under 500 MB peak RSS");
