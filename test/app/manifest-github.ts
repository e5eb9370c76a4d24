import { generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { parse } from "yaml";

export const PEM = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
export const appYml = parse(readFileSync(new URL("../../app.yml", import.meta.url), "utf8")) as { default_events: string[]; default_permissions: Record<string, string> };

/** A GitHub Enterprise Server-shaped API: the manifest conversion, answering as GitHub does, each code once. */
export async function githubApi(): Promise<{ url: string; host: string; conversions: string[]; close: () => Promise<void> }> {
  const codes = new Set(["code-from-github"]);
  const conversions: string[] = [];
  let url = "";
  const server: Server = createServer((req, res) => {
    const m = /^\/api\/v3\/app-manifests\/([^/]+)\/conversions$/.exec(req.url ?? "");
    if (req.method !== "POST" || !m) return void res.writeHead(404).end();
    conversions.push(m[1]!);
    if (!codes.delete(m[1]!)) return void res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ message: "Not Found" }));
    res.writeHead(201, { "content-type": "application/json" });
    res.end(JSON.stringify({ id: 4242, slug: "gitway-test", node_id: "A_1", name: "Gitway test", html_url: `${url}/apps/gitway-test`, client_id: "Iv1.abc", client_secret: "client-secret-value-123", webhook_secret: "webhook-secret-value-456", pem: PEM, owner: { login: "octo-org" }, permissions: appYml.default_permissions, events: appYml.default_events }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  url = `http://${host}`;
  return { url, host, conversions, close: () => new Promise((r) => server.close(() => r())) };
}

