import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { builtinPolicy as policy, forward, policiesFile, route, routesFile } from "../config/fixtures/seed.js";
import { startGateway, startUpstream } from "./harness.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

async function gatewayBlockingTen(addresses: string[]) {
  const u = await startUpstream();
  closers.push(u.close);
  const files = { "config/routes.oas.json": routesFile([{ route: route(["no-ten"], forward(u.url)) }]), "config/policies.json": policiesFile([policy("no-ten", "ip-restriction-inbound", "IPRestrictionInboundPolicy", { blockedIpAddresses: ["10.0.0.0/8"] })]) };
  const g = await startGateway(files, {}, { trustedProxy: { header: "X-Gitway-Client-Address", addresses } });
  closers.push(g.close);
  return (headers: Record<string, string> = {}) => request(`${g.url}/api/v1/orders`, { headers }).then(async (r) => (await r.body.text(), r.statusCode));
}

describe("a trusted proxy in front of the gateway", () => {
  it("has the caller's address its policies judge taken from the proxy's header", async () => {
    const send = await gatewayBlockingTen(["127.0.0.1"]);
    expect(await send({ "x-gitway-client-address": "10.1.2.3" })).toBe(403);
    expect(await send({ "x-gitway-client-address": "192.0.2.7" })).toBe(200);
    expect(await send()).toBe(200);
  });

  it("ignores the header from an address that is not the proxy's, and a value that is not an address", async () => {
    expect(await (await gatewayBlockingTen(["192.0.2.1"]))({ "x-gitway-client-address": "10.1.2.3" })).toBe(200);
    expect(await (await gatewayBlockingTen(["127.0.0.1"]))({ "x-gitway-client-address": "10.1.2.3, 1.1.1.1" })).toBe(200);
  });
});
