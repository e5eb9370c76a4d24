import { execFileSync } from "node:child_process";
import { gitEnv } from "../git/git-env.js";
import { cpSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The bundled example's files, shipped with the project. */
export const EXAMPLE_DIR = fileURLToPath(new URL("../../examples/shopkart", import.meta.url));
const BRANCHES_DIR = fileURLToPath(new URL("../../examples/shopkart-branches", import.meta.url));

const BRANCHES: [branch: string, overlay: string][] = [
  ["feature/stock-webhooks", "feature-stock-webhooks"],
  ["feature/open-orders", "feature-open-orders"],
];

/**
 * Makes the example a real Git repository under the data folder at first start: `main` with the
 * example, and a branch per overlay. Later starts leave it alone (commits made to it are the user's).
 */
export function ensureExampleRepository(dataDir: string): string {
  const repo = join(dataDir, "example", "shopkart");
  if (existsSync(join(repo, ".git"))) return repo;
  rmSync(repo, { recursive: true, force: true });
  mkdirSync(repo, { recursive: true });
  const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=Gitway example", "-c", "user.email=example@gitway.invalid", "-c", "commit.gpgsign=false", ...args], { cwd: repo, env: gitEnv(), stdio: "pipe" });
  git("init", "--quiet", "--initial-branch=main");
  cpSync(EXAMPLE_DIR, repo, { recursive: true });
  git("add", "-A");
  git("commit", "--quiet", "-m", "Shopkart API: products, stock levels and orders");
  for (const [branch, overlay] of BRANCHES) {
    git("checkout", "--quiet", "-b", branch, "main");
    cpSync(join(BRANCHES_DIR, overlay), repo, { recursive: true });
    git("add", "-A");
    git("commit", "--quiet", "-m", branch === "feature/stock-webhooks" ? "Stock webhooks: be told when a product is back" : "Open GET /v1/orders to callers without a key");
  }
  git("checkout", "--quiet", "main");
  return repo;
}

const PRODUCTS = [
  { id: "p-100", name: "Espresso cup", priceCents: 1200 },
  { id: "p-200", name: "Pour-over kettle", priceCents: 4900 },
  { id: "p-300", name: "Coffee beans, 1 kg", priceCents: 2600 },
];

/**
 * Shopkart's backend for the example, on loopback: enough answers that every curl in the README
 * works without internet. It echoes who called (the gateway's X-Consumer-Name).
 */
export async function startExampleUpstream(): Promise<{ url: string; server: Server }> {
  const orders: { id: string; productId: string; quantity: number; status: string; consumer: string }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const send = (status: number, body: unknown) => {
        const text = JSON.stringify(body);
        res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
        res.end(text);
      };
      const path = (req.url ?? "/").split("?")[0]!;
      const consumer = String(req.headers["x-consumer-name"] ?? "anonymous");
      let m: RegExpExecArray | null;
      if (req.method === "GET" && path === "/v1/products") return send(200, PRODUCTS);
      if (req.method === "GET" && (m = /^\/v1\/products\/([^/]+)$/.exec(path))) {
        const p = PRODUCTS.find((x) => x.id === decodeURIComponent(m![1]!));
        return p ? send(200, p) : send(404, { title: "No such product" });
      }
      if (req.method === "GET" && (m = /^\/v1\/stock\/([^/]+)$/.exec(path))) return send(200, { productId: decodeURIComponent(m[1]!), available: 7 });
      if (req.method === "GET" && path === "/v1/orders") return send(200, orders.filter((o) => o.consumer === consumer).map(({ consumer: _c, ...o }) => o));
      if (req.method === "POST" && path === "/v1/orders") {
        let body: { productId?: string; quantity?: number } = {};
        try {
          body = JSON.parse(Buffer.concat(chunks).toString() || "{}");
        } catch {
          return send(400, { title: "Body is not JSON" });
        }
        const order = { id: `o-${orders.length + 1}`, productId: String(body.productId), quantity: Number(body.quantity), status: "open", consumer };
        orders.push(order);
        const { consumer: _c, ...shown } = order;
        return send(201, shown);
      }
      if (req.method === "POST" && path === "/v1/webhooks/stock") return send(202, { subscribed: true });
      send(404, { title: "Not found" });
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}
