/**
 * JSON with source positions, built for 10+ MB API descriptions: one iterative pass checks syntax,
 * duplicate keys and depth (JSON.parse silently keeps the last duplicate and reports no line), the
 * native JSON.parse builds the value, and positions are found lazily only for the pointers a
 * diagnostic or a change report asks about.
 */
import type { Position } from "../diagnostics.js";
import { escapeSegment, parsePointer } from "../pointer.js";
import { LineIndex } from "./line-index.js";

export interface JsonProblem {
  rule: "json-syntax" | "duplicate-key" | "nesting-too-deep";
  message: string;
  offset: number;
  pointer: string;
  /** For a duplicate key: where the key was first written. */
  firstOffset?: number;
}

const enum Ch {
  Tab = 9, Nl = 10, Cr = 13, Space = 32, Quote = 34, Plus = 43, Comma = 44, Minus = 45, Dot = 46, Slash = 47,
  D0 = 48, D1 = 49, D9 = 57, Colon = 58, E = 69, LBracket = 91, Backslash = 92, RBracket = 93, LowerE = 101,
  LBrace = 123, RBrace = 125,
}

interface Frame {
  isObject: boolean;
  /** Keys seen so far and where, as a list while the object is small, a map once it is not. */
  names: string[] | undefined;
  offsets: number[] | undefined;
  keys: Map<string, number> | undefined;
  count: number;
  /** Index of this container in ContainerSpans, or -1 when spans are not recorded. */
  span: number;
}

/**
 * Where every object and array starts and ends, recorded by scanJson's one pass so the locator can
 * step over a container without reading it again: without it, locating a change deep in a 10 MB
 * description re-reads every sibling that comes before it, level by level.
 */
export class ContainerSpans {
  /** Opening offsets, ascending (containers are numbered in the order they open). */
  readonly starts: number[] = [];
  /** Offset just past the closing bracket of the container with the same number. */
  readonly ends: number[] = [];

  open(at: number): number {
    this.starts.push(at);
    this.ends.push(-1);
    return this.starts.length - 1;
  }

  close(span: number, end: number): void {
    if (span >= 0) this.ends[span] = end;
  }

  /** Offset just past the container opening at `at`, or -1 when none was recorded there. */
  endOf(at: number): number {
    const starts = this.starts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = starts[mid]!;
      if (s === at) return this.ends[mid]!;
      if (s < at) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}

/** Beyond this many keys an object's duplicate check switches from a list to a map; most objects are smaller, and a map each would cost more than the search. */
const SMALL_OBJECT_KEYS = 8;

function firstKeyOffset(frame: Frame, key: string): number | undefined {
  if (frame.keys) return frame.keys.get(key);
  const names = frame.names;
  if (names === undefined) return undefined;
  for (let k = 0; k < names.length; k++) if (names[k] === key) return frame.offsets![k];
  return undefined;
}

function addKey(frame: Frame, key: string, offset: number): void {
  if (frame.keys) {
    frame.keys.set(key, offset);
  } else if (frame.names === undefined) {
    frame.names = [key];
    frame.offsets = [offset];
  } else if (frame.names.length < SMALL_OBJECT_KEYS) {
    frame.names.push(key);
    frame.offsets!.push(offset);
  } else {
    frame.keys = new Map(frame.names.map((n, k) => [n, frame.offsets![k]!]));
    frame.keys.set(key, offset);
    frame.names = frame.offsets = undefined;
  }
}

class ScanError extends Error {
  constructor(readonly problem: JsonProblem) {
    super(problem.message);
  }
}

function skipWs(text: string, i: number): number {
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === Ch.Space || c === Ch.Nl || c === Ch.Cr || c === Ch.Tab) i++;
    else return i;
  }
}

function describe(text: string, i: number): string {
  if (i >= text.length) return "the end of the file";
  const c = text[i]!;
  return JSON.stringify(c);
}

