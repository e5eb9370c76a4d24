import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { builtinPolicy as policy, forward, policiesFile, route, routesFile } from "../config/fixtures/seed.js";
import { startGateway, startUpstream } from "./harness.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

/** A route open only to 203.0.113.0/24, on a gateway that does or does not sit behind nginx. */
async function officeOnly(clientAddressHeader?: string) {
  const u = await startUpstream();
  closers.push(u.close);
  const files = { "config/routes.oas.json": routesFile([{ route: route(["office"], forward(u.url)) }]), "config/policies.json": policiesFile([policy("office", "ip-restriction-inbound", "IPRestrictionInboundPolicy", { allowedIpAddresses: ["203.0.113.0/24"] })]) };
  const g = await startGateway(files, {}, clientAddressHeader ? { trustedProxy: { header: clientAddressHeader, addresses: ["127.0.0.1", "::1"] } } : {});
  closers.push(g.close);
  return async (headers: Record<string, string>) => {
    const r = await request(`${g.url}/api/v1/orders`, { headers });
    await r.body.text();
    return r.statusCode;
  };
}

describe("the caller's address behind nginx", () => {
  it("is the one nginx names in the header when the peer is loopback (nginx beside it)", async () => {
    const ask = await officeOnly("x-gitway-client-address");
    expect(await ask({ "x-gitway-client-address": "203.0.113.9" })).toBe(200);
    expect(await ask({ "x-gitway-client-address": "198.51.100.1" })).toBe(403);
  });

  it("is the peer's when the header is no address", async () => {
    const ask = await officeOnly("x-gitway-client-address");
    expect(await ask({ "x-gitway-client-address": "203.0.113.9, 10.0.0.1" })).toBe(403);
  });

  it("is never taken from a header unless the gateway is told it sits behind nginx", async () => {
    const ask = await officeOnly();
    expect(await ask({ "x-gitway-client-address": "203.0.113.9" })).toBe(403);
  });
});
