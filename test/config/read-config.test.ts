import { describe, expect, it } from "vitest";
import { envNames, readConfig, type Diagnostic } from "../../src/config/index.js";
import { readDirectorySnapshot } from "../../src/git/index.js";
import { placed, positionOf, SEED_DIR, snapshot } from "../helpers.js";
import { apiKeyPolicy, forward, policiesFile, rateLimitPolicy, route, routesFile } from "./fixtures/seed.js";

const ROUTES = "config/routes.oas.json";
const POLICIES = "config/policies.json";

function errorsOf(files: Record<string, string>): Diagnostic[] {
  return readConfig(snapshot(files)).diagnostics.filter((d) => d.severity !== "info");
}

/** Expects exactly one diagnostic of the rule, at the marker's position in that file. */
function expectOne(files: Record<string, string>, rule: string, file: string, marker: string, occurrence = 1): Diagnostic {
  const found = errorsOf(files).filter((d) => d.rule === rule);
  expect(placed(found)).toEqual([{ rule, file, ...positionOf(files[file]!, marker, occurrence), severity: expect.any(String) }]);
  return found[0]!;
}

describe("reading the seed format", () => {
  it("reads the seed example with no diagnostics at all", async () => {
    const { config, diagnostics } = readConfig(await readDirectorySnapshot(SEED_DIR, 1e6));
    expect(diagnostics).toEqual([]);
    expect(config?.format).toBe("zuplo");
    expect(config?.routes.map((r) => ({ id: r.id, cors: r.corsPolicy, inbound: r.inbound, handler: r.handler.export, baseUrl: r.handler.options.baseUrl }))).toEqual([
      { id: "GET /api/v1/orders", cors: "anything-goes", inbound: ["api-key-inbound", "rate-limit-inbound"], handler: "urlForwardHandler", baseUrl: "https://api.example.com" },
    ]);
    expect(config?.policies.map((p) => [p.name, p.export, p.options])).toEqual([
      ["api-key-inbound", "ApiKeyInboundPolicy", {}],
      ["rate-limit-inbound", "RateLimitInboundPolicy", { rateLimitBy: "ip", requestsAllowed: 100, timeWindowMinutes: 1 }],
    ]);
  });

  it("reports a route naming a policy that policies.json does not define, at the name, with a suggestion", () => {
    const files = { [ROUTES]: routesFile([{ route: route(["api-key-inbound", "rate-limit"]) }]), [POLICIES]: policiesFile([apiKeyPolicy(), rateLimitPolicy({ rateLimitBy: "ip", requestsAllowed: 5, timeWindowMinutes: 1 }, "rate-limit-inbound")]) };
    const d = expectOne(files, "policy-undefined", ROUTES, '"rate-limit"');
    expect(d.message).toBe('GET /api/v1/orders: policy "rate-limit" is not defined in policies.json; did you mean "rate-limit-inbound"?');
    expect(d.pointer).toBe("/paths/~1api~1v1~1orders/get/x-zuplo-route/policies/inbound/1");
  });

  it("reports an unknown handler export with the closest built-in", () => {
    const files = { [ROUTES]: routesFile([{ route: route([], { ...forward(), export: "urlForwardHandlr" }) }]), [POLICIES]: policiesFile([]) };
    expect(expectOne(files, "handler-unknown", ROUTES, '"urlForwardHandlr"').message).toMatch(/did you mean urlForwardHandler\?/);
  });

  it("refuses a custom code module and says Gitway does not run custom code", () => {
    const files = { [ROUTES]: routesFile([{ route: route([], { export: "default", module: "$import(./modules/hello)" }) }]), [POLICIES]: policiesFile([]) };
    expect(expectOne(files, "module-custom-unsupported", ROUTES, '"$import(./modules/hello)"').message).toMatch(/does not run custom code/);
  });

  it("refuses a policy from a custom module", () => {
    const custom = { name: "my-auth", policyType: "custom-code-inbound", handler: { export: "default", module: "$import(./modules/auth)" } };
    const files = { [ROUTES]: routesFile([{ route: route(["my-auth"]) }]), [POLICIES]: policiesFile([custom]) };
    expectOne(files, "module-custom-unsupported", POLICIES, '"$import(./modules/auth)"');
  });

  it("reports a policy export that is not a built-in", () => {
    const p = { name: "jwt", policyType: "open-id-jwt-auth-inbound", handler: { export: "OpenIdJwtInboundPolicy", module: "$import(@zuplo/runtime)" } };
    const files = { [ROUTES]: routesFile([{ route: route(["jwt"]) }]), [POLICIES]: policiesFile([p]) };
    expectOne(files, "policy-unknown", POLICIES, '"OpenIdJwtInboundPolicy"');
  });

  it("reports requestsAllowed written as a string at the value", () => {
    const files = { [ROUTES]: routesFile([{ route: route(["rate-limit-inbound"]) }]), [POLICIES]: policiesFile([rateLimitPolicy({ rateLimitBy: "ip", requestsAllowed: "100", timeWindowMinutes: 1 })]) };
    expect(expectOne(files, "policy-options-invalid", POLICIES, '"100"').message).toBe('Policy "rate-limit-inbound": requestsAllowed: must be integer');
  });

  it("reports an unknown rateLimitBy with the allowed values", () => {
    const files = { [ROUTES]: routesFile([{ route: route(["rate-limit-inbound"]) }]), [POLICIES]: policiesFile([rateLimitPolicy({ rateLimitBy: "banana", requestsAllowed: 1, timeWindowMinutes: 1 })]) };
    expect(expectOne(files, "policy-options-invalid", POLICIES, '"banana"').message).toMatch(/must be one of "ip", "user", "all"/);
  });

  it("warns about an option Gitway does not use instead of failing the config", () => {
    const files = { [ROUTES]: routesFile([{ route: route(["api-key-inbound"]) }]), [POLICIES]: policiesFile([{ ...apiKeyPolicy(), handler: { ...apiKeyPolicy().handler, options: { bucketName: "x" } } }]) };
    const d = expectOne(files, "policy-options-invalid", POLICIES, '"bucketName"');
    expect(d.severity).toBe("warning");
  });

  it("reports a forwarding handler whose baseUrl has no scheme", () => {
    const files = { [ROUTES]: routesFile([{ route: route([], forward("api.example.com")) }]), [POLICIES]: policiesFile([]) };
    expect(expectOne(files, "forward-base-url-invalid", ROUTES, '"api.example.com"').message).toMatch(/not an absolute URL; write it with its scheme, such as https:\/\/api.example.com/);
  });

  it("reports a forwarding handler with no baseUrl at its options", () => {
    const files = { [ROUTES]: routesFile([{ route: route([], { ...forward(), options: {} }) }]), [POLICIES]: policiesFile([]) };
    const d = errorsOf(files).filter((x) => x.rule === "handler-options-invalid");
    const key = positionOf(files[ROUTES], '"options": {}');
    expect(placed(d)).toEqual([{ rule: "handler-options-invalid", file: ROUTES, line: key.line, column: key.column + '"options": '.length, severity: "error" }]);
    expect(d[0]!.message).toMatch(/missing required property "baseUrl"/);
  });

  it("collects $env names from handler and policy options so a deployment can require them", () => {
    const files = {
      [ROUTES]: routesFile([{ route: route(["rate-limit-inbound"], forward("$env(ORDERS_UPSTREAM)")) }]),
      [POLICIES]: policiesFile([{ ...rateLimitPolicy({ rateLimitBy: "ip", requestsAllowed: 1, timeWindowMinutes: 1 }), handler: { ...rateLimitPolicy({}).handler, options: { rateLimitBy: "ip", requestsAllowed: 1, timeWindowMinutes: 1, headerMode: "retry-after" } } }]),
    };
    const { config, diagnostics } = readConfig(snapshot(files));
    expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(envNames(config!.env)).toEqual(["ORDERS_UPSTREAM"]);
    expect(config!.env[0]!.location).toEqual({ file: ROUTES, pointer: "/paths/~1api~1v1~1orders/get/x-zuplo-route/handler/options/baseUrl" });
  });

  it("reports a malformed $env reference", () => {
    const files = { [ROUTES]: routesFile([{ route: route([], forward("https://$env(1BAD).example.com")) }]), [POLICIES]: policiesFile([]) };
    expectOne(files, "env-reference-invalid", ROUTES, '"https://$env(1BAD).example.com"');
  });

  it("reads several *.oas.json route files together and reports an operationId used in both", () => {
    const a = routesFile([{ path: "/a", operationId: "list", route: route([]) }]);
    const b = routesFile([{ path: "/b", operationId: "list", route: route([]) }]);
    const files = { "config/a.oas.json": a, "config/b.oas.json": b, [POLICIES]: policiesFile([]) };
    const d = expectOne(files, "operation-id-duplicate", "config/b.oas.json", '"list"');
    expect(d.message).toBe(`GET /b: operationId "list" is already used by GET /a (config/a.oas.json:${positionOf(a, '"list"').line})`);
    expect(readConfig(snapshot(files)).config?.routes.map((r) => r.id)).toEqual(["GET /a", "GET /b"]);
  });

  it("reports two paths that differ only in parameter names as one route served twice", () => {
    const p = (name: string) => [{ name, in: "path", required: true, schema: { type: "string" } }];
    const files = { [ROUTES]: routesFile([{ path: "/orders/{id}", parameters: p("id"), route: route([]) }, { path: "/orders/{orderId}", parameters: p("orderId"), route: route([]) }]), [POLICIES]: policiesFile([]) };
    expectOne(files, "route-duplicate", ROUTES, '"get"', 2);
  });

  it("reports a path template parameter that is not declared, and a declared one the template lacks", () => {
    const files = {
      [ROUTES]: routesFile([{ path: "/orders/{id}", parameters: [{ name: "orderId", in: "path", required: true, schema: { type: "string" } }], route: route([]) }]),
      [POLICIES]: policiesFile([]),
    };
    expectOne(files, "path-parameter-undeclared", ROUTES, '"get"');
    expectOne(files, "path-parameter-not-in-template", ROUTES, '"orderId"');
  });

  it("reports a parameter listed twice in one operation", () => {
    const q = { name: "limit", in: "query", schema: { type: "integer" } };
    const files = { [ROUTES]: routesFile([{ parameters: [q, q], route: route([]) }]), [POLICIES]: policiesFile([]) };
    expectOne(files, "parameter-duplicate", ROUTES, '"limit"', 2);
  });

  it("reports a CORS policy that is neither built in nor defined, and accepts a custom one that is", () => {
    const files = { [ROUTES]: routesFile([{ route: route([], forward(), { corsPolicy: "partners" }) }]), [POLICIES]: policiesFile([]) };
    expectOne(files, "cors-policy-undefined", ROUTES, '"partners"');
    const defined = { ...files, [POLICIES]: policiesFile([], { corsPolicies: [{ name: "partners", allowedOrigins: ["https://*.partner.example"] }] }) };
    expect(errorsOf(defined)).toEqual([]);
  });

  it("reports an outbound policy listed under inbound", () => {
    const p = { name: "add-header", policyType: "set-headers-outbound", handler: { export: "SetHeadersOutboundPolicy", module: "$import(@zuplo/runtime)", options: { headers: [{ name: "x-a", value: "1" }] } } };
    const files = { [ROUTES]: routesFile([{ route: route(["add-header"]) }]), [POLICIES]: policiesFile([p]) };
    expect(expectOne(files, "route-invalid", ROUTES, '"add-header"').message).toMatch(/is an outbound policy but is listed under inbound/);
  });

  it("warns that an operation without x-zuplo-route is not served", () => {
    const files = { [ROUTES]: routesFile([{ route: route([]) }, { path: "/internal" }]), [POLICIES]: policiesFile([]) };
    expect(expectOne(files, "route-missing-gateway-extension", ROUTES, '"get"', 2).severity).toBe("warning");
  });

  it("notes a policy that no route uses", () => {
    const files = { [ROUTES]: routesFile([{ route: route([]) }]), [POLICIES]: policiesFile([apiKeyPolicy()]) };
    const d = readConfig(snapshot(files)).diagnostics.filter((x) => x.rule === "policy-unused");
    expect(placed(d)).toEqual([{ rule: "policy-unused", file: POLICIES, ...positionOf(files[POLICIES], '"api-key-inbound"'), severity: "info" }]);
  });

  it("reports policies.json of the wrong shape at the offending field", () => {
    const files = { [ROUTES]: routesFile([{ route: route([]) }]), [POLICIES]: JSON.stringify({ policies: [{ name: "x", handler: {} }] }, null, 2) };
    const found = errorsOf(files).filter((d) => d.rule === "policies-file-invalid");
    expect(found.map((d) => d.message)).toEqual(expect.arrayContaining(['policies › 0: missing required property "policyType"']));
  });
});