/** A run of characters that need no attention inside a string: most of a long description. */
// Control characters are what a JSON string may not hold unescaped: the class names them on purpose.
// eslint-disable-next-line no-control-regex
const PLAIN_RUN = /[^"\\\u0000-\u001f]+/y;

/** Returns the index just past the closing quote. */
function skipString(text: string, start: number, pointer: () => string): number {
  let i = start + 1;
  const n = text.length;
  for (;;) {
    // The regex engine skips a plain run far faster than a loop over its characters.
    PLAIN_RUN.lastIndex = i;
    if (PLAIN_RUN.test(text)) i = PLAIN_RUN.lastIndex;
    if (i >= n) throw new ScanError({ rule: "json-syntax", message: "Unterminated string", offset: start, pointer: pointer() });
    const c = text.charCodeAt(i);
    if (c === Ch.Quote) return i + 1;
    if (c === Ch.Backslash) {
      const e = text[i + 1];
      if (e === "u") {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
          throw new ScanError({ rule: "json-syntax", message: "Invalid \\u escape in string", offset: i, pointer: pointer() });
        }
        i += 6;
      } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
        i += 2;
      } else {
        throw new ScanError({ rule: "json-syntax", message: `Invalid escape "\\${e ?? ""}" in string`, offset: i, pointer: pointer() });
      }
    } else if (c < 0x20) {
      throw new ScanError({
        rule: "json-syntax",
        message: c === Ch.Nl ? "Unterminated string (a line break inside a string must be written \\n)" : "Control character inside a string must be escaped",
        offset: c === Ch.Nl ? start : i,
        pointer: pointer(),
      });
    } else {
      i++;
    }
  }
}

function readKey(text: string, start: number, end: number): string {
  const raw = text.slice(start + 1, end - 1);
  return raw.includes("\\") ? (JSON.parse(text.slice(start, end)) as string) : raw;
}

function skipNumber(text: string, i: number, pointer: () => string): number {
  const start = i;
  if (text.charCodeAt(i) === Ch.Minus) i++;
  const first = text.charCodeAt(i);
  if (first === Ch.D0) i++;
  else if (first >= Ch.D1 && first <= Ch.D9) while (isDigit(text.charCodeAt(i))) i++;
  else throw new ScanError({ rule: "json-syntax", message: "Invalid number", offset: start, pointer: pointer() });
  if (text.charCodeAt(i) === Ch.Dot) {
    i++;
    if (!isDigit(text.charCodeAt(i))) throw new ScanError({ rule: "json-syntax", message: "Invalid number: digits must follow the decimal point", offset: start, pointer: pointer() });
    while (isDigit(text.charCodeAt(i))) i++;
  }
  const e = text.charCodeAt(i);
  if (e === Ch.E || e === Ch.LowerE) {
    i++;
    const s = text.charCodeAt(i);
    if (s === Ch.Plus || s === Ch.Minus) i++;
    if (!isDigit(text.charCodeAt(i))) throw new ScanError({ rule: "json-syntax", message: "Invalid number: digits must follow the exponent", offset: start, pointer: pointer() });
    while (isDigit(text.charCodeAt(i))) i++;
  }
  return i;
}

function isDigit(c: number): boolean {
  return c >= Ch.D0 && c <= Ch.D9;
}

/**
 * Checks a JSON text completely without building values. Stops at the first syntax error or at
 * the depth limit (both make the rest meaningless); duplicate keys are collected and scanning goes on.
 */
