import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { readAppSettings } from "../../src/app/settings.js";
import { classifyAddress, EgressPolicy, parseAllowList, ReleaseError } from "../../src/gateway/index.js";
import { configFiles, forward, route } from "../config/fixtures/seed.js";
import { startGateway, startUpstream } from "./harness.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

const PREVIEW = { fenced: true, trusted: [] as string[] };
const forwarding = (baseUrl: string, more: Record<string, unknown> = {}) => configFiles([{ route: route([], { ...forward(baseUrl), options: { baseUrl, ...more } }) }]);
const rewriting = (rewritePattern: string) => configFiles([{ route: route([], { export: "urlRewriteHandler", module: "$import(@zuplo/runtime)", options: { rewritePattern } }) }]);

async function upstream(answer?: Parameters<typeof startUpstream>[0]) {
  const u = await startUpstream(answer);
  closers.push(u.close);
  return u;
}

/** A gateway serving a harmless production release; the test swaps in the release it judges. */
async function gateway(egress?: NonNullable<Parameters<typeof startGateway>[2]>["egress"]) {
  const g = await startGateway(forwarding("https://api.example.com"), {}, egress ? { egress } : {});
  closers.push(g.close);
  return g;
}

async function get(url: string) {
  const r = await request(`${url}/api/v1/orders`);
  return { status: r.statusCode, type: r.headers["content-type"], body: await r.body.text(), id: r.headers["x-request-id"] };
}

function refusal(f: () => unknown): ReleaseError {
  try {
    f();
  } catch (e) {
    if (e instanceof ReleaseError) return e;
    throw e;
  }
  throw new Error("the release was built");
}

describe("the address classifier", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.3.4.5", "loopback"],
    ["::1", "loopback"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["fd12:3456::1", "private"],
    ["169.254.169.254", "metadata"],
    ["169.254.10.1", "link-local"],
    ["fe80::1", "link-local"],
    ["100.64.0.1", "cgnat"],
    ["224.0.0.1", "multicast"],
    ["ff02::1", "multicast"],
    ["0.0.0.0", "unspecified"],
    ["::", "unspecified"],
    ["93.184.216.34", "public"],
    ["172.32.0.1", "public"],
    ["2606:4700::1111", "public"],
  ])("calls %s %s", (address, cls) => {
    expect(classifyAddress(address)).toBe(cls);
  });

  it("calls something that is not an IP address nothing", () => {
    expect(classifyAddress("example.com")).toBeUndefined();
  });
});

describe("GITWAY_UPSTREAM_ALLOW", () => {
  it("reads hosts, host:port, *.suffix patterns and CIDRs", () => {
    expect(parseAllowList(" api.internal , 10.0.0.0/8, *.svc.cluster.local, 127.0.0.1:9000 ,").map((r) => [r.kind, r.value, r.port])).toEqual([
      ["host", "api.internal", undefined],
      ["cidr", "10.0.0.0/8", undefined],
      ["suffix", ".svc.cluster.local", undefined],
      ["host", "127.0.0.1", 9000],
    ]);
  });

  it.each(["10.0.0.0/33", "api.*.internal", "*.", "host:99999", "a b"])("refuses %s, naming it", (entry) => {
    expect(() => parseAllowList(entry)).toThrow(entry);
  });

  it("is checked at start: a wrong entry stops the app naming the setting", () => {
    expect(() => readAppSettings({ GITWAY_UPSTREAM_ALLOW: "10.0.0.0/8, api.*.internal" })).toThrow('GITWAY_UPSTREAM_ALLOW: "api.*.internal"');
    expect(readAppSettings({ GITWAY_UPSTREAM_ALLOW: "10.0.0.0/8" }).upstreamAllow).toHaveLength(1);
  });

  it("lets a preview reach a private address it lists, and only those", async () => {
    const policy = new EgressPolicy({ fenced: true, allow: parseAllowList("*.svc.internal,10.0.0.0/8"), resolver: async (h) => [{ address: h === "orders.svc.internal" ? "192.168.1.5" : "172.16.0.9" }] });
    await expect(policy.resolve("orders.svc.internal", 80)).resolves.toBe("192.168.1.5");
    await expect(policy.resolve("10.2.3.4", 80)).resolves.toBe("10.2.3.4");
    await expect(policy.resolve("other.internal", 80)).rejects.toThrow(/private address \(172\.16\.0\.9\).*GITWAY_UPSTREAM_ALLOW/);
  });

  it("refuses a name with one private address among public ones", async () => {
    const policy = new EgressPolicy({ fenced: true, resolver: async () => [{ address: "93.184.216.34" }, { address: "127.0.0.1" }] });
    await expect(policy.resolve("mixed.example", 443)).rejects.toThrow(/loopback/);
  });

  it("keeps the metadata address closed even to an allow entry covering its range, and open to one naming it", async () => {
    const wide = new EgressPolicy({ fenced: false, allow: parseAllowList("169.254.0.0/16") });
    await expect(wide.resolve("169.254.169.254", 80)).rejects.toThrow(/metadata/);
    const named = new EgressPolicy({ fenced: false, allow: parseAllowList("169.254.169.254") });
    await expect(named.resolve("169.254.169.254", 80)).resolves.toBe("169.254.169.254");
  });

  it("keeps a name that resolves to the metadata address closed in production too", async () => {
    const policy = new EgressPolicy({ fenced: false, resolver: async () => [{ address: "169.254.169.254" }] });
    await expect(policy.resolve("metadata.example", 80)).rejects.toThrow(/metadata/);
  });
});

