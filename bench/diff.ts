/**
 * npm run bench:diff
 *  1. recall and false alarms over oasdiff's fixture pairs (in GITWAY_CORPUS_DIR/oasdiff), with the
 *     pairs missed and the false alarms listed;
 *  2. real version pairs (Stripe, GitHub, Adyen, GitHub Enterprise Server 3.17 -> 3.18, 11 MB each):
 *     Gitway grouped at the source (what it reports) side by side with Gitway ungrouped (one change
 *     per operation, as before) and openapi-diff: wall time, peak RSS, report entries and markdown
 *     size; fresh process per run;
 *     and the floor (reading both files and JSON.parse alone), then the report's entries, breaking
 *     entries, markdown size and time beside the figures before issue 20;
 *  3. `gitway diff --format markdown` as a user runs it (the built command: npm run build first),
 *     timed from outside, beside the floor process (node reading both files and JSON.parse), as ratios;
 *  4. GHES counts by rule id and the breaking changes for a hand check.
 * openapi-diff runs with a 4 GB heap cap, a time limit, and no network.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CACHE, corpusDir, median, octokitSpec } from "./bench-data.js";
import { builtCli, figuresRow, measureCli, measureFloor } from "./cli-runs.js";
import { runOasdiffCorpus } from "./oasdiff-corpus.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 120_000);
const worker = fileURLToPath(new URL("./diff-worker.ts", import.meta.url));
const guard = fileURLToPath(new URL("./no-network.ts", import.meta.url));

/**
 * The figures before issue 20's report work (commit a3a6036, same machine, fresh process, one run
 * under load, so read the CPU time): what the report looked like to a reviewer, to read the new ones against.
 */
const PREVIOUS: Record<string, { entries: number; breaking: number; markdownChars: number; ms: number; cpuMs: number }> = {
  "Stripe v81 -> v127": { entries: 516, breaking: 6, markdownChars: 19_363, ms: 2019, cpuMs: 2717 },
  "GitHub 2021-03 -> 2021-10": { entries: 1028, breaking: 274, markdownChars: 59_688, ms: 1466, cpuMs: 1654 },
};

interface Run {
  ms: number;
  cpuMs: number;
  maxRssMB: number;
  summary?: Record<string, number>;
  entries?: number;
  breakingEntries?: number;
  markdownChars?: number;
  byRule?: Record<string, number>;
  breaking?: string[];
  error?: string;
}