describe("OpenAPI checks", () => {
  it("reports a JSON syntax error in a route file at its position and reads nothing else from it", () => {
    const text = '{\n  "openapi": "3.1.0",\n  "info": { "title": "x" "version": "1" }\n}';
    const d = errorsOf({ [ROUTES]: text });
    expect(placed(d)).toEqual([{ rule: "json-syntax", file: ROUTES, line: 3, column: 26, severity: "error" }]);
  });

  it("reports schema violations mapped from JSON pointer to line and column", () => {
    const text = routesFile([{ route: route([]) }]).replace('"description": "OK"', '"summary": "OK"');
    const files = { [ROUTES]: text, [POLICIES]: policiesFile([]) };
    const found = errorsOf(files).filter((d) => d.rule === "openapi-schema");
    expect(found.map((d) => [d.line, d.column, d.message])).toEqual([
      [positionOf(text, '"200": {').line, positionOf(text, '"200": {').column + 7, 'get › responses › 200: missing required property "description"'],
      [positionOf(text, '"summary"').line, positionOf(text, '"summary"').column, 'get › responses › 200: property "summary" is not allowed here (extensions must start with x-)'],
    ]);
  });

  it("refuses Swagger 2.0 with a message that says what to do", () => {
    const d = errorsOf({ "openapi.yaml": 'swagger: "2.0"\ninfo: {title: x, version: "1"}\npaths: {}\n' });
    expect(d.map((x) => [x.rule, x.line, x.column, x.message])).toEqual([["openapi-version", 1, 10, "Swagger 2.0 is not supported: convert the document to OpenAPI 3.0 or 3.1"]]);
  });

  describe("$refs", () => {
    const doc = (ref: string) => `openapi: 3.0.3\ninfo: {title: x, version: "1"}\nservers: [{url: "https://api.example.com"}]\npaths:\n  /a:\n    get:\n      responses:\n        "200":\n          description: ok\n          content:\n            application/json:\n              schema:\n                $ref: "${ref}"\n`;

    it("resolves internal refs and refs to other files of the repository", () => {
      const files = { "openapi.yaml": doc("schemas/order.yaml#/Order"), "schemas/order.yaml": "Order:\n  type: object\n" };
      expect(errorsOf(files)).toEqual([]);
    });

    it.each([
      { ref: "https://example.com/schemas.json#/Order", rule: "ref-external-url" },
      { ref: "http://169.254.169.254/latest/meta-data", rule: "ref-external-url" },
      { ref: "file:///etc/passwd", rule: "ref-external-url" },
      { ref: "../../../etc/passwd", rule: "ref-outside-repository" },
      { ref: "/etc/passwd", rule: "ref-outside-repository" },
      { ref: "schemas/missing.yaml#/Order", rule: "ref-not-found" },
      { ref: "#/components/schemas/Nope", rule: "ref-not-found" },
      { ref: "#Order", rule: "ref-invalid" },
    ])("reports $ref $ref as $rule at the $ref, without reading it", ({ ref, rule }) => {
      const files = { "openapi.yaml": doc(ref) };
      expect(placed(errorsOf(files))).toEqual([{ rule, file: "openapi.yaml", ...positionOf(files["openapi.yaml"], `"${ref}"`), severity: "error" }]);
    });

    it("validates a schema reached through a $ref into another file, and reports it where it is written", () => {
      const schemas = "Order:\n  type: object\n  properties:\n    id:\n      type: string\n      nullable: maybe\n";
      const files = { "openapi.yaml": doc("schemas/order.yaml#/Order"), "schemas/order.yaml": schemas };
      const found = errorsOf(files).filter((d) => d.rule === "openapi-schema");
      expect(placed(found)).toEqual([{ rule: "openapi-schema", file: "schemas/order.yaml", ...positionOf(schemas, "maybe"), severity: "error" }]);
    });

    it("treats a schema property named $ref as a name, not a reference", () => {
      const text = `openapi: 3.0.3\ninfo: {title: x, version: "1"}\nservers: [{url: "https://api.example.com"}]\npaths: {}\ncomponents:\n  schemas:\n    Member:\n      type: object\n      required: [$ref]\n      properties:\n        $ref: {type: string}\n`;
      expect(errorsOf({ "openapi.yaml": text })).toEqual([]);
    });

    it("accepts recursive schemas and reports a ref chain that loops without ever reaching a value", () => {
      const text = `openapi: 3.1.0\ninfo: {title: x, version: "1"}\nservers: [{url: "https://api.example.com"}]\npaths: {}\ncomponents:\n  schemas:\n    Node:\n      type: object\n      properties:\n        children: {type: array, items: {$ref: "#/components/schemas/Node"}}\n    A: {$ref: "#/components/schemas/B"}\n    B: {$ref: "#/components/schemas/A"}\n`;
      const d = errorsOf({ "openapi.yaml": text });
      expect(d.map((x) => [x.rule, x.line])).toEqual([
        ["ref-invalid", 11],
        ["ref-invalid", 12],
      ]);
    });
  });
});

