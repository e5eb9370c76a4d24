import { describe, expect, it } from "vitest";
import { diffConfigs, type Change } from "../../src/diff/index.js";
import { body, config, doc, obj, response } from "./fixtures/contract-cases.js";

function changes(base: string, head: string): Change[] {
  return diffConfigs(config(base), config(head), { now: Date.parse("2026-11-23") }).changes;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const repository = obj({ id: { type: "integer" }, name: { type: "string" }, archived: { type: "boolean" }, topics: { type: "array", items: { type: "string" } } }, ["id", "name", "archived", "topics"]);
const minimal = obj({ id: { type: "integer" }, name: { type: "string" }, archived: { type: "boolean" }, topics: { type: "array", items: { type: "string" } } }, ["id", "name"]);
const components = { components: { schemas: { repository, "minimal-repository": minimal } } };
const api = (schema: unknown, more: Record<string, unknown> = {}) => doc({ ...response(schema), ...more }, components);

describe("a place that switched from one component to another", () => {
  it("is one breaking change naming both components, with what differs folded under it", () => {
    const list = changes(api(ref("repository")), api(ref("minimal-repository")));
    expect(list.map((c) => [c.level, c.rule, c.message])).toEqual([["breaking", "response-body-schema-switched", "response 200 (application/json): now uses `minimal-repository` instead of `repository`: 2 properties no longer guaranteed"]]);
    expect(list[0]!.details).toEqual([
      { rule: "response-body-property-became-optional", level: "breaking", message: "property archived: became optional" },
      { rule: "response-body-property-became-optional", level: "breaking", message: "property topics: became optional" },
    ]);
  });

  it("takes the level of the worst difference: a switch that only adds an optional property is info", () => {
    const wider = obj({ ...(repository.properties as object), homepage: { type: "string" } }, repository.required);
    const list = changes(doc(response(ref("repository")), { components: { schemas: { repository, "full-repository": wider } } }), doc(response(ref("full-repository")), { components: { schemas: { repository, "full-repository": wider } } }));
    expect(list.map((c) => `${c.level} ${c.rule}`)).toEqual(["info response-body-schema-switched"]);
    expect(list[0]!.details?.map((d) => d.message)).toEqual(["property homepage: optional property added"]);
  });

  it("shows the property path of a switch inside an operation's schema", () => {
    const list = changes(api(obj({ items: { type: "array", items: ref("repository") } })), api(obj({ items: { type: "array", items: ref("minimal-repository") } })));
    expect(list.map((c) => c.message)).toEqual(["response 200 (application/json) property items[]: now uses `minimal-repository` instead of `repository`: 2 properties no longer guaranteed"]);
  });

  it("is one change for every operation that made the same switch, each listed with where", () => {
    const two = (name: string) => JSON.stringify({ ...JSON.parse(api(ref(name))), paths: { "/a": { get: { responses: { "200": { description: "ok", content: { "application/json": { schema: ref(name) } } } } } }, "/b": { get: { responses: { "200": { description: "ok", content: { "application/json": { schema: ref(name) } } } } } } } });
    const list = changes(two("repository"), two("minimal-repository"));
    expect(list).toHaveLength(1);
    expect(list[0]!.message).toBe("now uses `minimal-repository` instead of `repository`: 2 properties no longer guaranteed");
    expect(list[0]!.affected).toEqual([
      { operation: "GET /a", where: "response 200 (application/json)" },
      { operation: "GET /b", where: "response 200 (application/json)" },
    ]);
  });

  it("in a request, counts the properties that became required", () => {
    const list = changes(doc(body(ref("minimal-repository")), components), doc(body(ref("repository")), components));
    expect(list.map((c) => `${c.level} ${c.rule}: ${c.message}`)).toEqual(["breaking request-body-schema-switched: request body (application/json): now uses `repository` instead of `minimal-repository`: 2 properties now required"]);
  });

  it("is not a switch when the component was only renamed (the old name is gone from the head)", () => {
    const renamed = { components: { schemas: { repo: repository } } };
    expect(changes(api(ref("repository")), doc(response(ref("repo")), renamed))).toEqual([]);
  });
});
