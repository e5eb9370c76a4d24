import { posix } from "node:path";
import { diagnostic, type Diagnostic, type Position, type RuleId } from "./diagnostics.js";
import { getAtPointer, parsePointer } from "./pointer.js";
import { DEFAULT_LIMITS, parseSource, type ReadLimits, type SourceFile } from "./source/source-file.js";
import { normalizeRepoPath, type Snapshot } from "./snapshot.js";

/** A node's place: the file and JSON pointer it came from. */
export interface Location {
  file: string;
  pointer: string;
}

export type RefResult = { ok: true; value: unknown; location: Location } | { ok: false; rule: RuleId; message: string };

const MAX_REF_HOPS = 64;

/**
 * The parsed files of a snapshot, parsed once on first use, and $ref resolution between them.
 * A $ref may name another file of the snapshot; a URL or a path out of the repository is refused
 * without being read, so a pull request cannot make Gitway fetch or read anything else.
 */
export class DocumentSet {
  private readonly files = new Map<string, SourceFile | null>();
  private readonly resolved = new Map<string, RefResult>();
  readonly diagnostics: Diagnostic[] = [];

  constructor(
    readonly snapshot: Snapshot,
    readonly limits: ReadLimits = DEFAULT_LIMITS,
  ) {}

  has(path: string): boolean {
    return this.snapshot.has(path);
  }

  /** The parsed file, or undefined when it is missing or unusable (its diagnostics are recorded once). */
  get(path: string): SourceFile | undefined {
    const cached = this.files.get(path);
    if (cached !== undefined) return cached ?? undefined;
    const content = this.snapshot.get(path);
    if (content === undefined) return undefined;
    const { file, diagnostics } = parseSource(path, content, this.limits);
    this.diagnostics.push(...diagnostics);
    this.files.set(path, file ?? null);
    return file;
  }

  locate(location: Location, part: "key" | "value" = "value"): Position {
    return this.files.get(location.file)?.locate(location.pointer, part) ?? { line: 1, column: 1 };
  }

  /** A diagnostic placed at a node. */
  at(rule: RuleId, message: string, location: Location, part: "key" | "value" = "value"): Diagnostic {
    return diagnostic(rule, message, { file: location.file, pointer: location.pointer, ...this.locate(location, part) });
  }

  /**
   * Resolves one $ref string written in `fromFile`. Remembered per file and $ref text: a large
   * description's few thousand $refs are followed hundreds of thousands of times by the checks and the diff.
   */
  resolve(fromFile: string, ref: unknown): RefResult {
    if (typeof ref !== "string") return this.resolveOnce(fromFile, ref);
    const key = fromFile + "\u0000" + ref;
    let result = this.resolved.get(key);
    if (result === undefined) this.resolved.set(key, (result = this.resolveOnce(fromFile, ref)));
    return result;
  }

  private resolveOnce(fromFile: string, ref: unknown): RefResult {
    if (typeof ref !== "string") return { ok: false, rule: "ref-invalid", message: "$ref must be a string" };
    if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(ref) || ref.startsWith("//")) {
      return { ok: false, rule: "ref-external-url", message: `$ref ${JSON.stringify(ref)} points to a URL; Gitway never fetches one. Copy the schema into the repository and refer to it by a relative path` };
    }
    const hash = ref.indexOf("#");
    const filePart = hash === -1 ? ref : ref.slice(0, hash);
    const fragment = hash === -1 ? "" : ref.slice(hash);
    let target = fromFile;
    if (filePart !== "") {
      let decoded = filePart;
      try {
        decoded = decodeURIComponent(filePart);
      } catch {
        return { ok: false, rule: "ref-invalid", message: `$ref ${JSON.stringify(ref)} is not a valid URI reference` };
      }
      const joined = normalizeRepoPath(posix.join(posix.dirname(fromFile), decoded));
      if (joined === undefined || decoded.startsWith("/")) {
        return { ok: false, rule: "ref-outside-repository", message: `$ref ${JSON.stringify(ref)} points outside the repository; it was not read` };
      }
      target = joined;
      if (!this.has(target)) return { ok: false, rule: "ref-not-found", message: `$ref ${JSON.stringify(ref)}: file ${target} does not exist in this commit` };
    }
    const segments = parsePointer(fragment);
    if (segments === undefined) {
      return { ok: false, rule: "ref-invalid", message: `$ref ${JSON.stringify(ref)}: the fragment must be a JSON pointer such as #/components/schemas/Name` };
    }
    const file = this.get(target);
    if (file === undefined) return { ok: false, rule: "ref-not-found", message: `$ref ${JSON.stringify(ref)}: ${target} could not be read (see its own diagnostics)` };
    const value = getAtPointer(file.value, segments);
    if (value === undefined) return { ok: false, rule: "ref-not-found", message: `$ref ${JSON.stringify(ref)} points to nothing: ${fragment || "#"} does not exist in ${target}` };
    return { ok: true, value, location: { file: target, pointer: fragment.replace(/^#/, "") } };
  }

  /** Follows $ref chains from a node; stops (undefined) on a broken or circular chain. */
  deref(value: unknown, location: Location): { value: unknown; location: Location } | undefined {
    let current = { value, location };
    for (let hop = 0; hop < MAX_REF_HOPS; hop++) {
      const ref = refOf(current.value);
      if (ref === undefined) return current;
      const next = this.resolve(current.location.file, ref);
      if (!next.ok) return undefined;
      current = { value: next.value, location: next.location };
    }
    return undefined;
  }
}

/** The $ref string of a Reference Object, if the node is one. */
export function refOf(node: unknown): string | undefined {
  if (node !== null && typeof node === "object" && !Array.isArray(node) && Object.hasOwn(node, "$ref")) {
    const ref = (node as { $ref: unknown }).$ref;
    return typeof ref === "string" ? ref : undefined;
  }
  return undefined;
}
