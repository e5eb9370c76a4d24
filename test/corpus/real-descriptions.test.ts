import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readConfig } from "../../src/config/index.js";
import { diffConfigs } from "../../src/diff/index.js";
import { readDirectorySnapshot } from "../../src/git/index.js";
import { corpusPart } from "./corpus-dir.js";

const REAL = corpusPart("real");

/** Defects the published descriptions really have, by file: Gitway must report these and only these. */
const REAL_DEFECTS: Record<string, string[]> = {
  // Query strings written into path keys ("/layers#find=LayerVersion&Arn"): no request path could match.
  "apis-guru/amazonaws.com_lambda_2015-03-31.openapi.yaml": ["path-template-invalid"],
  // Two operations each share an operationId with another.
  "apis-guru/shutterstock.com_1.0.16.openapi.yaml": ["operation-id-duplicate"],
};

const descriptions = REAL
  ? readdirSync(REAL)
      .sort()
      .flatMap((set) => readdirSync(join(REAL, set)).sort().filter((n) => /\.(json|ya?ml)$/.test(n)).map((n) => `${set}/${n}`))
  : [];

describe.skipIf(!REAL)("large real API descriptions", () => {
  it("are all there", () => {
    expect(descriptions.length).toBeGreaterThan(20);
  });

  it.each(descriptions)("%s reads as a plain-format config within 5 s, with only its known defects", async (rel) => {
    const [set, file] = rel.split("/") as [string, string];
    const snap = await readDirectorySnapshot(join(REAL!, set), 32 * 1024 * 1024);
    const started = performance.now();
    const { config, diagnostics } = readConfig(snap, { openapi: file });
    expect(performance.now() - started).toBeLessThan(5000);
    expect(config).toBeDefined();
    const rules = [...new Set(diagnostics.filter((d) => d.severity === "error").map((d) => d.rule))];
    expect(rules).toEqual(REAL_DEFECTS[rel] ?? []);
  });

  it("diffs a real version series (Adyen Checkout 37 -> 46) within 5 s and finds the breaking changes it made", async () => {
    const snap = await readDirectorySnapshot(join(REAL!, "apis-guru"), 32 * 1024 * 1024);
    const base = readConfig(snap, { openapi: "adyen.com_CheckoutService_37.openapi.yaml" }).config!;
    const head = readConfig(snap, { openapi: "adyen.com_CheckoutService_46.openapi.yaml" }).config!;
    const started = performance.now();
    const report = diffConfigs(base, head, { now: Date.parse("2026-11-23") });
    expect(performance.now() - started).toBeLessThan(5000);
    expect(report.summary.breaking).toBeGreaterThan(0);
    expect(report.changes.length).toBeGreaterThan(report.summary.breaking);
  });
});