describe("the plain OpenAPI format", () => {
  const plain = 'openapi: 3.0.3\ninfo: {title: Pets, version: "1.0"}\nservers:\n  - url: https://{region}.pets.example/v1\n    variables:\n      region: {default: eu}\npaths:\n  /pets:\n    get:\n      responses: {"200": {description: ok}}\n';

  it("forwards every operation to servers[0].url with its variables filled", () => {
    const { config, diagnostics } = readConfig(snapshot({ "openapi.yaml": plain }));
    expect(diagnostics).toEqual([]);
    expect(config?.format).toBe("openapi");
    expect(config?.routes.map((r) => [r.id, r.handler.export, r.handler.options.baseUrl])).toEqual([["GET /pets", "urlForwardHandler", "https://eu.pets.example/v1"]]);
  });

  it("reads the document .github/gitway.yml points to", () => {
    const { config } = readConfig(snapshot({ "api/pets.yaml": plain, ".github/gitway.yml": "openapi: api/pets.yaml\n" }));
    expect(config?.documents.map((d) => d.file)).toEqual(["api/pets.yaml"]);
  });

  it("reports a document with no upstream to forward to", () => {
    const text = plain.replace(/servers:[\s\S]*?paths:/, "paths:");
    expect(placed(errorsOf({ "openapi.yaml": text }))).toEqual([{ rule: "upstream-url-invalid", file: "openapi.yaml", line: 1, column: 1, severity: "error" }]);
  });

  it("reports a YAML syntax error at its position", () => {
    const d = errorsOf({ "openapi.yaml": "openapi: 3.0.3\ninfo: {title: x\npaths: {}\n" });
    expect(d[0]).toMatchObject({ rule: "yaml-syntax", file: "openapi.yaml", line: 3 });
  });
});

