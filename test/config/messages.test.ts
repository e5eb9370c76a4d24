import { describe, expect, it } from "vitest";
import { readConfig } from "../../src/config/index.js";
import { placed, positionOf, snapshot } from "../helpers.js";
import { apiKeyPolicy, forward, policiesFile, route, routesFile } from "./fixtures/seed.js";

const ROUTES = "config/routes.oas.json";
const POLICIES = "config/policies.json";

describe("a missing config/policies.json", () => {
  it("is reported as file-missing, once, at the first route that names a policy", () => {
    const files = { [ROUTES]: routesFile([{ route: route(["api-key-inbound", "rate-limit"]) }, { method: "post", route: route(["api-key-inbound"]) }]) };
    const found = readConfig(snapshot(files)).diagnostics.filter((d) => d.severity === "error");
    expect(placed(found)).toEqual([{ rule: "file-missing", file: ROUTES, ...positionOf(files[ROUTES], '"api-key-inbound"'), severity: "error" }]);
    expect(found[0]!.message).toBe('GET /api/v1/orders: policy "api-key-inbound" comes from config/policies.json, which does not exist in this commit; add it with the policies the routes name');
  });

  it("is not needed when no route names a policy", () => {
    const files = { [ROUTES]: routesFile([{ route: route([], forward()) }]) };
    expect(readConfig(snapshot(files)).diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  });

  it("leaves a policies.json that exists to the usual policy-undefined", () => {
    const files = { [ROUTES]: routesFile([{ route: route(["nope"]) }]), [POLICIES]: policiesFile([apiKeyPolicy()]) };
    expect(readConfig(snapshot(files)).diagnostics.filter((d) => d.severity === "error").map((d) => d.rule)).toEqual(["policy-undefined"]);
  });
});

describe("messages that name what they are about", () => {
  it("a duplicate YAML key names the key, its pointer and the line where it was first defined", () => {
    const text = "openapi: 3.1.0\ninfo:\n  title: x\n  version: '1'\n  title: y\npaths: {}\n";
    const d = readConfig(snapshot({ "openapi.yaml": text })).diagnostics.filter((x) => x.rule === "duplicate-key");
    expect(d.map((x) => [x.line, x.column, x.pointer, x.message])).toEqual([[5, 3, "/info/title", 'Duplicate key "title" at /info/title (first defined at line 3): YAML parsers keep only one of them']]);
  });

  it("a duplicate JSON key says the same", () => {
    const text = '{\n  "openapi": "3.1.0",\n  "info": {"title": "x", "version": "1"},\n  "paths": {},\n  "openapi": "3.0.0"\n}\n';
    const d = readConfig(snapshot({ "openapi.json": text })).diagnostics.filter((x) => x.rule === "duplicate-key");
    expect(d.map((x) => [x.line, x.pointer, x.message])).toEqual([[5, "/openapi", 'Duplicate key "openapi" at /openapi (first defined at line 2): JSON parsers keep only one of them']]);
  });

  it.each([
    ["/orders/{id", 'the "{" at character 9 is not closed by a "}" before the next "/"'],
    ["/orders/id}", 'the "}" at character 11 closes no "{"'],
    ["/orders/my order", "a space at character 11 is not allowed in a URL path (write it percent-encoded, as %20)"],
    ['/orders/"x"', '""" at character 9 is not allowed in a URL path (write it percent-encoded, as %22)'],
    ["/orders/100%", 'the "%" at character 12 does not start a percent-escape such as %20'],
  ])("path-template-invalid says which character of %s is wrong", (path, why) => {
    const files = { [ROUTES]: routesFile([{ path, route: route([], forward()) }]), [POLICIES]: policiesFile([]) };
    const d = readConfig(snapshot(files)).diagnostics.filter((x) => x.rule === "path-template-invalid");
    expect(d.map((x) => x.message)).toEqual([expect.stringContaining(`is not a URL path template: ${why}.`)]);
  });

  it("a seed-format routes file validated on its own is read with its x-zuplo-route and the policies.json beside it", () => {
    const files = { "routes.oas.json": routesFile([{ route: route(["api-key-inbound"], forward()) }]), "policies.json": policiesFile([apiKeyPolicy()]) };
    const { config, diagnostics } = readConfig(snapshot(files), { openapi: "routes.oas.json" });
    expect(diagnostics).toEqual([]);
    expect(config?.format).toBe("zuplo");
    expect(config?.routes.map((r) => [r.id, r.inbound])).toEqual([["GET /api/v1/orders", ["api-key-inbound"]]]);
  });
});
