import { describe, expect, it } from "vitest";
import { POLICIES, readConfig } from "../../src/config/index.js";
import { hashKey, ReleaseError } from "../../src/gateway/index.js";
import { NginxRenderError, renderNginx, type NginxEnvironment, type NginxRenderInput } from "../../src/nginx/render.js";
import { builtinPolicy as policy, forward, routesFile, type RouteSpec } from "../config/fixtures/seed.js";
import { snapshot } from "../helpers.js";

function environment(routes: RouteSpec[], policies: unknown[] = [], more: Partial<NginxEnvironment> & { vars?: Record<string, string> } = {}): NginxEnvironment {
  const { config, diagnostics } = readConfig(snapshot({ "config/routes.oas.json": routesFile(routes), "config/policies.json": JSON.stringify({ policies }) }));
  const errors = diagnostics.filter((d) => d.severity === "error");
  if (!config || errors.length > 0) throw new Error("fixture has errors: " + errors.map((d) => d.message).join("; "));
  return { host: "shop.gitway.test", name: "shop", release: { config, vars: more.vars ?? {} }, consumers: [], ...more };
}

const render = (envs: NginxEnvironment[], more: Partial<NginxRenderInput> = {}) => renderNginx({ environments: envs, nodeGatewayUrl: "http://127.0.0.1:8787", listen: { port: 8080 }, ...more });
const one = (inbound: string[], handler: unknown = forward("http://127.0.0.1:9000")): RouteSpec => ({ route: { corsPolicy: "none", handler, policies: { inbound } } });

/** Options each built-in policy needs to validate. */
const OPTIONS: Record<string, Record<string, unknown>> = {
  "basic-auth-inbound": { accounts: [{ username: "u", password: "p" }] },
  "rate-limit-inbound": { rateLimitBy: "ip", requestsAllowed: 10, timeWindowMinutes: 1 },
  "request-size-limit-inbound": { maxSizeInBytes: 100 },
  "set-headers-inbound": { headers: [{ name: "x-a", value: "b" }] },
  "set-headers-outbound": { headers: [{ name: "x-a", value: "b" }] },
  "remove-headers-inbound": { headers: ["x-a"] },
  "remove-headers-outbound": { headers: ["x-a"] },
  "ip-restriction-inbound": { allowedIpAddresses: ["10.0.0.0/8"] },
};