export function scanJson(text: string, maxDepth: number, spans?: ContainerSpans): JsonProblem[] {
  const problems: JsonProblem[] = [];
  const frames: Frame[] = [];
  const path: string[] = [];
  const pointer = () => path.map((s) => "/" + escapeSegment(s)).join("");
  const n = text.length;

  const expectKey = (i: number, frame: Frame): number => {
    if (text.charCodeAt(i) !== Ch.Quote) {
      const c = text.charCodeAt(i);
      const message =
        c === Ch.RBrace
          ? "Trailing comma before '}' is not allowed in JSON"
          : c === Ch.Slash
            ? "Comments are not allowed in JSON"
            : `Expected a property name in double quotes but found ${describe(text, i)}`;
      throw new ScanError({ rule: "json-syntax", message, offset: i, pointer: pointer() });
    }
    const end = skipString(text, i, pointer);
    const key = readKey(text, i, end);
    if (frame.count === 0) path.push(key);
    else path[path.length - 1] = key;
    frame.count++;
    const first = firstKeyOffset(frame, key);
    if (first !== undefined) {
      problems.push({ rule: "duplicate-key", message: `Duplicate key ${JSON.stringify(key)} at ${pointer() || "/"}: JSON parsers keep only one of them`, offset: i, pointer: pointer(), firstOffset: first });
    } else {
      addKey(frame, key, i);
    }
    const colon = skipWs(text, end);
    if (text.charCodeAt(colon) !== Ch.Colon) {
      throw new ScanError({ rule: "json-syntax", message: `Expected ':' after property name but found ${describe(text, colon)}`, offset: colon, pointer: pointer() });
    }
    return skipWs(text, colon + 1);
  };

  try {
    let i = skipWs(text, 0);
    for (;;) {
      // A value starts at i.
      const c = text.charCodeAt(i);
      let closedAt = -1;
      if (c === Ch.LBrace || c === Ch.LBracket) {
        if (frames.length >= maxDepth) {
          problems.push({ rule: "nesting-too-deep", message: `Nesting is deeper than ${maxDepth} levels`, offset: i, pointer: pointer() });
          return problems;
        }
        const frame: Frame = { isObject: c === Ch.LBrace, names: undefined, offsets: undefined, keys: undefined, count: 0, span: spans ? spans.open(i) : -1 };
        frames.push(frame);
        i = skipWs(text, i + 1);
        const close = frame.isObject ? Ch.RBrace : Ch.RBracket;
        if (text.charCodeAt(i) === close) {
          frames.pop();
          closedAt = i + 1;
          spans?.close(frame.span, closedAt);
        } else if (frame.isObject) {
          i = expectKey(i, frame);
          continue;
        } else {
          path.push("0");
          frame.count = 1;
          continue;
        }
      } else if (c === Ch.Quote) {
        closedAt = skipString(text, i, pointer);
      } else if (c === Ch.Minus || isDigit(c)) {
        closedAt = skipNumber(text, i, pointer);
      } else if (text.startsWith("true", i)) {
        closedAt = i + 4;
      } else if (text.startsWith("false", i)) {
        closedAt = i + 5;
      } else if (text.startsWith("null", i)) {
        closedAt = i + 4;
      } else {
        let message = `Expected a value but found ${describe(text, i)}`;
        if (c === Ch.Slash) message = "Comments are not allowed in JSON";
        else if (c === Ch.RBracket && frames.length > 0) message = "Trailing comma before ']' is not allowed in JSON";
        else if (text.charCodeAt(i) === 39) message = "Strings must use double quotes in JSON";
        throw new ScanError({ rule: "json-syntax", message, offset: i, pointer: pointer() });
      }
      // After a value: close containers or move to the next member.
      i = closedAt;
      for (;;) {
        i = skipWs(text, i);
        const frame = frames[frames.length - 1];
        if (frame === undefined) {
          if (i < n) {
            throw new ScanError({ rule: "json-syntax", message: `Unexpected ${describe(text, i)} after the end of the document`, offset: i, pointer: "" });
          }
          return problems;
        }
        const ch = text.charCodeAt(i);
        if (ch === Ch.Comma) {
          i = skipWs(text, i + 1);
          if (frame.isObject) {
            i = expectKey(i, frame);
          } else {
            path[path.length - 1] = String(frame.count++);
          }
          break;
        }
        if (ch === (frame.isObject ? Ch.RBrace : Ch.RBracket)) {
          frames.pop();
          path.pop();
          i++;
          spans?.close(frame.span, i);
          continue;
        }
        const closer = frame.isObject ? "'}'" : "']'";
        throw new ScanError({
          rule: "json-syntax",
          message: i >= n ? `Unexpected end of file: expected ',' or ${closer}` : `Expected ',' or ${closer} but found ${describe(text, i)}`,
          offset: i,
          pointer: pointer(),
        });
      }
    }
  } catch (e) {
    if (e instanceof ScanError) {
      problems.push(e.problem);
      return problems;
    }
    throw e;
  }
}

