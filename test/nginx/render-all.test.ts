import { describe, expect, it } from "vitest";
import { readConfig } from "../../src/config/index.js";
import { CLIENT_ADDRESS_HEADER, environmentHost, renderAllWith, type AgentEnvironment } from "../../src/nginx/index.js";
import { builtinPolicy as policy, forward, routesFile } from "../config/fixtures/seed.js";
import { snapshot } from "../helpers.js";

/** One environment whose route nginx leaves to the Node gateway (request validation) and that limits by the caller's address. */
function validatedAndLimited(): AgentEnvironment {
  const policies = [policy("validate", "request-validation-inbound", "RequestValidationInboundPolicy", { validateBody: "reject-and-log" }), policy("limit", "rate-limit-inbound", "RateLimitInboundPolicy", { rateLimitBy: "ip", requestsAllowed: 10, timeWindowMinutes: 1 })];
  const { config } = readConfig(snapshot({ "config/routes.oas.json": routesFile([{ route: { corsPolicy: "none", handler: forward("http://127.0.0.1:9000"), policies: { inbound: ["limit", "validate"] } } }]), "config/policies.json": JSON.stringify({ policies }) }));
  return { label: "acme-shop-production", kind: "production", releaseHash: "h", config: config!, values: { name: "production", vars: {}, secretNames: [], consumers: [] } };
}

describe("what the agent renders", () => {
  const render = renderAllWith({ listen: { port: 8787, address: "127.0.0.1" }, nodeGatewayUrl: "http://127.0.0.1:8788", baseDomain: "gitway.example.com:8787" });

  it("serves an environment at its label under the base domain, without the port", () => {
    expect(environmentHost("acme-shop-production", "Gitway.Example.com:8787")).toBe("acme-shop-production.gitway.example.com");
    expect(render([validatedAndLimited()]).files["environments/e0.conf"]).toContain("server_name 'acme-shop-production.gitway.example.com';");
  });

  it("hands a route left to the Node gateway over with the caller's address, so a limit by address still counts callers", () => {
    const r = render([validatedAndLimited()]);
    expect(r.hybridRoutes).toHaveLength(1);
    expect(r.files["environments/e0.conf"]).toContain(`proxy_set_header ${CLIENT_ADDRESS_HEADER} $remote_addr;`);
  });

  it("sends hosts it serves no environment for (previews on the Node gateway) to the Node gateway, with the caller's address", () => {
    const conf = render([]).files["nginx.conf"]!;
    const fallback = conf.slice(conf.indexOf("default_server"));
    expect(fallback).toContain("proxy_pass http://127.0.0.1:8788;");
    expect(fallback).toContain(`proxy_set_header ${CLIENT_ADDRESS_HEADER} $remote_addr;`);
    expect(fallback).not.toContain("environment-not-found");
  });
});

describe("an agent whose Node gateway is on another host", () => {
  it("refuses a route it would hand over when a policy there judges the caller's address: that Node gateway would judge nginx's", () => {
    const render = renderAllWith({ listen: { port: 8787 }, nodeGatewayUrl: "http://10.0.0.5:8788", baseDomain: "gitway.example.com" });
    expect(() => render([validatedAndLimited()])).toThrow(/judges the caller's address/);
  });
});
