import { diagnostic, type Diagnostic, type Position } from "../diagnostics.js";
import { decodeText } from "./decode.js";
import { ContainerSpans, JsonLocator, scanJson } from "./json-source.js";
import { LineIndex } from "./line-index.js";
import { findShapeProblem } from "./shape-guard.js";
import { parseYaml } from "./yaml-source.js";

export interface ReadLimits {
  /** Larger files get one diagnostic and are not parsed. */
  maxFileBytes: number;
  maxDepth: number;
  maxAliasCount: number;
}

export const DEFAULT_LIMITS: ReadLimits = {
  maxFileBytes: 32 * 1024 * 1024,
  maxDepth: 256,
  maxAliasCount: 1000,
};

/** A parsed JSON or YAML file whose nodes can be placed at line and column. */
export interface SourceFile {
  path: string;
  value: unknown;
  locate(pointer: string, part?: "key" | "value"): Position;
}

/** A file's bytes or text; `{ size }` stands for a file the reader did not load because it is over the limit. */
export type FileContent = string | Uint8Array | { size: number };

export function isYamlPath(path: string): boolean {
  return /\.ya?ml$/i.test(path);
}

/** Parses one file; a file is returned only when its value can be trusted by later stages. */
export function parseSource(path: string, content: FileContent, limits: ReadLimits = DEFAULT_LIMITS): { file?: SourceFile; diagnostics: Diagnostic[] } {
  const decoded = decodeText(content, limits.maxFileBytes);
  if (!("text" in decoded)) return { diagnostics: [diagnostic(decoded.rule, decoded.message, { file: path })] };
  const text = decoded.text;
  const json = !isYamlPath(path) && (/\.json$/i.test(path) || /^\s*[{[]/.test(text));
  return json ? parseJsonSource(path, text, limits) : parseYamlSource(path, text, limits);
}

function parseJsonSource(path: string, text: string, limits: ReadLimits): { file?: SourceFile; diagnostics: Diagnostic[] } {
  const spans = new ContainerSpans();
  const problems = scanJson(text, limits.maxDepth, spans);
  const lines = new LineIndex(text);
  const diagnostics = problems.map((p) => {
    const message = p.firstOffset === undefined ? p.message : p.message.replace(/: JSON parsers/, ` (first defined at line ${lines.position(p.firstOffset).line}): JSON parsers`);
    return diagnostic(p.rule, message, { file: path, pointer: p.pointer, ...lines.position(p.offset) });
  });
  if (problems.some((p) => p.rule !== "duplicate-key")) return { diagnostics };
  const locator = new JsonLocator(text, spans);
  return {
    file: { path, value: JSON.parse(text) as unknown, locate: (pointer, part) => locator.locate(pointer, part) },
    diagnostics,
  };
}

function parseYamlSource(path: string, text: string, limits: ReadLimits): { file?: SourceFile; diagnostics: Diagnostic[] } {
  const parsed = parseYaml(text, limits.maxAliasCount, limits.maxDepth);
  const diagnostics = parsed.problems.map((p) => diagnostic(p.rule, p.message, { file: path, ...p.position, ...(p.pointer !== undefined ? { pointer: p.pointer } : {}) }));
  if (!parsed.usable) return { diagnostics };
  const shape = findShapeProblem(parsed.value, limits.maxDepth);
  if (shape) {
    const message = shape.kind === "cycle" ? "A YAML alias refers to a node that contains it, making the document infinite" : `Nesting is deeper than ${limits.maxDepth} levels`;
    const rule = shape.kind === "cycle" ? "yaml-alias-limit" : "nesting-too-deep";
    diagnostics.push(diagnostic(rule, message, { file: path, pointer: shape.pointer, ...parsed.locate(shape.pointer) }));
    return { diagnostics };
  }
  return { file: { path, value: parsed.value, locate: parsed.locate }, diagnostics };
}
