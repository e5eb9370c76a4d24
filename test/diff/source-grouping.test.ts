import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { readConfig, type GatewayConfig } from "../../src/config/index.js";
import { diffConfigs, type Change } from "../../src/diff/index.js";
import { positionOf, snapshot } from "../helpers.js";

/** A plain OpenAPI document (YAML, as people write it) whose operations all return the shared `Order` schema. */
function api(order: Record<string, unknown>, operations = ["/orders", "/orders/{id}", "/archive"], extra: Record<string, unknown> = {}): string {
  const paths: Record<string, unknown> = {};
  for (const p of operations) {
    paths[p] = { get: { responses: { "200": { description: "ok", content: { "application/json": { schema: { type: "object", properties: { data: { type: "array", items: { $ref: "#/components/schemas/Order" } } } } } } } } } };
  }
  return stringify({ openapi: "3.1.0", info: { title: "Orders", version: "1.0.0" }, servers: [{ url: "https://api.example.com" }], paths, components: { schemas: { Order: order } }, ...extra });
}

function config(text: string): GatewayConfig {
  const { config } = readConfig(snapshot({ "openapi.yaml": text }));
  if (!config) throw new Error("fixture does not read");
  return config;
}

function diff(base: string, head: string): Change[] {
  return diffConfigs(config(base), config(head), { now: Date.parse("2026-11-23") }).changes;
}

const order = (status: Record<string, unknown> = { type: "string" }, more: Record<string, unknown> = {}) => ({ type: "object", required: ["id"], properties: { id: { type: "string" }, status, ...more } });

describe("a change in a shared component", () => {
  it("is one entry at its source with every operation that reaches it", () => {
    const [c, ...rest] = diff(api(order()), api(order({ type: "string", maxLength: 10 })));
    expect(rest).toEqual([]);
    expect(c).toMatchObject({ rule: "response-body-max-length-added", operation: undefined, message: "schema Order property status: maxLength 10 added" });
    expect(c!.head).toMatchObject({ file: "openapi.yaml", pointer: "/components/schemas/Order/properties/status/maxLength" });
    expect(c!.affected).toEqual([
      { operation: "GET /orders", where: "response 200 (application/json) property data[].status" },
      { operation: "GET /orders/{id}", where: "response 200 (application/json) property data[].status" },
      { operation: "GET /archive", where: "response 200 (application/json) property data[].status" },
    ]);
  });

  it("keeps its fingerprint when another operation starts using the component", () => {
    const before = diff(api(order()), api(order({ type: "string", maxLength: 10 })));
    const more = diff(api(order(), ["/orders", "/orders/{id}", "/archive", "/reports"]), api(order({ type: "string", maxLength: 10 }), ["/orders", "/orders/{id}", "/archive", "/reports"]));
    const one = diff(api(order(), ["/orders"]), api(order({ type: "string", maxLength: 10 }), ["/orders"]));
    expect(more[0]!.affected).toHaveLength(4);
    expect(more[0]!.fingerprint).toBe(before[0]!.fingerprint);
    expect(one[0]!.fingerprint).toBe(before[0]!.fingerprint);
  });

  it("reads like a per-operation change when one operation is all it affects", () => {
    const [c] = diff(api(order(), ["/orders"]), api(order({ type: "string", maxLength: 10 }), ["/orders"]));
    expect(c).toMatchObject({ operation: "GET /orders", message: "response 200 (application/json) property data[].status: maxLength 10 added" });
  });

  it("keeps per-operation changes per operation", () => {
    const head = api(order()).replace("/archive:", "/old-archive:");
    const rules = diff(api(order()), head).map((c) => `${c.rule} ${c.operation}`);
    expect(rules).toEqual(expect.arrayContaining(["operation-removed-without-deprecation GET /archive", "operation-added GET /old-archive"]));
  });
});

describe("enum changes", () => {
  const pet = (values: string[]) => ({ requestBody: { required: true, content: { "application/json": { schema: { type: "object", properties: { pet: { type: "string", enum: values } } } } } } });
  const post = (values: string[]) => stringify({ openapi: "3.1.0", info: { title: "Pets", version: "1" }, servers: [{ url: "https://api.example.com" }], paths: { "/pets": { post: { ...pet(values), responses: { "200": { description: "ok" } } } } } });

  it("reports each enum value removed from a request, not only the first", () => {
    const changes = diff(post(["cat", "dog", "bird", "fish"]), post(["cat"]));
    expect(changes.map((c) => `${c.level} ${c.rule} ${c.message}`)).toEqual([
      'breaking request-body-enum-value-removed request body (application/json) property pet: enum value "bird" removed',
      'breaking request-body-enum-value-removed request body (application/json) property pet: enum value "dog" removed',
      'breaking request-body-enum-value-removed request body (application/json) property pet: enum value "fish" removed',
    ]);
    expect(new Set(changes.map((c) => c.fingerprint)).size).toBe(3);
  });

  it("reports each value added to a shared response enum", () => {
    const changes = diff(api(order({ type: "string", enum: ["open"] })), api(order({ type: "string", enum: ["open", "paid", "sent", "void", "lost"] })));
    expect(changes.filter((c) => c.rule === "response-body-enum-value-added")).toHaveLength(4);
  });
});

describe("where a change is placed", () => {
  it("at the keyword that changed, on its own line", () => {
    const head = api(order({ type: "string", maxLength: 10 }));
    const [c] = diff(api(order()), head);
    expect(c!.head).toMatchObject(positionOf(head, "maxLength: 10"));
  });

  it("at the property's own key when a property is added or removed, not at the line after it", () => {
    const head = api(order({ type: "string" }, { note: { type: "string", description: "free text" } }));
    const added = diff(api(order()), head).find((c) => c.rule === "response-body-property-added")!;
    expect(added.head).toMatchObject({ pointer: "/components/schemas/Order/properties/note", ...positionOf(head, "note:") });
    const removed = diff(head, api(order())).find((c) => c.rule === "response-body-property-removed")!;
    expect(removed.base).toMatchObject({ pointer: "/components/schemas/Order/properties/note", ...positionOf(head, "note:") });
  });
});
