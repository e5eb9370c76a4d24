import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readConfig } from "../../src/config/index.js";
import { renderNginx } from "../../src/nginx/render.js";
import { consumer, startGateway, startUpstream, type GatewayUnderTest } from "../gateway/harness.js";
import { snapshot } from "../helpers.js";
import { freePort } from "../free-port.js";
import { JS_MODULE, startNginx, type RunningNginx } from "./nginx-process.js";

const EXAMPLE = fileURLToPath(new URL("../../examples/shopkart/", import.meta.url));
// The harness serves its environment under the label "local".
const HOST = "local.gitway.test";
const KEY = "shopkart-test-key";

function files(dir: string, base = dir, out: Record<string, string> = {}): Record<string, string> {
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) files(p, base, out);
    else if (p.endsWith(".json")) out[p.slice(base.length)] = readFileSync(p, "utf8");
  }
  return out;
}

let upstream: Awaited<ReturnType<typeof startUpstream>>;
let node: GatewayUnderTest;
let nginx: RunningNginx;

beforeAll(async () => {
  upstream = await startUpstream();
  const f = files(EXAMPLE);
  const env = { name: "shopkart", vars: { SHOPKART_UPSTREAM: upstream.url }, consumers: [consumer("alice", KEY)] };
  node = await startGateway(f, env, { strictHosts: true, trustedProxy: { header: "X-Gitway-Client-Address", addresses: ["127.0.0.1"] } });
  const port = await freePort();
  const { files: rendered } = renderNginx({
    environments: [{ host: HOST, name: "shopkart", release: { config: readConfig(snapshot(f)).config!, vars: env.vars }, consumers: env.consumers }],
    nodeGatewayUrl: node.url,
    nodeClientAddressHeader: "X-Gitway-Client-Address",
    listen: { port, address: "127.0.0.1" },
    jsModulePath: JS_MODULE,
  });
  nginx = await startNginx(rendered, port);
}, 20_000);

afterAll(async () => {
  await nginx?.stop();
  await node?.close();
  await upstream?.close();
});

const send = async (path: string, init: { method?: "GET" | "POST"; headers?: Record<string, string>; body?: string } = {}) => {
  const r = await request(`http://127.0.0.1:${nginx.port}${path}`, { method: init.method ?? "GET", headers: { host: HOST, ...init.headers }, ...(init.body ? { body: init.body } : {}), headersTimeout: 5_000, bodyTimeout: 5_000 });
  return { status: r.statusCode, text: await r.body.text() };
};

describe("the bundled example served by nginx", () => {
  it("serves its public route and its keyed route", async () => {
    expect((await send("/v1/products")).status).toBe(200);
    expect((await send("/v1/orders")).status).toBe(401);
    expect((await send("/v1/orders", { headers: { authorization: `Bearer ${KEY}` } })).status).toBe(200);
  });

  it("hands its validated route to the Node gateway, which validates the body", async () => {
    const bad = await send("/v1/orders", { method: "POST", headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" }, body: "{}" });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text).type).toBe("https://gitway.dev/problems/request-validation-failed");
  });
});
