import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Third-party test data (oasdiff's fixture pairs, the OpenAPI test documents, large real
 * descriptions) is not ours to redistribute, so it stays out of the repository. It is read from
 * GITWAY_CORPUS_DIR, else from the workplace's ../shared/corpus beside the clone when it exists.
 * These files (test/corpus/) are the only ones allowed to know that default.
 */
function locate(): string | undefined {
  const given = process.env.GITWAY_CORPUS_DIR;
  if (given) return existsSync(given) ? given : undefined;
  const beside = fileURLToPath(new URL("../../../shared/corpus/", import.meta.url));
  return existsSync(beside) ? beside : undefined;
}

/** The corpus folder, or undefined when there is none. */
export const CORPUS_DIR = locate();

/** Where the corpus was looked for, for the line that says it was not found. */
export const CORPUS_LOOKED_AT = process.env.GITWAY_CORPUS_DIR || "GITWAY_CORPUS_DIR (unset) and ../shared/corpus beside the clone";

/** The corpus's parts and what each one feeds. */
export const CORPUS_PARTS = {
  "oas-tests": "the OpenAPI test documents (OAI and Mermade)",
  oasdiff: "oasdiff's fixture pairs",
  real: "the large real descriptions (Stripe, GitHub, APIs.guru)",
} as const;

/** A part of the corpus, or undefined when it is absent. */
export function corpusPart(name: keyof typeof CORPUS_PARTS): string | undefined {
  if (!CORPUS_DIR) return undefined;
  const dir = join(CORPUS_DIR, name);
  return existsSync(dir) ? dir : undefined;
}