describe("what a preview's release may forward to", () => {
  it("refuses a loopback upstream when the release is built, naming the route's line and GITWAY_UPSTREAM_ALLOW", async () => {
    const u = await upstream();
    const g = await gateway();
    const e = refusal(() => g.release(forwarding(u.url), { name: "pr-1", egress: PREVIEW }));
    expect(e.code).toBe("UPSTREAM_NOT_ALLOWED");
    expect(e.message).toMatch(/^upstream-not-allowed: GET \/api\/v1\/orders \(config\/routes\.oas\.json line \d+\) forwards to http:\/\/127\.0\.0\.1:\d+: .*loopback.*GITWAY_UPSTREAM_ALLOW/);
    expect(e.where).toMatch(/^config\/routes\.oas\.json:\d+$/);
    expect(u.seen).toHaveLength(0);
  });

  it.each(["http://localhost:{port}", "http://[::1]:{port}", "http://api.localhost:{port}", "http://169.254.169.254", "http://10.0.0.1", "http://0.0.0.0:{port}"])("refuses %s", async (url) => {
    const u = await upstream();
    const g = await gateway();
    expect(refusal(() => g.release(forwarding(url.replace("{port}", new URL(u.url).port)), { name: "pr-1", egress: PREVIEW })).code).toBe("UPSTREAM_NOT_ALLOWED");
    expect(u.seen).toHaveLength(0);
  });

  it("never relays to a name that resolves to 127.0.0.1 when it connects: 502 problem+json with the request id, and the upstream sees nothing", async () => {
    const u = await upstream();
    const g = await gateway({ allow: [], ownPorts: new Set(), resolver: async () => [{ address: "127.0.0.1" }] });
    g.gateway.deploy("local", g.release(forwarding(`http://rebound.example:${new URL(u.url).port}`), { name: "pr-1", egress: PREVIEW }));
    const r = await get(g.url);
    expect(r.status).toBe(502);
    expect(r.type).toBe("application/problem+json");
    const body = JSON.parse(r.body) as { type: string; trace: { requestId: string }; detail: string };
    expect(body.type).toBe("https://gitway.dev/problems/upstream-not-allowed");
    expect(body.trace.requestId).toBe(r.id);
    expect(body.detail).toMatch(/loopback/);
    expect(u.seen).toHaveLength(0);
  });

  it("relays to a host the operator allows", async () => {
    const u = await upstream();
    const g = await gateway({ allow: parseAllowList("127.0.0.1"), ownPorts: new Set() });
    g.gateway.deploy("local", g.release(forwarding(u.url), { name: "pr-1", egress: PREVIEW }));
    expect((await get(g.url)).status).toBe(200);
    expect(u.seen).toHaveLength(1);
  });

  it("relays to a host:port the production release forwards to, and not to another port of that host", async () => {
    const u = await upstream();
    const other = await upstream();
    const g = await gateway();
    const trusted = { fenced: true, trusted: [`127.0.0.1:${new URL(u.url).port}`] };
    g.gateway.deploy("local", g.release(forwarding(u.url), { name: "pr-1", egress: trusted }));
    expect((await get(g.url)).status).toBe(200);
    expect(refusal(() => g.release(forwarding(other.url), { name: "pr-1", egress: trusted })).code).toBe("UPSTREAM_NOT_ALLOWED");
    expect(other.seen).toHaveLength(0);
  });

  it("relays to public addresses and loopback alike outside a preview", async () => {
    const u = await upstream();
    const g = await gateway();
    g.gateway.deploy("local", g.release(forwarding(u.url)));
    expect((await get(g.url)).status).toBe(200);
  });

  it("does not follow a redirect in a preview: the caller gets it as the upstream sent it", async () => {
    const target = await upstream();
    const u = await upstream((_r, res) => {
      res.writeHead(302, { location: `${target.url}/elsewhere`, "content-length": 0 });
      res.end();
    });
    const g = await gateway({ allow: parseAllowList("127.0.0.1"), ownPorts: new Set() });
    g.gateway.deploy("local", g.release(forwarding(u.url, { followRedirects: true }), { name: "pr-1", egress: PREVIEW }));
    const r = await get(g.url);
    expect(r.status).toBe(302);
    expect(target.seen).toHaveLength(0);
  });

  it("lets a request-chosen rewrite origin reach only origins the release names", async () => {
    const named = await upstream();
    const unnamed = await upstream();
    const g = await gateway({ allow: parseAllowList("127.0.0.1"), ownPorts: new Set() });
    const files = configFiles([
      { route: route([], { export: "urlRewriteHandler", module: "$import(@zuplo/runtime)", options: { rewritePattern: "http://127.0.0.1:${headers.x-port}/orders" } }) },
      { path: "/api/v1/named", route: route([], forward(named.url)) },
    ]);
    g.gateway.deploy("local", g.release(files, { name: "pr-1", egress: PREVIEW }));
    const call = async (port: string) => (await request(`${g.url}/api/v1/orders`, { headers: { "x-port": port } })).statusCode;
    expect(await call(new URL(unnamed.url).port)).toBe(502);
    expect(unnamed.seen).toHaveLength(0);
    expect(await call(new URL(named.url).port)).toBe(200);
    expect(named.seen.map((s) => s.url)).toEqual(["/orders"]);
  });

  it("refuses a rewrite whose fixed origin is loopback when the release is built", async () => {
    const u = await upstream();
    const g = await gateway();
    expect(refusal(() => g.release(rewriting(`${u.url}/x/\${params.id}`), { name: "pr-1", egress: PREVIEW })).code).toBe("UPSTREAM_NOT_ALLOWED");
  });
});

describe("the app's own ports, in every environment", () => {
  it("are never relayed to, production included, unless listed with their port", async () => {
    const g = await gateway();
    const own = Number(new URL(g.url).port);
    const closed = await gateway({ allow: parseAllowList("127.0.0.1"), ownPorts: new Set([own]) });
    expect(refusal(() => closed.release(forwarding(`http://127.0.0.1:${own}`))).message).toMatch(/Gitway's own ports/);
    const listed = await gateway({ allow: parseAllowList(`127.0.0.1:${own}`), ownPorts: new Set([own]) });
    expect(() => listed.release(forwarding(`http://127.0.0.1:${own}`))).not.toThrow();
  });

  it("are refused when a name resolves to them at connect time", async () => {
    const u = await upstream();
    const port = Number(new URL(u.url).port);
    const g = await gateway({ allow: [], ownPorts: new Set([port]), resolver: async () => [{ address: "127.0.0.1" }] });
    g.gateway.deploy("local", g.release(forwarding(`http://app.example:${port}`)));
    expect((await get(g.url)).status).toBe(502);
    expect(u.seen).toHaveLength(0);
  });
});