describe("finding the config", () => {
  it("says where it looked when there is no config", () => {
    const d = readConfig(snapshot({ "README.md": "hi" })).diagnostics;
    expect(d.map((x) => [x.rule, x.file, x.message])).toEqual([["config-not-found", ".", expect.stringMatching(/looked for config\/\*\.oas\.json .* and for openapi\.yaml, openapi\.yml, openapi\.json at its root/)]]);
  });

  it("reports a settings file naming a document that does not exist, at the setting", () => {
    const files = { ".github/gitway.yml": "openapi: api/missing.yaml\n" };
    expectOne(files, "config-not-found", ".github/gitway.yml", "api/missing.yaml");
  });

  it("reports an unknown settings key and an unknown severity level", () => {
    const settings = "opnapi: x.yaml\ndiff:\n  severity:\n    request-parameter-removed: fatal\n";
    const openapi = "openapi: 3.0.3\ninfo:\n  title: Pets\n  version: 1.0.0\npaths:\n  /pets:\n    get:\n      responses:\n        '200':\n          description: the pets\n";
    const d = errorsOf({ ".github/gitway.yml": settings, "openapi.yaml": openapi }).filter((x) => x.rule === "settings-invalid");
    expect(d.map((x) => [x.line, x.column])).toEqual([
      [1, 1],
      [4, 32],
    ]);
  });

  it("reads the impact window and names, and refuses a window usage is not kept for", () => {
    const openapi = "openapi: 3.0.3\ninfo:\n  title: Pets\n  version: 1.0.0\npaths:\n  /pets:\n    get:\n      responses:\n        '200':\n          description: the pets\n";
    expect(readConfig(snapshot({ "openapi.yaml": openapi })).config!.settings.diff).toMatchObject({ impactDays: 30, impactNames: true });
    expect(readConfig(snapshot({ ".github/gitway.yml": "diff:\n  impactDays: 7\n  impactNames: false\n", "openapi.yaml": openapi })).config!.settings.diff).toMatchObject({ impactDays: 7, impactNames: false });
    for (const bad of ["impactDays: 91", "impactDays: 0", "impactDays: 1.5", "impactNames: sometimes"]) {
      const d = errorsOf({ ".github/gitway.yml": `diff:\n  ${bad}\n`, "openapi.yaml": openapi }).filter((x) => x.rule === "settings-invalid");
      expect(d.map((x) => [x.line, x.message])).toEqual([[2, expect.any(String)]]);
    }
  });
});
