import { describe, expect, it } from "vitest";
import { runOasdiffCorpus } from "../../bench/oasdiff-corpus.js";
import { CORPUS_DIR, corpusPart } from "./corpus-dir.js";

// oasdiff's own fixture pairs, judged as its expected.json says (see bench/oasdiff-corpus.ts).
describe.skipIf(!corpusPart("oasdiff"))("oasdiff's fixture pairs", () => {
  it("are recalled at 95 % or more with at most 5 % false alarms", async () => {
    const result = await runOasdiffCorpus(CORPUS_DIR!);
    expect(result.recallPairs).toBeGreaterThan(50);
    expect(result.recalled / result.recallPairs, result.misses.map((m) => `${m.pair.base} -> ${m.pair.revision}`).join("\n")).toBeGreaterThanOrEqual(0.95);
    expect(result.falseAlarms / result.falseAlarmPairs, result.alarms.map((a) => `${a.pair.base} -> ${a.pair.revision}`).join("\n")).toBeLessThanOrEqual(0.05);
  });
});
