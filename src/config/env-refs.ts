import type { Diagnostic } from "./diagnostics.js";
import type { DocumentSet, Location } from "./documents.js";
import type { EnvReference } from "./model.js";
import { joinPointer } from "./pointer.js";

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `$env(NAME)` occurrences in one string; malformed ones are returned as problems. */
export function envNamesIn(text: string): { names: string[]; problems: string[] } {
  const names: string[] = [];
  const problems: string[] = [];
  let from = 0;
  for (;;) {
    const start = text.indexOf("$env(", from);
    if (start === -1) break;
    const end = text.indexOf(")", start);
    if (end === -1) {
      problems.push(`"${text.slice(start)}" has no closing parenthesis`);
      break;
    }
    const name = text.slice(start + 5, end).trim();
    if (ENV_NAME.test(name)) names.push(name);
    else problems.push(`"$env(${name})" is not a valid variable name (letters, digits and _, not starting with a digit)`);
    from = end + 1;
  }
  return { names, problems };
}

/** Walks option values and records every `$env(NAME)`, in order, with where it was written. */
export function collectEnv(docs: DocumentSet, value: unknown, at: Location, into: EnvReference[], diagnostics: Diagnostic[]): void {
  const stack: { v: unknown; pointer: string }[] = [{ v: value, pointer: at.pointer }];
  while (stack.length > 0) {
    const { v, pointer } = stack.pop()!;
    if (typeof v === "string") {
      if (!v.includes("$env(")) continue;
      const { names, problems } = envNamesIn(v);
      for (const name of names) into.push({ name, location: { file: at.file, pointer } });
      for (const p of problems) diagnostics.push(docs.at("env-reference-invalid", p, { file: at.file, pointer }));
    } else if (v !== null && typeof v === "object") {
      for (const [k, child] of Object.entries(v)) stack.push({ v: child, pointer: joinPointer(pointer, k) });
    }
  }
}

/** The distinct names, in first-seen order. */
export function envNames(refs: readonly EnvReference[]): string[] {
  return [...new Set(refs.map((r) => r.name))];
}
