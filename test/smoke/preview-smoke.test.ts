import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readAppSettings } from "../../src/app/settings.js";
import { startGitway, type Running } from "../../src/app/start.js";
import { ConfigRepo } from "../config-repo.js";

const FIXTURE = fileURLToPath(new URL("./fixtures/orders/config/", import.meta.url));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** The orders backend on loopback: what it answers is the test's to choose; it notes who called. */
class Upstream {
  status = "open";
  calls: { method: string; path: string; consumer: string | undefined; authorization: string | undefined }[] = [];
  readonly server: Server = createServer((req, res) => {
    this.calls.push({ method: req.method!, path: req.url!, consumer: req.headers["x-consumer-name"] as string | undefined, authorization: req.headers.authorization });
    const send = (status: number, body: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    if (req.url === "/v1/health") return send(200, { ok: true });
    if (req.url === "/v1/orders") return send(200, [{ id: "o-1", status: this.status, note: null }]);
    if (req.url === "/v1/orders/o-1") return send(200, { id: "o-1", status: this.status });
    send(404, {});
  });
  url = "";
  async start() {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  close() {
    return new Promise<void>((r) => {
      this.server.close(() => r());
      this.server.closeAllConnections();
    });
  }
}

function ordersConfig(upstream: string, settings?: string): Record<string, string> {
  return {
    "config/routes.oas.json": readFileSync(join(FIXTURE, "routes.oas.json"), "utf8").replaceAll("UPSTREAM", upstream),
    "config/policies.json": readFileSync(join(FIXTURE, "policies.json"), "utf8"),
    ...(settings ? { ".github/gitway.yml": settings } : {}),
  };
}

describe("the smoke test of a branch's preview (Git mode)", () => {
  let root: string;
  let repo: ConfigRepo;
  let upstream: Upstream;
  let app: Running | undefined;

  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), "gitway-smoke-"));
    repo = new ConfigRepo(root, "orders");
    upstream = new Upstream();
    await upstream.start();
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
    await upstream.close();
    rmSync(root, { recursive: true, force: true });
  });

  async function start(options: { listenGateway?: boolean } = {}) {
    const env: Record<string, string> = { GITWAY_REPOS: repo.dir, PORT: "0", GATEWAY_PORT: "0", GITWAY_UPSTREAM_ALLOW: "127.0.0.1", GITWAY_DATA_DIR: "memory://", GITWAY_POLL_SECONDS: "3600", GITWAY_ADMIN_TOKEN: "test-admin-token-0123456789", LOG_LEVEL: "fatal" };
    app = await startGitway(readAppSettings(env), env, { log: (l, m) => process.env.SMOKE_DEBUG && console.log(l, m), workerIdleMs: 10, ...options });
    await app.reconciler!.tick();
    await app.idle(30_000);
    if (process.env.SMOKE_DEBUG) console.log(JSON.stringify((await app.operations.environments()).map((e) => [e.name, e.status, e.reason])));
  }

  const smokeOf = async (sha: string) => (await app!.operations.checks("branch-feature-x")).find((c) => c.name === "smoke" && c.commit === sha);

  it("passes when every answer fits the description, with a key minted for the routes that need one and revoked after", async () => {
    repo.commit("main", ordersConfig(upstream.url));
    const sha = repo.commit("feature/x", ordersConfig(upstream.url));
    await start();

    const smoke = await smokeOf(sha);
    expect(smoke).toMatchObject({ conclusion: "success", title: "3 answers as the description says" });
    expect(smoke!.summary).toContain("| listOrders (GET /v1/orders) | `GET /v1/orders` | 200 | passed |");
    expect(smoke!.summary).toContain("| getOrder (GET /v1/orders/{orderId}) | `GET /v1/orders/o-1` | 200 | passed |");
    expect(smoke!.summary).toMatch(/\| createOrder \(POST \/v1\/orders\) \| - \| - \| not sent \| POST is not a safe method/);
    // The key reached the gateway, not the upstream; it belonged to the smoke test's consumer.
    const keyed = upstream.calls.filter((c) => c.path.startsWith("/v1/orders"));
    expect(keyed.map((c) => c.consumer)).toEqual(["gitway-smoke", "gitway-smoke"]);
    expect(keyed.every((c) => c.authorization === undefined)).toBe(true);
    expect(upstream.calls.some((c) => c.method === "POST")).toBe(false);
    // Revoked after: the preview keeps no consumer of the test's.
    expect((await app!.operations.keys("branch-feature-x")).map((k) => k.consumer)).toEqual([]);
    // The test's key does not make a release of its own: the preview runs production's release id (same files, no keys).
    const [preview, production] = [await app!.operations.environment("branch-feature-x"), await app!.operations.environment("production")];
    expect(preview.runningRelease).toBe(production.runningRelease);
    expect(preview.desiredRelease).toBe(preview.runningRelease);
    // Its consumer's name is the smoke test's alone.
    await expect(app!.operations.createKey("branch-feature-x", "gitway-smoke", "admin")).rejects.toThrow(/gitway-smoke is the consumer of the smoke test's own keys/);
  });

  it("goes through this process's own gateway when gateway workers serve the port (they learn of a release a moment later)", async () => {
    repo.commit("main", ordersConfig(upstream.url));
    const sha = repo.commit("feature/x", ordersConfig(upstream.url));
    // No worker serves the gateway port here at all: only the app process's own gateway can answer.
    await start({ listenGateway: false });

    expect(await smokeOf(sha)).toMatchObject({ conclusion: "success", title: "3 answers as the description says" });
  });

  it("fails, naming the operation and the first schema error, when the upstream answers a body the description does not allow", async () => {
    repo.commit("main", ordersConfig(upstream.url));
    const sha = repo.commit("feature/x", ordersConfig(upstream.url));
    upstream.status = "lost";
    await start();

    const smoke = await smokeOf(sha);
    expect(smoke?.conclusion).toBe("failure");
    expect(smoke!.title).toBe('2 of 3 answers break the description: listOrders (GET /v1/orders): body[0].status must be one of "open", "shipped"');
    expect(smoke!.summary).toContain('| getOrder (GET /v1/orders/{orderId}) | `GET /v1/orders/o-1` | 200 | **failed** | body.status must be one of "open", "shipped" |');
    expect(smoke!.summary).toContain("| health (GET /v1/health) | `GET /v1/health` | 200 | passed |");
    // The operator sees it beside the environment, not only among the checks: in the API and in gitway status.
    expect((await app!.operations.environment("branch-feature-x")).smoke).toEqual({ conclusion: "failure", title: smoke!.title });
    const status = await new Promise<string>((resolve) =>
      execFile(process.execPath, ["dist/cli.js", "status"], { cwd: ROOT, env: { PATH: process.env.PATH ?? "", GITWAY_URL: app!.appUrl, GITWAY_ADMIN_TOKEN: "test-admin-token-0123456789" }, timeout: 30_000 }, (_e, stdout) => resolve(stdout)),
    );
    expect(status).toContain(`branch-feature-x: smoke test failed: ${smoke!.title}\n`);
  });

  it("says the upstream is unavailable, not that the contract is broken, when the upstream does not answer", async () => {
    repo.commit("main", ordersConfig(upstream.url));
    const sha = repo.commit("feature/x", ordersConfig(upstream.url));
    await upstream.close();
    await start();

    const smoke = await smokeOf(sha);
    expect(smoke?.conclusion).toBe("neutral");
    expect(smoke!.title).toMatch(/^3 of 3 answers not judged: upstream unavailable \(502: The upstream could not be reached or failed \(ECONNREFUSED\)\); 0 as described$/);
    expect(smoke!.summary).toMatch(/\| listOrders \(GET \/v1\/orders\) \| `GET \/v1\/orders` \| 502 \| not judged \| upstream unavailable \(502: The upstream could not be reached/);
  });

  it("runs no smoke test when production's settings say previews.smoke: off, whatever the branch says", async () => {
    repo.commit("main", ordersConfig(upstream.url, "previews:\n  smoke: off\n"));
    const sha = repo.commit("feature/x", ordersConfig(upstream.url, "previews:\n  smoke:\n    maxRequests: 50\n"));
    upstream.status = "lost";
    await start();

    expect((await app!.operations.checks("branch-feature-x")).filter((c) => c.commit === sha).map((c) => c.name).sort()).toEqual(["changes", "preview", "validate"]);
    expect(upstream.calls.filter((c) => c.path.startsWith("/v1/orders"))).toEqual([]);
  });

  it("replays unsafe methods and stops at maxRequests when the trusted settings say so", async () => {
    repo.commit("main", ordersConfig(upstream.url, "previews:\n  smoke:\n    unsafe: true\n    maxRequests: 3\n"));
    const sha = repo.commit("feature/x", ordersConfig(upstream.url));
    await start();

    const smoke = await smokeOf(sha);
    expect(upstream.calls.filter((c) => c.method === "POST").map((c) => c.path)).toEqual(["/v1/orders"]);
    expect(smoke!.summary).toMatch(/\| getOrder \(GET \/v1\/orders\/\{orderId\}\) \| - \| - \| not sent \| over the limit of 3 requests/);
    // This upstream answers the POST with 200 and a list, where the description promises 201.
    expect(smoke).toMatchObject({ conclusion: "failure" });
    expect(smoke!.title).toContain("createOrder (POST /v1/orders): status 200 is not documented (the description has 201)");
  });
});
