/**
 * npm run bench (after npm run build):
 *  1. `gitway validate` as a user runs it (the built command, a fresh process timed from outside)
 *     on GitHub's REST API description and GitHub Enterprise Server 3.18 (11-13 MB JSON), beside the
 *     floor (a node process that only reads the file and JSON.parses it), as ratios: the machine's
 *     load moves both alike, so the ratios are what to compare between runs;
 *  2. Gitway's validation inside one process and, as the reference, swagger-parser's validate(),
 *     each run in a fresh process; medians of 5 runs.
 */
import { spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { median, octokitSpec } from "./bench-data.js";
import { builtCli, figuresRow, measureCli, measureFloor } from "./cli-runs.js";

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

const specs = ["api.github.com", "ghes-3.18"];
builtCli();
console.log(`gitway validate as a user runs it: ${RUNS} runs each, fresh process timed from outside, medians; ratios to the floor of the same run\n`);
console.log("| description | size | command | wall ms median (runs) | CPU ms median | peak RSS MB | wall vs floor | CPU vs floor |");
console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
for (const name of specs) {
  const file = octokitSpec(name);
  const size = `${(statSync(file).size / 1e6).toFixed(1)} MB`;
  const floor = measureFloor([file], RUNS);
  console.log(figuresRow([name, size, "gitway validate (built)"], measureCli(["validate", file], RUNS), floor));
  console.log(figuresRow([name, size, "floor: node, read + JSON.parse"], floor, floor));
}
console.log("\ntargets: gitway validate on GHES 3.18 within 1000 ms wall and 300 MB peak RSS on a quiet machine\n");
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
console.log("\n(wall ms inside the process: the modules are loaded by tsx from the sources, so the OpenAPI schema validator is compiled in each run, as it is not in the built command)");
