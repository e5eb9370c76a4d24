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
    const stack: { node: unknown; pointer: string }[] = [{ node: file.value, pointer: "" }];
    while (stack.length > 0) {
      const { node, pointer } = stack.pop()!;
      if (node === null || typeof node !== "object") continue;
      const isArray = Array.isArray(node);
      for (const [key, child] of Object.entries(node)) {
        const childPointer = joinPointer(pointer, key);
        // Under "properties" (and other name-keyed maps) "$ref" is a property's name, as in SCIM schemas.
        if (!isArray && key === "$ref" && !isNamedMember(pointer)) {
          const at = { file: path, pointer: childPointer };
          // A large description repeats the same few thousand $refs; each resolves the same way wherever it is written in one file.
          const key = typeof child === "string" ? child : undefined;
          let verdict = key === undefined ? undefined : verdicts.get(key);
          if (verdict === undefined) {
            const result = docs.resolve(path, child);
            verdict = result.ok ? { target: result.location.file, endless: docs.deref(node, { file: path, pointer }) === undefined } : result;
            if (key !== undefined) verdicts.set(key, verdict);
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
        if (!isArray && DATA_KEYS.has(key) && !isNamedMember(pointer)) continue;
        if (!isArray && key === "value" && /\/examples\/[^/]+$/.test(pointer)) continue;
        stack.push({ node: child, pointer: childPointer });
      }
    }
  }
  return out;
}

/** "properties/example" or "properties/default" is a property named so, not example data. */
function isNamedMember(pointer: string): boolean {
  return /\/(properties|patternProperties|\$defs|definitions|schemas|parameters|responses|headers|requestBodies|securitySchemes|links|callbacks|pathItems)$/.test(pointer);
}
