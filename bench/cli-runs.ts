/**
 * The wall time a user waits for: the built `gitway` command (npm run build first) and the floor
 * (a `node` process that only reads the same files and JSON.parses them), each a fresh process
 * timed from outside, with CPU time and peak RSS reported by the process itself.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { median } from "./bench-data.js";

const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const USAGE = fileURLToPath(new URL("./process-usage.mjs", import.meta.url));
const FLOOR = 'for (const f of process.argv.slice(1)) JSON.parse(require("node:fs").readFileSync(f, "utf8"))';

export interface ProcessRun {
  ms: number;
  cpuMs: number;
  maxRssMB: number;
}

export interface ProcessFigures {
  ms: number;
  cpuMs: number;
  maxRssMB: number;
  runs: number[];
}

export function builtCli(): string {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (the benchmark measures the command a user runs)`);
  return CLI;
}

function once(args: string[], timeoutMs: number): ProcessRun | string {
  const started = performance.now();
  const r = spawnSync(process.execPath, ["--import", USAGE, ...args], { encoding: "utf8", timeout: timeoutMs, maxBuffer: 256 << 20 });
  const ms = performance.now() - started;
  if (r.error) return `failed: ${r.error.message}`;
  const line = r.stderr.split("\n").reverse().find((l) => l.startsWith("process-usage "));
  // Exit 1 means "the config has errors" or "breaking changes found": the run itself completed.
  if (!line || (r.status !== 0 && r.status !== 1)) return `exit ${r.status}: ${r.stderr.split("\n").filter(Boolean).slice(-2).join(" ").slice(0, 160)}`;
  return { ms, ...(JSON.parse(line.slice("process-usage ".length)) as { cpuMs: number; maxRssMB: number }) };
}

function repeat(args: string[], runs: number, timeoutMs: number): ProcessFigures | string {
  const out: ProcessRun[] = [];
  for (let i = 0; i < runs; i++) {
    const r = once(args, timeoutMs);
    if (typeof r === "string") return r;
    out.push(r);
  }
  return { ms: median(out.map((r) => r.ms)), cpuMs: median(out.map((r) => r.cpuMs)), maxRssMB: Math.max(...out.map((r) => r.maxRssMB)), runs: out.map((r) => r.ms) };
}

/** `gitway <args>` as built; files as large as the benchmark's are allowed. */
export function measureCli(args: string[], runs: number, timeoutMs = 120_000): ProcessFigures | string {
  return repeat([builtCli(), ...args, "--max-file-bytes", String(64 * 1024 * 1024)], runs, timeoutMs);
}

export function measureFloor(files: string[], runs: number, timeoutMs = 120_000): ProcessFigures | string {
  return repeat(["-e", FLOOR, ...files], runs, timeoutMs);
}

/** One table row: figures and the ratios to the floor measured in the same run. */
export function figuresRow(cells: string[], m: ProcessFigures | string, floor: ProcessFigures | string): string {
  if (typeof m === "string") return `| ${cells.join(" | ")} | ${m} | | | | |`;
  const ratio = (a: number, b: number | undefined) => (b ? `${(a / b).toFixed(2)}x` : "");
  const f = typeof floor === "string" ? undefined : floor;
  return `| ${cells.join(" | ")} | ${m.ms.toFixed(0)} (${m.runs.map((x) => x.toFixed(0)).join("/")}) | ${m.cpuMs.toFixed(0)} | ${m.maxRssMB.toFixed(0)} | ${ratio(m.ms, f?.ms)} | ${ratio(m.cpuMs, f?.cpuMs)} |`;
}