describe("renderNginx", () => {
  it("renders every built-in policy or lists its route as left to the Node gateway", () => {
    const rendered: string[] = [];
    const hybrid: string[] = [];
    for (const p of POLICIES) {
      const def = policy("p", p.policyType, p.export, OPTIONS[p.policyType] ?? {});
      const spec: RouteSpec = p.direction === "inbound" ? one(["p"]) : { route: { corsPolicy: "none", handler: forward("http://127.0.0.1:9000"), policies: { inbound: [], outbound: ["p"] } } };
      const r = render([environment([{ ...spec, ...(p.policyType === "mock-api-inbound" ? { responses: { "200": { description: "ok", content: { "application/json": { example: { a: 1 } } } } } } : {}) }], [def])]);
      (r.hybridRoutes.length > 0 ? hybrid : rendered).push(p.policyType);
    }
    expect(hybrid.sort()).toEqual(["mock-api-inbound", "request-validation-inbound"]);
    expect(rendered).toHaveLength(POLICIES.length - 2);
  });

  it("leaves to the Node gateway what nginx cannot express, saying why", () => {
    const routes: RouteSpec[] = [
      { path: "/rewrite/{id}", parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }], route: { corsPolicy: "none", handler: { export: "urlRewriteHandler", module: "$import(@zuplo/runtime)", options: { rewritePattern: "http://127.0.0.1:9000/items/${params.id}" } }, policies: { inbound: [] } } },
      { path: "/follow", route: { corsPolicy: "none", handler: { ...forward("http://127.0.0.1:9000"), options: { baseUrl: "http://127.0.0.1:9000", followRedirects: true } }, policies: { inbound: [] } } },
      { path: "/slow-limit", ...one(["hourly"]) },
      { path: "/no-body", method: "post", ...one(["empty"]) },
    ];
    const r = render([environment(routes, [policy("hourly", "rate-limit-inbound", "RateLimitInboundPolicy", { rateLimitBy: "all", requestsAllowed: 100, timeWindowMinutes: 60 }), policy("empty", "request-size-limit-inbound", "RequestSizeLimitInboundPolicy", { maxSizeInBytes: 0 })])]);
    expect(r.hybridRoutes.map((h) => [h.route, h.reason]).sort()).toEqual([
      ["GET /follow", "followRedirects: nginx returns the upstream's redirect instead of following it"],
      ["GET /rewrite/{id}", "urlRewriteHandler builds the upstream URL per request"],
      ["GET /slow-limit", "rate limit hourly (100 per 60 min) is not a whole number of requests per minute, which nginx's limit_req needs"],
      ["POST /no-body", "request size limit empty of 0 bytes: nginx's client_max_body_size 0 means no limit"],
    ]);
    expect(r.files["environments/e0.conf"]).toContain("proxy_pass http://127.0.0.1:8787;");
  });

  it("hands a path with characters nginx decodes to the Node gateway through its fallback location", () => {
    const r = render([environment([{ path: "/caf%C3%A9", ...one([]) }, { path: "/v1/items:batch", method: "post", ...one([]) }])]);
    expect(r.hybridRoutes).toEqual([{ environment: "shop", route: "GET /caf%C3%A9", reason: "the path has characters nginx decodes before matching" }]);
    const conf = r.files["environments/e0.conf"]!;
    expect(conf).toContain("location = /v1/items:batch {");
    expect(conf.slice(conf.indexOf("location / {"))).toContain("proxy_pass http://127.0.0.1:8787;");
  });

  it("refuses a route it would leave to the Node gateway when a policy there judges the caller's address, unless nginx may tell it the address", () => {
    const policies = [policy("validate", "request-validation-inbound", "RequestValidationInboundPolicy", { validateBody: "reject-and-log" }), policy("office", "ip-restriction-inbound", "IPRestrictionInboundPolicy", { allowedIpAddresses: ["10.0.0.0/8"] })];
    expect(() => render([environment([one(["office", "validate"])], policies)])).toThrow(/judges the caller's address/);
    const told = render([environment([one(["office", "validate"])], policies)], { nodeClientAddressHeader: "X-Gitway-Client-Address" });
    expect(told.files["environments/e0.conf"]).toContain("proxy_set_header X-Gitway-Client-Address $remote_addr;");
  });

  it("fills $env values into handler options and refuses an environment that lacks one", () => {
    const env = environment([one([], forward("$env(UPSTREAM)"))], [], { vars: { UPSTREAM: "http://10.1.2.3:7000" } });
    expect(render([env]).files["environments/e0.conf"]).toContain("server 10.1.2.3:7000;");
    const bare = environment([one([], forward("$env(UPSTREAM)"))], [], { vars: { UPSTREAM: "http://10.1.2.3:7000" } });
    bare.release = { ...bare.release, vars: {} };
    expect(() => render([bare])).toThrow(ReleaseError);
  });

  it("writes key hashes and consumer names, never keys, and refuses a consumer name nginx could misread", () => {
    const env = environment([one(["key"])], [policy("key", "api-key-inbound", "ApiKeyInboundPolicy")], { consumers: [{ name: "alice", keyHashes: [hashKey("secret-key")] }] });
    const conf = render([env]).files["environments/e0.conf"]!;
    expect(conf).toContain(`${hashKey("secret-key")} alice;`);
    expect(Object.values(render([env]).files).join("")).not.toContain("secret-key");
    expect(() => render([{ ...env, consumers: [{ name: "a; b", keyHashes: [hashKey("k")] }] }])).toThrow(NginxRenderError);
    expect(() => render([{ ...env, consumers: [{ name: "a", keyHashes: ["not-a-hash"] }] }])).toThrow(/not a SHA-256/);
  });

  it("writes a header value's quotes and dollars literally and refuses a control character", () => {
    const set = (value: string) => environment([one(["h"])], [policy("h", "set-headers-inbound", "SetHeadersInboundPolicy", { headers: [{ name: "x-v", value } ] })]);
    expect(render([set("a'b$c")]).files["environments/e0.conf"]).toContain(`proxy_set_header 'x-v' 'a\\'b\${gw_dollar}c';`);
    expect(() => render([set("a\nb")])).toThrow(/control character/);
  });

  it("refuses two environments at one host, a host that is not a host name, a bad worker count or Node gateway URL", () => {
    const env = environment([one([])]);
    expect(() => render([env, { ...env, name: "other" }])).toThrow(/two environments are served at shop.gitway.test/);
    expect(() => render([{ ...env, host: "shop.test; include /etc/passwd" }])).toThrow(/not a host name/);
    expect(() => render([env], { workerProcesses: 0 })).toThrow(/workerProcesses/);
    expect(() => render([env], { nodeGatewayUrl: "http://127.0.0.1:8787/x; deny all" })).toThrow(/nodeGatewayUrl/);
    expect(render([env], { workerProcesses: 2 }).files["nginx.conf"]).toContain("worker_processes 2;");
  });

  it("shares one rate-limit zone and one set of CORS maps among environments with the same policies, counting each apart", () => {
    const limit = policy("limit", "rate-limit-inbound", "RateLimitInboundPolicy", { rateLimitBy: "ip", requestsAllowed: 60, timeWindowMinutes: 1 });
    const spec: RouteSpec = { route: { corsPolicy: "anything-goes", handler: forward("http://127.0.0.1:9000"), policies: { inbound: ["limit"] } } };
    const envs = ["a", "b", "c"].map((n) => ({ ...environment([spec], [limit]), host: `${n}.gitway.test`, name: n }));
    const r = render(envs);
    const all = Object.values(r.files).join("\n");
    expect(all.match(/limit_req_zone /g)).toHaveLength(1);
    expect(all.match(/map \$http_origin /g)).toHaveLength(1);
    for (const n of ["a", "b", "c"]) expect(all).toContain(`_scope '${n}|limit|';`);
  });

  it("orders templated locations as the Node gateway matches: static segments first", () => {
    const param = [{ name: "id", in: "path", required: true, schema: { type: "string" } }];
    const routes: RouteSpec[] = [
      { path: "/a/{id}/x", parameters: param, ...one([]) },
      { path: "/a/{id}/{id2}", parameters: [...param, { name: "id2", in: "path", required: true, schema: { type: "string" } }], ...one([]) },
      { path: "/a/b/{id}", parameters: param, ...one([]) },
    ];
    const conf = render([environment(routes)]).files["environments/e0.conf"]!;
    const order = [...conf.matchAll(/location ~ "(.*)"/g)].map((m) => m[1]);
    expect(order).toEqual(["^/a/b/[^/]+/?$", "^/a/[^/]+/x/?$", "^/a/[^/]+/[^/]+/?$"]);
  });

  it("logs usage only for the routes nginx serves itself, labelled from the config by location and method", () => {
    const routes: RouteSpec[] = [
      { path: "/items", operationId: "listItems", ...one([]) },
      { path: "/items", method: "post", ...one([], { ...forward("http://127.0.0.1:9000"), options: { baseUrl: "http://127.0.0.1:9000", followRedirects: true } }) },
    ];
    const conf = render([environment(routes)], { usageLog: "/var/lib/gitway/nginx/usage/usage.log" }).files["nginx.conf"]!;
    // Buffered: a worker writes its lines in one write per 64 KiB or per second, not one send per call.
    expect(conf).toContain("access_log /var/lib/gitway/nginx/usage/usage.log gitway_usage buffer=64k flush=1s if=$gw_usage;");
    expect(conf).toContain(`"gw_e0_l0 GET" 'shop GET /items';`);
    // HEAD is answered by the GET route, as the Node gateway answers it; the hybrid POST is the Node gateway's to count.
    expect(conf).toContain(`"gw_e0_l0 HEAD" 'shop GET /items';`);
    expect(conf).not.toContain("POST /items");
    expect(render([environment(routes)]).files["nginx.conf"]).toContain("access_log off;");
  });

  it("refuses a usage log path nginx would read as a variable (unbuffered, opened per request) or as several words", () => {
    for (const bad of ["usage.log", "/var/log/$host.log", "/var/log/usage log", "/var/log/usage.log;"]) {
      expect(() => render([environment([one([])])], { usageLog: bad })).toThrow(NginxRenderError);
    }
  });
});
