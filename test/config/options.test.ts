import { describe, expect, it } from "vitest";
import { HANDLERS, POLICIES, readConfig } from "../../src/config/index.js";
import { placed, positionOf, snapshot } from "../helpers.js";
import { forward, policiesFile, route, routesFile } from "./fixtures/seed.js";

const ROUTES = "config/routes.oas.json";
const POLICIES_FILE = "config/policies.json";

/**
 * Every option of every built-in, and where the test that shows it acting lives. An option the
 * runtime does not act on is instead in the built-in's `unsupported` list and refused below; the
 * first test fails when an option is added to a schema without being put in one of the two.
 */
const ACTING: Record<string, string[]> = {
  urlForwardHandler: ["baseUrl", "forwardSearch", "followRedirects", "timeoutMs"],
  urlRewriteHandler: ["rewritePattern", "forwardSearch", "followRedirects", "timeoutMs"],
  redirectHandler: ["location", "status"],
  ApiKeyInboundPolicy: ["authHeader", "authScheme", "allowUnauthenticatedRequests"],
  BasicAuthInboundPolicy: ["accounts", "accounts/*/username", "accounts/*/password", "allowUnauthenticatedRequests"],
  IPRestrictionInboundPolicy: ["allowedIpAddresses", "blockedIpAddresses"],
  RateLimitInboundPolicy: ["rateLimitBy", "requestsAllowed", "timeWindowMinutes", "headerMode", "throwOnFailure"],
  RequestValidationInboundPolicy: ["validateBody", "validateQueryParameters", "validatePathParameters", "validateHeaders"],
  RequestSizeLimitInboundPolicy: ["maxSizeInBytes"],
  MockApiInboundPolicy: ["random", "responsePrefixFilter", "contentType", "exampleName"],
  SetHeadersInboundPolicy: ["headers", "headers/*/name", "headers/*/value", "headers/*/overwrite"],
  SetHeadersOutboundPolicy: ["headers", "headers/*/name", "headers/*/value", "headers/*/overwrite"],
  RemoveHeadersInboundPolicy: ["headers"],
  RemoveHeadersOutboundPolicy: ["headers"],
};

type Schema = { type?: string; properties?: Record<string, Schema>; items?: Schema };

/** Option paths of a schema: "name", and "list/*\/field" inside arrays of objects. */
function optionPaths(schema: Schema, prefix = ""): string[] {
  const out: string[] = [];
  for (const [name, sub] of Object.entries(schema.properties ?? {})) {
    const path = prefix + name;
    out.push(path);
    if (sub.type === "object") out.push(...optionPaths(sub, path + "/"));
    if (sub.type === "array" && sub.items?.type === "object") out.push(...optionPaths(sub.items, path + "/*/"));
  }
  return out;
}

describe("built-in options", () => {
  it.each([...HANDLERS, ...POLICIES].map((b) => [b.export, b] as const))("%s: every option either acts or is refused as not supported yet", (name, builtin) => {
    const refused = Object.keys(builtin.unsupported ?? {});
    expect(optionPaths(builtin.options as Schema).sort()).toEqual([...(ACTING[name] ?? []), ...refused].sort());
  });

  const policy = (exportName: string, policyType: string, options: Record<string, unknown>) => ({ name: "p", policyType, handler: { export: exportName, module: "$import(@zuplo/runtime)", options } });
  const cases = [
    { option: "cacheTtlSeconds", p: policy("ApiKeyInboundPolicy", "api-key-inbound", { cacheTtlSeconds: 60 }), marker: '"cacheTtlSeconds"' },
    { option: "accounts.data", p: policy("BasicAuthInboundPolicy", "basic-auth-inbound", { accounts: [{ username: "u", password: "$env(P)", data: { team: "x" } }] }), marker: '"data"' },
    { option: "includeRequestInLogs", p: policy("RequestValidationInboundPolicy", "request-validation-inbound", { validateBody: "log-only", includeRequestInLogs: true }), marker: '"includeRequestInLogs"' },
    { option: "trustContentLengthHeader", p: policy("RequestSizeLimitInboundPolicy", "request-size-limit-inbound", { maxSizeInBytes: 10, trustContentLengthHeader: true }), marker: '"trustContentLengthHeader"' },
  ];

  it.each(cases)("gitway validate refuses $option, saying it is not supported yet, at the option", ({ option, p, marker }) => {
    const files = { [ROUTES]: routesFile([{ route: route(["p"], forward()) }]), [POLICIES_FILE]: policiesFile([p]) };
    const found = readConfig(snapshot(files)).diagnostics.filter((d) => d.rule === "option-unsupported");
    expect(placed(found)).toEqual([{ rule: "option-unsupported", file: POLICIES_FILE, ...positionOf(files[POLICIES_FILE], marker), severity: "error" }]);
    expect(found[0]!.message).toContain(`option "${option}" is not supported yet`);
  });

  it("lets an unsupported boolean through when it is false, since that asks for nothing", () => {
    const files = { [ROUTES]: routesFile([{ route: route(["p"], forward()) }]), [POLICIES_FILE]: policiesFile([policy("RequestSizeLimitInboundPolicy", "request-size-limit-inbound", { maxSizeInBytes: 10, trustContentLengthHeader: false })]) };
    expect(readConfig(snapshot(files)).diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  });
});
