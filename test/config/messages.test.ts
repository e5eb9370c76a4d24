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
