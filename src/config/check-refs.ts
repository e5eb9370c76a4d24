import type { Diagnostic, RuleId } from "./diagnostics.js";
import type { DocumentSet } from "./documents.js";
import { joinPointer } from "./pointer.js";

/** Keys whose values are literal data (examples, defaults), where "$ref" is just a property name. */
const DATA_KEYS = new Set(["example", "default", "enum", "const"]);

/**
 * Resolves every $ref in the given files and in the files they reach, reporting each broken,
 * external or circular one at the $ref itself. Iterative, so hostile nesting cannot overflow.
 */
export function checkRefs(docs: DocumentSet, roots: readonly string[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const queued = new Set(roots);
  const queue = [...roots];
  while (queue.length > 0) {
    const path = queue.shift()!;
    const file = docs.get(path);
    if (!file) continue;
    const verdicts = new Map<string, { target: string; endless: boolean } | { rule: RuleId; message: string }>();
    const stack: Visit[] = [{ node: file.value, key: "", parent: undefined, pointer: "" }];
    while (stack.length > 0) {
      const visit = stack.pop()!;
      const node = visit.node;
      if (node === null || typeof node !== "object") continue;
      const isArray = Array.isArray(node);
      // Under "properties" (and other name-keyed maps) "$ref" is a property's name, as in SCIM schemas.
      const named = !isArray && visit.parent !== undefined && NAME_KEYED.has(visit.key);
      const inExamples = visit.key !== "" && visit.parent?.key === "examples" && visit.parent.parent !== undefined;
      for (const key in node) {
        const child = (node as Record<string, unknown>)[key];
        if (!isArray && key === "$ref" && !named) {
          const at = { file: path, pointer: joinPointer(pointerOf(visit), key) };
          // A large description repeats the same few thousand $refs; each resolves the same way wherever it is written in one file.
          const ref = typeof child === "string" ? child : undefined;
          let verdict = ref === undefined ? undefined : verdicts.get(ref);
          if (verdict === undefined) {
            const result = docs.resolve(path, child);
            verdict = result.ok ? { target: result.location.file, endless: docs.deref(node, { file: path, pointer: pointerOf(visit) }) === undefined } : result;
            if (ref !== undefined) verdicts.set(ref, verdict);
          }
          if ("rule" in verdict) {
            out.push(docs.at(verdict.rule, verdict.message, at));
          } else {
            if (!queued.has(verdict.target)) {
              queued.add(verdict.target);
              queue.push(verdict.target);
            }
            if (verdict.endless) {
              out.push(docs.at("ref-invalid", `$ref ${JSON.stringify(child)} starts a chain of references that never reaches a value (circular)`, at));
            }
          }
          continue;
        }
        if (!isArray && DATA_KEYS.has(key) && !named) continue;
        if (!isArray && key === "value" && inExamples) continue;
        if (child !== null && typeof child === "object") stack.push({ node: child, key, parent: visit, pointer: undefined });
      }
    }
  }
  return out;
}

/** Maps keyed by names: "properties/example" or "properties/default" is a property named so, not example data. */
const NAME_KEYED = new Set(["properties", "patternProperties", "$defs", "definitions", "schemas", "parameters", "responses", "headers", "requestBodies", "securitySchemes", "links", "callbacks", "pathItems"]);

/** A node on the walk; its pointer is spelled out only when a $ref there needs reporting or resolving. */
interface Visit {
  node: unknown;
  key: string;
  parent: Visit | undefined;
  pointer: string | undefined;
}

function pointerOf(v: Visit): string {
  if (v.pointer === undefined) v.pointer = joinPointer(pointerOf(v.parent!), v.key);
  return v.pointer;
}
