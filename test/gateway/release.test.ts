import { afterEach, describe, expect, it } from "vitest";
import { readConfig } from "../../src/config/index.js";
import { compileRelease, hashKey, MemoryRateLimitStore, Upstreams, type EnvironmentSettings } from "../../src/gateway/index.js";
import { forward, policiesFile, route, routesFile } from "../config/fixtures/seed.js";

const upstreams = new Upstreams();
afterEach(async () => {
  await upstreams.close();
});

function release(files: [string, string][], env: Partial<EnvironmentSettings> = {}) {
  const { config } = readConfig(new Map(files));
  const services = { upstreams, rateLimitStore: new MemoryRateLimitStore(), log: () => {}, maxBodyBytes: 1024, bodyTimeoutMs: 1_000 };
  return compileRelease(config!, { name: env.name ?? "local", vars: env.vars ?? { ORDERS_URL: "https://a.example" }, consumers: env.consumers ?? [] }, services);
}

const routes = (baseUrl = "$env(ORDERS_URL)") => routesFile([{ route: route(["api-key-inbound"], forward(baseUrl)) }]);
const repo = (r = routes()): [string, string][] => [
  ["config/routes.oas.json", r],
  ["config/policies.json", policiesFile()],
];

describe("a release's content hash", () => {
  it("is the same for the same files and values, whatever order the files were read in", () => {
    const a = release(repo());
    expect(a.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(release([...repo()].reverse()).hash).toBe(a.hash);
  });

  it("changes with any file, any $env value and the consumers", () => {
    const base = release(repo()).hash;
    const others = [
      release(repo(routes("https://b.example"))).hash,
      release(repo(), { vars: { ORDERS_URL: "https://c.example" } }).hash,
      release(repo(), { vars: { ORDERS_URL: "https://a.example", EXTRA: "1" } }).hash,
      release(repo(), { consumers: [{ name: "alice", keyHashes: [hashKey("k")] }] }).hash,
      release([...repo(), ["config/extra.json", "{}"]]).hash,
    ];
    expect(new Set([base, ...others]).size).toBe(6);
  });
});

describe("a basic-auth account filled from $env", () => {
  const basic = { name: "basic", policyType: "basic-auth-inbound", handler: { export: "BasicAuthInboundPolicy", module: "$import(@zuplo/runtime)", options: { accounts: [{ username: "ops", password: "$env(OPS_PASSWORD)" }] } } };
  const files = (): [string, string][] => [
    ["config/routes.oas.json", routesFile([{ route: route(["basic"], forward("https://a.example")) }])],
    ["config/policies.json", policiesFile([basic])],
  ];

  it("is refused when the environment sets the password to an empty string, rather than opening the route to the username alone", () => {
    expect(() => release(files(), { vars: { OPS_PASSWORD: "" } })).toThrow(expect.objectContaining({ code: "INVALID_CONFIG", message: 'policy basic: an account\'s username or password is empty in environment local (an $env value set to "")' }));
  });

  it("compiles when the password is set", () => {
    expect(release(files(), { vars: { OPS_PASSWORD: "s3cret" } }).routeCount).toBe(1);
  });
});
