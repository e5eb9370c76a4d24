import { describe, expect, it } from "vitest";
import { DocumentSet, refOf } from "../../src/config/index.js";
import { snapshot } from "../helpers.js";

const API = "api/openapi.json";
const files = () =>
  new DocumentSet(
    snapshot({
      [API]: JSON.stringify({ components: { schemas: { Order: { type: "object" }, "a/b": { type: "string" } } } }, null, 2),
      "api/schemas/my order.json": '{"type": "integer"}',
      "api/broken.json": '{"type": ',
      "top.json": '{"x": 1}',
      "api/v1:old.json": '{"type": "boolean"}',
    }),
  );

describe("$ref resolution", () => {
  it.each([
    { ref: 5, rule: "ref-invalid", message: "$ref must be a string" },
    { ref: "https://evil.example/s.json", rule: "ref-external-url", message: '$ref "https://evil.example/s.json" points to a URL; Gitway never fetches one. Copy the schema into the repository and refer to it by a relative path' },
    { ref: "//evil.example/s.json", rule: "ref-external-url" },
    { ref: "urn:x-schema:order", rule: "ref-external-url" },
    { ref: "%E0%A4%A.json", rule: "ref-invalid", message: '$ref "%E0%A4%A.json" is not a valid URI reference' },
    { ref: "../../etc/passwd", rule: "ref-outside-repository", message: '$ref "../../etc/passwd" points outside the repository; it was not read' },
    { ref: "/etc/passwd", rule: "ref-outside-repository" },
    { ref: "missing.json", rule: "ref-not-found", message: '$ref "missing.json": file api/missing.json does not exist in this commit' },
    { ref: "#components", rule: "ref-invalid", message: '$ref "#components": the fragment must be a JSON pointer such as #/components/schemas/Name' },
    { ref: "broken.json", rule: "ref-not-found", message: '$ref "broken.json": api/broken.json could not be read (see its own diagnostics)' },
    { ref: "#/components/schemas/Nope", rule: "ref-not-found", message: '$ref "#/components/schemas/Nope" points to nothing: #/components/schemas/Nope does not exist in api/openapi.json' },
    { ref: "schemas/my%20order.json#/nope", rule: "ref-not-found", message: '$ref "schemas/my%20order.json#/nope" points to nothing: #/nope does not exist in api/schemas/my order.json' },
  ])("refuses $ref with $rule", ({ ref, rule, message }) => {
    const r = files().resolve(API, ref);
    expect(r).toEqual({ ok: false, rule, message: message ?? expect.any(String) });
  });

  it.each([
    { ref: "#/components/schemas/Order", value: { type: "object" }, location: { file: API, pointer: "/components/schemas/Order" } },
    { ref: "#/components/schemas/a~1b", value: { type: "string" }, location: { file: API, pointer: "/components/schemas/a~1b" } },
    { ref: "schemas/my%20order.json", value: { type: "integer" }, location: { file: "api/schemas/my order.json", pointer: "" } },
    { ref: "schemas/my%20order.json#", value: { type: "integer" }, location: { file: "api/schemas/my order.json", pointer: "" } },
    { ref: "../top.json#/x", value: 1, location: { file: "top.json", pointer: "/x" } },
    { ref: "./v1:old.json", value: { type: "boolean" }, location: { file: "api/v1:old.json", pointer: "" } },
    { ref: "./openapi.json#/components/schemas/Order", value: { type: "object" }, location: { file: API, pointer: "/components/schemas/Order" } },
  ])("follows $ref to its value and place", ({ ref, value, location }) => {
    expect(files().resolve(API, ref)).toEqual({ ok: true, value, location });
  });

  it("follows a chain of $refs, and gives up on a broken one", () => {
    const docs = new DocumentSet(snapshot({ "a.json": JSON.stringify({ a: { $ref: "#/b" }, b: { $ref: "b.json#/c" }, broken: { $ref: "#/nope" } }), "b.json": JSON.stringify({ c: { type: "string" } }) }));
    expect(docs.deref({ $ref: "#/a" }, { file: "a.json", pointer: "/x" })).toEqual({ value: { type: "string" }, location: { file: "b.json", pointer: "/c" } });
    expect(docs.deref({ type: "integer" }, { file: "a.json", pointer: "/x" })).toEqual({ value: { type: "integer" }, location: { file: "a.json", pointer: "/x" } });
    expect(docs.deref({ $ref: "#/broken" }, { file: "a.json", pointer: "/x" })).toBeUndefined();
  });

  it("follows at most 64 $refs, so a circular chain ends", () => {
    const chain = (n: number) => Object.fromEntries(Array.from({ length: n + 1 }, (_, i) => [`s${i}`, i === n ? { type: "string" } : { $ref: `#/s${i + 1}` }]));
    const deref = (n: number) => new DocumentSet(snapshot({ "a.json": JSON.stringify(chain(n)) })).deref({ $ref: "#/s1" }, { file: "a.json", pointer: "" });
    expect(deref(63)?.value).toEqual({ type: "string" }); // 63 hops: #/s1 .. #/s63
    expect(deref(64)).toBeUndefined();
    expect(new DocumentSet(snapshot({ "a.json": '{"a": {"$ref": "#/b"}, "b": {"$ref": "#/a"}}' })).deref({ $ref: "#/a" }, { file: "a.json", pointer: "" })).toBeUndefined();
  });
});

describe("Reference Objects", () => {
  it("are objects with a $ref string of their own", () => {
    expect(refOf({ $ref: "#/a" })).toBe("#/a");
    expect([null, "x", 5, { $ref: 5 }, { ref: "#/a" }, Object.create({ $ref: "#/a" }), Object.assign([], { $ref: "#/a" })].map(refOf)).toEqual([undefined, undefined, undefined, undefined, undefined, undefined, undefined]);
  });
});

describe("placing a node", () => {
  it("places a node's value by default and its key when asked, and the start of a file it has not read", () => {
    const docs = new DocumentSet(snapshot({ "a.json": '{\n  "info":   {"title": "x"}\n}' }));
    docs.get("a.json");
    expect(docs.locate({ file: "a.json", pointer: "/info" })).toEqual({ line: 2, column: 13 });
    expect(docs.locate({ file: "a.json", pointer: "/info" }, "key")).toEqual({ line: 2, column: 3 });
    expect(docs.at("ref-invalid", "m", { file: "a.json", pointer: "/info" })).toMatchObject({ line: 2, column: 13, pointer: "/info", file: "a.json" });
    expect(docs.at("ref-invalid", "m", { file: "a.json", pointer: "/info" }, "key")).toMatchObject({ line: 2, column: 3 });
    expect(docs.locate({ file: "unread.json", pointer: "/x" })).toEqual({ line: 1, column: 1 });
  });
});

describe("a file the snapshot does not hold", () => {
  it("is undefined, and reading it records no diagnostic of its own", () => {
    const docs = files();
    expect(docs.get("api/missing.json")).toBeUndefined();
    expect(docs.diagnostics).toEqual([]);
  });
});