interface Member {
  key: number;
  value: number;
}

/**
 * Finds where a pointer's value (or key) starts. Each container on a looked-up path is indexed
 * once, so a batch of lookups into one large document costs about one pass per level, not per lookup.
 * Only called on text that scanJson accepted.
 */
export class JsonLocator {
  private readonly index = new Map<number, Map<string, Member>>();
  private readonly lines: LineIndex;

  /** `spans`, when given, must come from scanJson over the same text. */
  constructor(
    private readonly text: string,
    private readonly spans?: ContainerSpans,
  ) {
    this.lines = new LineIndex(text);
  }

  locate(pointer: string, part: "key" | "value" = "value"): Position {
    return this.lines.position(this.offset(pointer, part));
  }

  /** The offset of the deepest existing node along the pointer. */
  offset(pointer: string, part: "key" | "value" = "value"): number {
    const segments = parsePointer(pointer) ?? [];
    let at = skipWs(this.text, 0);
    let keyAt = at;
    for (const seg of segments) {
      const members = this.members(at);
      const m = members?.get(seg);
      if (m === undefined) return at;
      at = m.value;
      keyAt = m.key;
    }
    return part === "key" ? keyAt : at;
  }

  private members(at: number): Map<string, Member> | undefined {
    const cached = this.index.get(at);
    if (cached) return cached;
    const text = this.text;
    const open = text.charCodeAt(at);
    if (open !== Ch.LBrace && open !== Ch.LBracket) return undefined;
    const members = new Map<string, Member>();
    let i = skipWs(text, at + 1);
    let count = 0;
    const close = open === Ch.LBrace ? Ch.RBrace : Ch.RBracket;
    while (text.charCodeAt(i) !== close && i < text.length) {
      let key: string;
      const keyAt = i;
      if (open === Ch.LBrace) {
        const end = this.skipValue(i);
        key = readKey(text, i, end);
        i = skipWs(text, end);
        i = skipWs(text, i + 1); // past ':'
      } else {
        key = String(count++);
      }
      // The first occurrence wins for positions; duplicates were reported by scanJson.
      if (!members.has(key)) members.set(key, { key: keyAt, value: i });
      i = skipWs(text, this.skipValue(i));
      if (text.charCodeAt(i) === Ch.Comma) i = skipWs(text, i + 1);
    }
    this.index.set(at, members);
    return members;
  }

  /** Index just past the value starting at i, by counting brackets outside strings. */
  private skipValue(i: number): number {
    const text = this.text;
    if (this.spans) {
      const c = text.charCodeAt(i);
      if (c === Ch.LBrace || c === Ch.LBracket) {
        const end = this.spans.endOf(i);
        if (end >= 0) return end;
      }
    }
    let depth = 0;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === Ch.Quote) {
        i++;
        for (;;) {
          const s = text.charCodeAt(i);
          if (s === Ch.Backslash) i += 2;
          else if (s === Ch.Quote) break;
          else i++;
        }
        i++;
        if (depth === 0) return i;
      } else if (c === Ch.LBrace || c === Ch.LBracket) {
        depth++;
        i++;
      } else if (c === Ch.RBrace || c === Ch.RBracket) {
        if (depth === 0) return i;
        depth--;
        i++;
        if (depth === 0) return i;
      } else if (depth === 0 && (c === Ch.Comma || c === Ch.Space || c === Ch.Nl || c === Ch.Cr || c === Ch.Tab || Number.isNaN(c))) {
        return i;
      } else {
        i++;
      }
    }
  }
}
