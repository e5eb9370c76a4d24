import { describe, expect, it } from "vitest";
import { DocumentSet } from "../../src/config/index.js";
import { checkRefs } from "../../src/config/check-refs.js";
import { snapshot } from "../helpers.js";

const API = "openapi.json";

function found(doc: unknown, more: Record<string, string> = {}) {
  const docs = new DocumentSet(snapshot({ [API]: JSON.stringify(doc, null, 2), ...more }));
  return checkRefs(docs, [API]).map((d) => `${d.rule} ${d.file}${d.pointer} line ${d.line}`).sort();
}

describe("checking every $ref of a description", () => {
  it("reports the same broken $ref at each place it is written, and a circular chain wherever it starts", () => {
    const doc = {
      paths: { "/a": { get: { responses: { "200": { $ref: "#/components/responses/Nope" } } } }, "/b~c": { get: { responses: { "200": { $ref: "#/components/responses/Nope" } } } } },
      components: { schemas: { Loop: { $ref: "#/components/schemas/Loop" }, User: { properties: { friend: { $ref: "#/components/schemas/Loop" } } } } },
    };
    expect(found(doc)).toEqual([
      "ref-not-found openapi.json/paths/~1b~0c/get/responses/200/$ref line 16",
      "ref-not-found openapi.json/paths/~1a/get/responses/200/$ref line 7",
      "ref-invalid openapi.json/components/schemas/User/properties/friend/$ref line 30",
      "ref-invalid openapi.json/components/schemas/Loop/$ref line 25",
    ].sort());
  });

  it("leaves alone a property named $ref, and $ref inside example data, defaults and example values", () => {
    const doc = {
      components: {
        schemas: { Scim: { type: "object", properties: { $ref: { type: "string" } }, example: { $ref: "nowhere" }, default: { $ref: "nowhere" } } },
        examples: { One: { value: { $ref: "nowhere" } } },
      },
    };
    expect(found(doc)).toEqual([]);
  });

  it("follows a $ref into another file and checks that file's $refs too, and a chain that never reaches a value is reported where it starts", () => {
    expect(found({ components: { schemas: { A: { $ref: "other.json#/B" } } } }, { "other.json": JSON.stringify({ B: { $ref: "#/Missing" } }) })).toEqual(["ref-invalid openapi.json/components/schemas/A/$ref line 5", "ref-not-found other.json/B/$ref line 1"]);
  });
});
