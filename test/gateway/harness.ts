import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { readConfig } from "../../src/config/index.js";
import { compileRelease, GatewayServer, hashKey, MemoryRateLimitStore, Upstreams, type EnvironmentSettings, type GatewayServerOptions, type GatewayServices, type RateLimitStore, type Release } from "../../src/gateway/index.js";
import { snapshot } from "../helpers.js";

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A real HTTP upstream on loopback that records what reached it and answers JSON (or as told). */
export async function startUpstream(answer?: (req: SeenRequest, res: import("node:http").ServerResponse) => void) {
  const seen: SeenRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const r = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() };
      seen.push(r);
      if (answer) return answer(r, res);
      const body = JSON.stringify({ ok: true, path: req.url });
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body), connection: "keep-alive", "x-upstream": "yes" });
      res.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export interface GatewayUnderTest {
  url: string;
  gateway: GatewayServer;
  upstreams: Upstreams;
  release: (files: Record<string, string>, env?: Partial<EnvironmentSettings>) => Release;
  close: () => Promise<void>;
  logs: string[];
}

/** A gateway on loopback serving `files` as environment `local` (any host falls back to it unless `strictHosts`). */
export async function startGateway(files: Record<string, string>, env: Partial<EnvironmentSettings> = {}, options: { store?: RateLimitStore; strictHosts?: boolean; timeouts?: { connectMs: number; headersMs: number; bodyMs: number }; egress?: GatewayServices["egress"]; trustedProxy?: GatewayServerOptions["trustedProxy"] } = {}): Promise<GatewayUnderTest> {
  const logs: string[] = [];
  const upstreams = new Upstreams(options.timeouts);
  const store = options.store ?? new MemoryRateLimitStore();
  const services: GatewayServices = { upstreams, rateLimitStore: store, log: (_l: string, m: string) => void logs.push(m), maxBodyBytes: 1024 * 1024, bodyTimeoutMs: 2_000, ...(options.egress ? { egress: options.egress } : {}) };
  const release = (f: Record<string, string>, e: Partial<EnvironmentSettings> = {}) => {
    const { config, diagnostics } = readConfig(snapshot(f));
    const errors = diagnostics.filter((d) => d.severity === "error");
    if (!config || errors.length > 0) throw new Error("fixture has errors: " + errors.map((d) => `${d.rule} ${d.message}`).join("; "));
    return compileRelease(config, { name: e.name ?? "local", vars: e.vars ?? {}, consumers: e.consumers ?? [], ...(e.egress ? { egress: e.egress } : {}) }, services);
  };
  const gateway = new GatewayServer({ baseDomain: "gitway.test", ...(options.strictHosts ? {} : { fallbackEnvironment: "local" }), log: (_l, m) => void logs.push(m), headersTimeoutMs: 2_000, requestTimeoutMs: 5_000, ...(options.trustedProxy ? { trustedProxy: options.trustedProxy } : {}) });
  gateway.deploy("local", release(files, env));
  const port = await gateway.listen(0);
  return {
    url: `http://127.0.0.1:${port}`,
    gateway,
    upstreams,
    release,
    logs,
    close: async () => {
      await gateway.close();
      await upstreams.close();
    },
  };
}

export const consumer = (name: string, ...keys: string[]) => ({ name, keyHashes: keys.map(hashKey) });
