import { describe, expect, it } from "vitest";
import { ContainerSpans, JsonLocator, scanJson } from "../../src/config/source/json-source.js";
import { LineIndex } from "../../src/config/source/line-index.js";

function firstProblem(text: string) {
  const [p] = scanJson(text, 256);
  if (!p) return undefined;
  return { rule: p.rule, message: p.message, pointer: p.pointer, ...new LineIndex(text).position(p.offset) };
}

describe("the JSON scanner", () => {
  it.each([
    { name: "a missing comma between properties", text: '{\n  "a": 1\n  "b": 2\n}', line: 3, column: 3, message: /Expected ',' or '}'/ },
    { name: "a trailing comma before a closing brace", text: '{\n  "a": 1,\n}', line: 3, column: 1, message: /Trailing comma/ },
    { name: "a trailing comma before a closing bracket", text: '[1,\n 2,\n]', line: 3, column: 1, message: /Trailing comma/ },
    { name: "a single-quoted string", text: "{\n  'a': 1\n}", line: 2, column: 3, message: /double quotes/ },
    { name: "a comment", text: '{\n  // note\n  "a": 1\n}', line: 2, column: 3, message: /Comments are not allowed/ },
    { name: "an unterminated string", text: '{"a": "oops\n}', line: 1, column: 7, message: /Unterminated string/ },
    { name: "a truncated document", text: '{"a": [1, 2', line: 1, column: 12, message: /Unexpected end of file/ },
    { name: "content after the document", text: '{"a": 1} {"b": 2}', line: 1, column: 10, message: /after the end of the document/ },
    { name: "a bad escape", text: '{"a": "\\q"}', line: 1, column: 8, message: /Invalid escape/ },
    { name: "a malformed number", text: '{"a": 01}', line: 1, column: 8, message: /Expected ',' or '}'/ },
  ])("reports $name at its line and column", ({ text, line, column, message }) => {
    const p = firstProblem(text);
    expect(p).toMatchObject({ rule: "json-syntax", line, column });
    expect(p?.message).toMatch(message);
  });

  it("accepts every JSON value form without complaint", () => {
    expect(scanJson('{"a": [1, -2.5e+3, true, false, null, "x\\u00e9\\n", {}, []], "b": {"c": "d"}}', 256)).toEqual([]);
  });

  it("reports a duplicate key at the second occurrence, with its pointer, and keeps scanning", () => {
    const text = '{\n  "paths": {\n    "/a": 1,\n    "/a": 2\n  },\n  "x": 1,\n  "x": 2\n}';
    const problems = scanJson(text, 256);
    expect(problems.map((p) => ({ rule: p.rule, pointer: p.pointer, ...new LineIndex(text).position(p.offset) }))).toEqual([
      { rule: "duplicate-key", pointer: "/paths/~1a", line: 4, column: 5 },
      { rule: "duplicate-key", pointer: "/x", line: 7, column: 3 },
    ]);
  });

  it("stops at the depth limit instead of recursing through 10,000 levels", () => {
    const text = "[".repeat(10_000) + "]".repeat(10_000);
    const [p] = scanJson(text, 256);
    expect(p).toMatchObject({ rule: "nesting-too-deep", offset: 256 });
  });
});

describe("the JSON locator", () => {
  const text = '{\n  "openapi": "3.1.0",\n  "paths": {\n    "/a~b/c": {\n      "get": { "responses": { "200": { "description": "ok" } } }\n    }\n  },\n  "list": [10, {"k": "v"}]\n}';
  const locator = new JsonLocator(text);

  it("places a value by its JSON pointer, escapes included", () => {
    expect(locator.locate("/paths/~1a~0b~1c/get")).toEqual({ line: 5, column: 14 });
    expect(locator.locate("/paths/~1a~0b~1c/get/responses/200/description")).toEqual({ line: 5, column: 55 });
  });

  it("places a key when asked for the key", () => {
    expect(locator.locate("/paths/~1a~0b~1c", "key")).toEqual({ line: 4, column: 5 });
  });

  it("places array items by index", () => {
    expect(locator.locate("/list/1/k")).toEqual({ line: 8, column: 22 });
  });

  it("falls back to the deepest node that exists", () => {
    expect(locator.locate("/paths/~1missing/get")).toEqual({ line: 3, column: 12 });
  });
});

describe("the JSON locator with the container spans its scan recorded", () => {
  // Strings holding brackets and escaped quotes, empty containers and nesting: every shape a span must step over.
  const text = '{"a": {"s": "} ] \\" {", "e": {}, "n": [[], [1, {"x": [2]}]]},\n "b": [{"c": "]"}, {}],\n "z": {"deep": {"er": true}}}';

  it("places every node where the locator without spans places it", () => {
    const spans = new ContainerSpans();
    expect(scanJson(text, 256, spans)).toEqual([]);
    const fast = new JsonLocator(text, spans);
    const plain = new JsonLocator(text);
    for (const pointer of ["/a/s", "/a/e", "/a/n/1/1/x/0", "/b/0/c", "/b/1", "/z/deep/er", "/z/missing"]) {
      expect(fast.locate(pointer)).toEqual(plain.locate(pointer));
      expect(fast.locate(pointer, "key")).toEqual(plain.locate(pointer, "key"));
    }
    expect(fast.locate("/z/deep/er")).toEqual({ line: 3, column: 23 });
  });

  it("records where each container ends, empty ones included", () => {
    const spans = new ContainerSpans();
    scanJson('{"e": [], "o": {"k": [1]}}', 256, spans);
    expect(spans.starts.map((s, i) => [s, spans.ends[i]])).toEqual([[0, 26], [6, 8], [15, 25], [21, 24]]);
  });
});

describe("duplicate keys in objects of every size", () => {
  it("reports a key repeated in a small object and in a large one, early keys included, with where each was first written", () => {
    const keys = Array.from({ length: 12 }, (_, k) => `"k${k}": ${k}`).join(", ");
    const text = `{"small": {"a": 1, "a": 2}, "large": {${keys}, "k0": 0, "k11": 11, "k12": 12}}`;
    const problems = scanJson(text, 256);
    expect(problems.map((p) => [p.pointer, p.firstOffset === undefined ? undefined : text.slice(p.firstOffset, p.firstOffset + 5)])).toEqual([
      ["/small/a", '"a": '],
      ["/large/k0", '"k0":'],
      ["/large/k11", '"k11"'],
    ]);
  });
});
