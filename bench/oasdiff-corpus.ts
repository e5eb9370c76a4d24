/** Recall and false alarms of Gitway's differ over oasdiff's own fixture pairs (the oasdiff folder of GITWAY_CORPUS_DIR). */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readConfig, type Snapshot } from "../src/config/index.js";
import { diffConfigs, type ChangeReport } from "../src/diff/index.js";
import { readDirectorySnapshot } from "../src/git/index.js";

export interface ExpectedPair {
  base: string;
  revision: string;
  expected_ids: string[];
  expected_levels: string[];
  ids_complete: boolean;
  config_overrides: boolean;
  checks_enabled: string;
  source_test: string;
}

export interface CorpusResult {
  recallPairs: number;
  recalled: number;
  falseAlarmPairs: number;
  falseAlarms: number;
  misses: { pair: ExpectedPair; report: ChangeReport | string }[];
  alarms: { pair: ExpectedPair; report: ChangeReport }[];
  ms: number;
}

export function diffFiles(snapshot: Snapshot, base: string, head: string): ChangeReport | string {
  const b = readConfig(snapshot, { openapi: base });
  const h = readConfig(snapshot, { openapi: head });
  if (!b.config || !h.config) return "unreadable: " + [...b.diagnostics, ...h.diagnostics].filter((d) => d.severity === "error").slice(0, 2).map((d) => `${d.file}:${d.line} ${d.rule} ${d.message}`).join("; ");
  return diffConfigs(b.config, h.config, { now: Date.parse("2026-11-23") });
}

export async function runOasdiffCorpus(corpusDir: string): Promise<CorpusResult> {
  const root = join(corpusDir, "oasdiff");
  const pairs = JSON.parse(readFileSync(join(root, "expected.json"), "utf8")) as ExpectedPair[];
  // The corpus is a folder of several hundred fixture specs, not one repository's gateway config: the
  // caps that guard a pushed commit do not apply to it.
  const snapshot = await readDirectorySnapshot(root, { maxFileBytes: 32 * 1024 * 1024, maxFiles: 10_000, maxTotalBytes: 1024 * 1024 * 1024 });
  const started = performance.now();
  const result: CorpusResult = { recallPairs: 0, recalled: 0, falseAlarmPairs: 0, falseAlarms: 0, misses: [], alarms: [], ms: 0 };
  for (const pair of pairs) {
    const wantsBreak = pair.expected_levels.includes("ERR") && !pair.config_overrides;
    const quiet = pair.ids_complete && pair.expected_levels.every((l) => l === "INFO");
    if (!wantsBreak && !quiet) continue;
    const report = diffFiles(snapshot, pair.base, pair.revision);
    const breaking = typeof report !== "string" && report.summary.breaking > 0;
    if (wantsBreak) {
      result.recallPairs++;
      if (breaking) result.recalled++;
      else result.misses.push({ pair, report });
    }
    if (quiet) {
      result.falseAlarmPairs++;
      if (breaking && typeof report !== "string") {
        result.falseAlarms++;
        result.alarms.push({ pair, report });
      }
    }
  }
  result.ms = performance.now() - started;
  return result;
}
