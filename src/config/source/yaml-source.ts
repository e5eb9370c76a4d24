import { CST, isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, Parser, type Document, type Node } from "yaml";
import type { Position } from "../diagnostics.js";
import { joinPointer, parsePointer } from "../pointer.js";

export interface YamlProblem {
  rule: "yaml-syntax" | "duplicate-key" | "yaml-alias-limit" | "nesting-too-deep";
  message: string;
  position: Position;
  pointer?: string;
}

export interface ParsedYaml {
  value: unknown;
  problems: YamlProblem[];
  /** False when the value cannot be trusted (syntax errors, alias bomb). */
  usable: boolean;
  locate(pointer: string, part?: "key" | "value"): Position;
}

/** The library appends " at line L, column C:" and a code frame; the diagnostic carries the position itself. */
function firstLine(message: string): string {
  return message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
}

export function parseYaml(text: string, maxAliasCount: number, maxDepth: number): ParsedYaml {
  const lineCounter = new LineCounter();
  // Duplicate keys are found below, where the key, its first place and its pointer are known.
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: true, strict: true });
  const problems: YamlProblem[] = [];
  const at = (offset: number): Position => {
    const p = lineCounter.linePos(offset);
    return { line: p.line, column: p.col };
  };
  let usable = true;
  // The library's composer recurses, and reports its own stack overflow as one error per level at
  // a place that depends on the stack size; say instead where the nesting passes the limit.
  if (doc.errors.some((e) => e.code === "RESOURCE_EXHAUSTION")) {
    const offset = deepCollectionOffset(text, maxDepth) ?? doc.errors.find((e) => e.code === "RESOURCE_EXHAUSTION")!.pos[0];
    return { value: undefined, problems: [{ rule: "nesting-too-deep", message: `Nesting is deeper than ${maxDepth} levels`, position: at(offset) }], usable: false, locate: () => at(offset) };
  }
  for (const err of doc.errors) {
    const duplicate = err.code === "DUPLICATE_KEY";
    if (!duplicate) usable = false;
    problems.push({ rule: duplicate ? "duplicate-key" : "yaml-syntax", message: firstLine(err.message), position: at(err.pos[0]) });
  }
  if (usable) findDuplicateKeys(doc.contents, "", new Set(), (key, pointer, offset, firstOffset) => {
    problems.push({ rule: "duplicate-key", message: `Duplicate key ${JSON.stringify(key)} at ${pointer || "/"} (first defined at line ${at(firstOffset).line}): YAML parsers keep only one of them`, position: at(offset), pointer });
  });
  let value: unknown;
  if (usable) {
    try {
      value = doc.toJS({ maxAliasCount });
    } catch (e) {
      usable = false;
      const message = e instanceof ReferenceError ? `YAML aliases expand too far (more than ${maxAliasCount} alias uses): refusing to expand an alias bomb` : firstLine(String((e as Error).message));
      problems.push({ rule: e instanceof ReferenceError ? "yaml-alias-limit" : "yaml-syntax", message, position: { line: 1, column: 1 } });
    }
  }
  return {
    value,
    problems,
    usable,
    locate: (pointer, part = "value") => at(findOffset(doc, pointer, part)),
  };
}

/** Where a collection first sits `maxDepth` levels deep, walking the parser's syntax tree without recursion. */
function deepCollectionOffset(text: string, maxDepth: number): number | undefined {
  for (const token of new Parser().parse(text)) {
    if (token.type !== "document") continue;
    const stack: { node: CST.Token | null | undefined; depth: number }[] = [{ node: token.value, depth: 0 }];
    while (stack.length > 0) {
      const { node, depth } = stack.pop()!;
      if (!CST.isCollection(node)) continue;
      if (depth >= maxDepth) return node.offset;
      for (const item of node.items) stack.push({ node: item.value, depth: depth + 1 }, { node: item.key, depth: depth + 1 });
    }
  }
  return undefined;
}

function findOffset(doc: Document, pointer: string, part: "key" | "value"): number {
  let node: unknown = doc.contents;
  let keyOffset: number | undefined;
  let last = offsetOf(node) ?? 0;
  for (const seg of parsePointer(pointer) ?? []) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === seg);
      if (!pair) break;
      keyOffset = offsetOf(pair.key);
      node = pair.value;
    } else if (isSeq(node)) {
      const item = node.items[Number(seg)];
      if (item === undefined) break;
      keyOffset = undefined;
      node = item;
    } else {
      break;
    }
    last = offsetOf(node) ?? keyOffset ?? last;
  }
  return part === "key" && keyOffset !== undefined ? keyOffset : last;
}

function findDuplicateKeys(node: unknown, pointer: string, seen: Set<unknown>, report: (key: string, pointer: string, offset: number, firstOffset: number) => void): void {
  // Aliases are not followed: the node they name is checked where it is written.
  if (node === null || typeof node !== "object" || seen.has(node) || isAlias(node)) return;
  seen.add(node);
  if (isMap(node)) {
    const first = new Map<string, number>();
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const offset = offsetOf(pair.key) ?? 0;
      const child = joinPointer(pointer, key);
      const earlier = first.get(key);
      if (earlier !== undefined) report(key, child, offset, earlier);
      else first.set(key, offset);
      findDuplicateKeys(pair.value, child, seen, report);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => findDuplicateKeys(item, joinPointer(pointer, i), seen, report));
  }
}

function offsetOf(node: unknown): number | undefined {
  return node !== null && typeof node === "object" && "range" in node ? (node as Node).range?.[0] : undefined;
}
