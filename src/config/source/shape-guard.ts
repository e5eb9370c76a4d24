import { joinPointer } from "../pointer.js";

/**
 * YAML aliases can build cycles and any parser can build deep trees; later stages walk values
 * recursively (schema validation, diff), so both are refused here, without recursion of our own.
 */
export function findShapeProblem(root: unknown, maxDepth: number): { kind: "cycle" | "deep"; pointer: string } | undefined {
  type Entry = { node: unknown; depth: number; pointer: string; exit: boolean };
  const stack: Entry[] = [{ node: root, depth: 0, pointer: "", exit: false }];
  const active = new Set<object>();
  const done = new Set<object>();
  while (stack.length > 0) {
    const e = stack.pop()!;
    if (e.node === null || typeof e.node !== "object") continue;
    const obj = e.node;
    if (e.exit) {
      active.delete(obj);
      done.add(obj);
      continue;
    }
    if (active.has(obj)) return { kind: "cycle", pointer: e.pointer };
    if (done.has(obj)) continue;
    if (e.depth >= maxDepth) return { kind: "deep", pointer: e.pointer };
    active.add(obj);
    stack.push({ node: obj, depth: e.depth, pointer: e.pointer, exit: true });
    for (const [k, v] of Object.entries(obj)) {
      if (v !== null && typeof v === "object") stack.push({ node: v, depth: e.depth + 1, pointer: joinPointer(e.pointer, k), exit: false });
    }
  }
  return undefined;
}
