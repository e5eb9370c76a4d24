import { CORPUS_DIR, CORPUS_LOOKED_AT, CORPUS_PARTS, corpusPart } from "./corpus-dir.js";

/** Says in one line what `npm run test:corpus` skips and why; in CI a missing corpus is a failure. */
export default function setup(): void {
  const missing = (Object.keys(CORPUS_PARTS) as (keyof typeof CORPUS_PARTS)[]).filter((p) => !corpusPart(p));
  if (missing.length === 0) return;
  const what = missing.map((p) => CORPUS_PARTS[p]).join(", ");
  const why = CORPUS_DIR ? `${CORPUS_DIR} has no ${missing.join(", ")} folder` : `no corpus at ${CORPUS_LOOKED_AT}`;
  const line = `test:corpus: skipped ${what}: ${why}`;
  if (process.env.CI === "true") throw new Error(`${line} (CI needs the corpus: set GITWAY_CORPUS_DIR)`);
  process.stdout.write(line + "\n");
}