function once(engine: string, base: string, head: string): Run | string {
  const heap = engine === "openapi-diff" ? ["--max-old-space-size=4096"] : [];
  const r = spawnSync(process.execPath, [...heap, "--import", "tsx", "--import", guard, worker, engine, base, head], { encoding: "utf8", timeout: TIMEOUT_MS, maxBuffer: 64 << 20 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === "ETIMEDOUT") return `still running after ${TIMEOUT_MS / 1000} s (stopped)`;
  if (r.status !== 0) {
    const tail = r.stderr.split("\n").filter((l) => /heap|memory|refused|Error/i.test(l)).slice(0, 2).join(" ").slice(0, 160);
    return r.signal ? `killed (${r.signal})` : `crashed: ${tail || `exit ${r.status}`}`;
  }
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as Run;
}

function measure(engine: string, base: string, head: string, runs: number): { runs: Run[] } | { failure: string } {
  const out: Run[] = [];
  for (let i = 0; i < runs; i++) {
    const r = once(engine, base, head);
    if (typeof r === "string") return { failure: r };
    if (r.error) return { failure: `error: ${r.error}` };
    out.push(r);
  }
  return { runs: out };
}

function row(label: string, engine: string, m: { runs: Run[] } | { failure: string }, reference?: number): string {
  if ("failure" in m) return `| ${label} | ${engine} | ${m.failure} | | | | | | |`;
  const ms = median(m.runs.map((r) => r.ms));
  const first = m.runs[0]!;
  const findings = Object.entries(first.summary ?? {}).map(([k, v]) => `${k} ${v}`).join(", ");
  const runs = m.runs.map((r) => r.ms.toFixed(0)).join("/");
  const cpu = median(m.runs.map((r) => r.cpuMs));
  return `| ${label} | ${engine} | ${ms.toFixed(0)} (${runs}) | ${cpu.toFixed(0)} | ${Math.max(...m.runs.map((r) => r.maxRssMB)).toFixed(0)} | ${first.entries ?? ""} | ${first.markdownChars ?? ""} | ${findings} | ${reference ? (ms / reference).toFixed(2) + "x" : "1.00x"} |`;
}

// 1. oasdiff's corpus
const CORPUS = corpusDir();
builtCli();
const corpus = await runOasdiffCorpus(CORPUS);
console.log("## oasdiff fixture corpus\n");
console.log(`recall:       ${corpus.recalled}/${corpus.recallPairs} = ${(corpus.recalled / corpus.recallPairs).toFixed(3)}  (target >= 0.95)`);
console.log(`false alarms: ${corpus.falseAlarms}/${corpus.falseAlarmPairs} = ${(corpus.falseAlarms / corpus.falseAlarmPairs).toFixed(3)}  (target <= 0.05)`);
console.log(`wall time:    ${corpus.ms.toFixed(0)} ms for all pairs\n`);
for (const m of corpus.misses) console.log(`  missed: ${m.pair.expected_ids.join(", ")}  ${m.pair.base} -> ${m.pair.revision}`);
for (const a of corpus.alarms) {
  const c = a.report.changes.find((x) => x.level === "breaking");
  console.log(`  alarm:  ${a.pair.base} -> ${a.pair.revision} (${a.pair.checks_enabled}): ${c ? `${c.rule}: ${c.message}` : ""}`);
}

// 2 and 3: real pairs, side by side
const real = join(CORPUS, "real");
const pairs: [string, string, string][] = [
  ["Stripe v81 -> v127", join(real, "stripe/spec3.v81.json"), join(real, "stripe/spec3.v127.json")],
  ["GitHub 2021-03 -> 2021-10", join(real, "github/api.github.com.2021-03-24.json"), join(real, "github/api.github.com.2021-10-10.json")],
  ["Adyen Checkout 37 -> 46", join(real, "apis-guru/adyen.com_CheckoutService_37.openapi.yaml"), join(real, "apis-guru/adyen.com_CheckoutService_46.openapi.yaml")],
  ["GHES 3.17 -> 3.18", octokitSpec("ghes-3.17"), octokitSpec("ghes-3.18")],
];
console.log(`\n## real version pairs (fresh process per run; median of ${RUNS} for Gitway, 1 run of openapi-diff; ratio vs Gitway grouped)\n`);
console.log("| pair | engine | wall ms median (runs) | CPU ms median | peak RSS MB | report entries | markdown chars | findings | vs grouped (wall) |");
console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
const details: Record<string, Run> = {};
const floors: Record<string, number> = {};
for (const [label, base, head] of pairs) {
  const g = measure("gitway", base, head, RUNS);
  const gms = "runs" in g ? median(g.runs.map((r) => r.ms)) : undefined;
  console.log(row(label, "gitway (grouped)", g));
  console.log(row(label, "gitway ungrouped", measure("gitway-ungrouped", base, head, RUNS), gms));
  if (process.env.BENCH_SKIP_OPENAPI_DIFF !== "1") console.log(row(label, "openapi-diff", measure("openapi-diff", base, head, 1), gms));
  const floor = measure("floor", base, head, RUNS);
  // CPU time: 2 cores shared with other work make wall times swing tenfold; CPU time does not.
  if ("runs" in floor && base.endsWith(".json")) floors[label] = median(floor.runs.map((r) => r.cpuMs));
  console.log(row(label, "floor (read + JSON.parse)", floor, gms));
  if ("runs" in g) details[label] = { ...g.runs[0]!, ms: gms!, cpuMs: median(g.runs.map((r) => r.cpuMs)) };
}
console.log(`load average when done: ${loadavg().map((x) => x.toFixed(1)).join(" ")} on ${availableParallelism()} cores (wall time grows with it; CPU time does not)`);
console.log("\ntargets: Gitway grouped: GHES 3.17 -> 3.18 under 3000 ms and 1024 MB, Stripe under 3000 ms; markdown within 65,535 characters\n");
console.log("## the report a reviewer reads, beside the previous figures\n");
console.log("| pair | entries (before) | breaking entries (before) | markdown chars (before) | wall ms median (before) | CPU ms median (before) | CPU vs floor (JSON only) |");
console.log("| --- | --- | --- | --- | --- | --- | --- |");
for (const [label, run] of Object.entries(details)) {
  const before = PREVIOUS[label];
  const was = (v: number | undefined) => (v === undefined ? "" : ` (${v})`);
  const floor = floors[label];
  console.log(`| ${label} | ${run.entries}${was(before?.entries)} | ${run.breakingEntries}${was(before?.breaking)} | ${run.markdownChars}${was(before?.markdownChars)} | ${run.ms.toFixed(0)}${was(before?.ms)} | ${run.cpuMs.toFixed(0)}${was(before?.cpuMs)} | ${floor ? `${(run.cpuMs / floor).toFixed(1)}x` : ""} |`);
}
console.log(`\n## gitway diff as a user runs it (built command, --format markdown; fresh process timed from outside, median of ${RUNS}; ratios to the floor of the same run)\n`);
console.log("| pair | command | wall ms median (runs) | CPU ms median | peak RSS MB | wall vs floor | CPU vs floor |");
console.log("| --- | --- | --- | --- | --- | --- | --- |");
for (const [label, base, head] of pairs.filter(([, b]) => b.endsWith(".json"))) {
  const floor = measureFloor([base, head], RUNS);
  console.log(figuresRow([label, "gitway diff (built)"], measureCli(["diff", base, head, "--format", "markdown"], RUNS), floor));
  console.log(figuresRow([label, "floor: node, read both + JSON.parse"], floor, floor));
}
console.log("\ntargets: gitway diff GHES 3.17 -> 3.18 within 1200 ms wall and 400 MB peak RSS on a quiet machine\n");
const ghes = details["GHES 3.17 -> 3.18"];
if (ghes?.byRule) {
  console.log("## GHES 3.17 -> 3.18: changes by rule\n");
  for (const [rule, n] of Object.entries(ghes.byRule).sort((a, b) => b[1] - a[1])) console.log(`${String(n).padStart(6)}  ${rule}`);
  const file = join(CACHE, "ghes-3.17-3.18-breaking.txt");
  writeFileSync(file, (ghes.breaking ?? []).join("\n") + "\n");
  console.log(`\nbreaking changes listed in ${file}`);
}
