import { describe, expect, it } from "vitest";
import { diffConfigs, type Change } from "../../src/diff/index.js";
import { at, config, doc, obj, response } from "./fixtures/contract-cases.js";

function changes(base: string, head: string): Change[] {
  return diffConfigs(config(base), config(head), { now: Date.parse("2026-11-23") }).changes;
}

const found = (base: string, head: string) => changes(base, head).map((c) => `${c.level} ${c.rule}`).sort();

const withoutId = (text: string) => text.replace('"operationId": "updateOrder",', "");
const comparison = (required: string[]) => response(obj({ files: { type: "array" }, status: { type: "string" } }, required));

describe("an operation whose path changed is still the same operation", () => {
  it("reports a move as one breaking change naming the old and new paths, not as a removal and an addition", () => {
    const [c, ...rest] = changes(doc(), at("/purchases/{id}", ["id"]));
    expect(rest).toEqual([]);
    expect(c!.rule).toBe("operation-path-changed");
    expect(c!.message).toBe('POST /orders/{id} moved to /purchases/{id} (operationId "updateOrder"): clients calling the old path get 404');
  });

  it("still compares what is inside a moved operation", () => {
    const base = at("/repos/{owner}/compare/{base}...{head}", ["owner", "base", "head"], comparison(["files", "status"]));
    const head = at("/repos/{owner}/compare/{basehead}", ["owner", "basehead"], comparison(["status"]));
    expect(found(base, head)).toEqual(["breaking response-body-property-became-optional", "info operation-path-template-changed"]);
  });

  it("reads joined path parameters as info when the old URLs still reach the operation, without parameter noise", () => {
    const c = changes(at("/compare/{base}...{head}", ["base", "head"]), at("/compare/{basehead}", ["basehead"]));
    expect(c.map((x) => x.message)).toEqual(['path template /compare/{base}...{head} -> /compare/{basehead} (operationId "updateOrder"): every URL that reached it still does']);
  });

  it("matches by method and the same wire pattern when neither side has an operationId", () => {
    expect(found(withoutId(at("/compare/{base}...{head}", ["base", "head"])), withoutId(at("/compare/{basehead}", ["basehead"])))).toEqual(["info operation-path-template-changed"]);
  });

  it("does not pair operations without an operationId whose URLs differ: that is a removal and an addition", () => {
    expect(found(withoutId(doc()), withoutId(at("/purchases/{id}", ["id"])))).toEqual(["breaking operation-removed-without-deprecation", "info operation-added"]);
  });

  it("does not pair operations of different methods even with the same operationId", () => {
    const put = at("/purchases/{id}", ["id"]).replace('"post":', '"put":');
    expect(found(doc(), put)).toEqual(["breaking operation-removed-without-deprecation", "info operation-added"]);
  });

  it("names long operations in full", () => {
    const long = `/orders/{id}/${"segment/".repeat(15)}end`;
    const [c] = changes(at(long, ["id"]), at(long, ["id"], { deprecated: true }));
    expect(c!.operation).toBe(`POST ${long}`);
  });
});
