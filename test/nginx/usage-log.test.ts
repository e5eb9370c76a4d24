import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { readConfig } from "../../src/config/index.js";
import { hashKey, UsageCounter } from "../../src/gateway/index.js";
import { ChildNginx, ConfigDir } from "../../src/nginx/index.js";
import { renderNginx } from "../../src/nginx/render.js";
import { parseUsageLine, UsageLogFile } from "../../src/nginx/usage-log.js";
import { apiKeyPolicy, forward, routesFile } from "../config/fixtures/seed.js";
import { snapshot } from "../helpers.js";
import { freePort } from "../free-port.js";
import { NGINX } from "./nginx-process.js";

const ORDERS = new Map([["shop-production", new Map([["GET /v1/orders", { id: "GET /v1/orders", operation: "listOrders" }]])]]);
const line = (consumer: string, status = "200", route = "shop-production GET /v1/orders") => `{"u":"${route}","c":"${consumer}","s":"${status}"}\n`;
const calls = (counter: UsageCounter) => counter.drain().reduce((sum, r) => sum + r.count, 0);

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), "gitway-usage-"));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Stands in for nginx's log writing: appends to whatever file its descriptor opened (the renamed
 * one, until it reopens), holding lines in a buffer it writes on reopen, as nginx's workers do.
 */
class Writer {
  private fd: number;
  private buffered = "";
  constructor(private readonly path: string) {
    this.fd = openSync(path, "a");
  }
  write(text: string, buffer = false): void {
    if (buffer) this.buffered += text;
    else writeSync(this.fd, text);
  }
  reopen(): void {
    writeSync(this.fd, this.buffered);
    this.buffered = "";
    closeSync(this.fd);
    this.fd = openSync(this.path, "a");
  }
  close(): void {
    closeSync(this.fd);
  }
}

describe("nginx's usage log line", () => {
  it("reads the environment, route, consumer and status nginx wrote", () => {
    expect(parseUsageLine('{"u":"acme-shop-production GET /v1/items/{id}","c":"mobile-app","s":"200"}')).toEqual({ environment: "acme-shop-production", routeId: "GET /v1/items/{id}", consumer: "mobile-app", status: 200 });
  });

  it("skips a malformed or foreign line rather than failing", () => {
    for (const bad of ["", "garbage", "{not json", '{"u":"x GET /","c":"a"}', '{"u":"nospace","c":"","s":"200"}', '{"u":"x GET /","c":"","s":"abc"}', '{"u":"x GET /","c":"","s":"700"}', "[1,2]", "null", `{"u":"x GET /","c":"${"a".repeat(200)}","s":"200"}`]) {
      expect(parseUsageLine(bad)).toBeUndefined();
    }
  });
});

describe("the agent's usage log file", () => {
  it("counts only routes the served configuration names, taking the operation from the config, never from the line", async () => {
    const path = join(scratch(), "usage", "usage.log");
    const counter = new UsageCounter({ now: () => 7_200_000 });
    const log = new UsageLogFile({ counter, path, reopen: async () => {} });
    log.serve(ORDERS);
    const w = new Writer(path);
    w.write(line("partner", "201") + line("", "401") + line("partner", "200", "other-production GET /v1/orders") + line("partner", "200", "shop-production DELETE /v1/orders") + "not a usage line\n");
    w.close();
    await log.collect();
    expect(counter.drain().map((r) => [r.environment, r.operation, r.route, r.consumer, r.status, r.count])).toEqual([
      ["shop-production", "listOrders", "GET /v1/orders", "partner", "2xx", 1],
      ["shop-production", "listOrders", "GET /v1/orders", "anonymous", "4xx", 1],
    ]);
  });

  it("counts each line once across rotations, the lines a late worker flushes into the renamed file after the reopen included", async () => {
    const path = join(scratch(), "usage", "usage.log");
    const counter = new UsageCounter();
    let clock = 0;
    // The reopen reaches one worker at once; the other reopens (flushing its buffer into the renamed file) later.
    const log = new UsageLogFile({ counter, path, reopen: async () => prompt.reopen(), settleMs: 2_000, now: () => clock });
    const prompt = new Writer(path);
    const late = new Writer(path);
    log.serve(ORDERS);
    prompt.write(line("a"));
    late.write(line("a"));
    late.write(line("b"), true);
    await log.collect();
    expect(calls(counter)).toBe(2);
    expect(existsSync(`${path}.1`)).toBe(true);
    prompt.write(line("c"));
    late.reopen();
    clock = 500;
    await log.collect();
    // The late worker's flushed line is counted; the renamed file stays open to more until the reopen settles.
    expect(calls(counter)).toBe(1);
    late.write(line("c"));
    clock = 2_500;
    await log.collect();
    expect(calls(counter)).toBe(2);
    clock = 2_600;
    await log.collect();
    clock = 5_000;
    await log.collect();
    await log.collect(true);
    expect(calls(counter)).toBe(0);
    prompt.close();
    late.close();
  });

  it("finishes a partial line once its end reaches the file, counting it once", async () => {
    const path = join(scratch(), "usage", "usage.log");
    const counter = new UsageCounter();
    const log = new UsageLogFile({ counter, path, reopen: async () => {}, settleMs: 60_000 });
    const w = new Writer(path);
    log.serve(ORDERS);
    const text = line("half");
    w.write(text.slice(0, 12));
    await log.collect();
    expect(calls(counter)).toBe(0);
    // The writer (not reopened: settleMs keeps the renamed file open) completes the line.
    w.write(text.slice(12));
    await log.collect();
    expect(calls(counter)).toBe(1);
    w.close();
  });

  it("keeps the renamed file when nginx could not reopen its logs, and asks again before anything is deleted", async () => {
    const path = join(scratch(), "usage", "usage.log");
    const counter = new UsageCounter();
    let fail = true;
    const log = new UsageLogFile({ counter, path, reopen: async () => (fail ? Promise.reject(new Error("no nginx")) : w.reopen()), settleMs: 0 });
    const w = new Writer(path);
    log.serve(ORDERS);
    w.write(line("a"));
    await expect(log.collect()).rejects.toThrow("no nginx");
    // nginx still appends to the renamed file: nothing may be deleted under it.
    w.write(line("a"));
    await expect(log.collect()).rejects.toThrow("no nginx");
    expect(calls(counter)).toBe(2);
    fail = false;
    w.write(line("a"), true);
    await log.collect();
    await log.collect();
    expect(calls(counter)).toBe(1);
    w.close();
  });

  it("reads a file larger than its buffer in bounded chunks, every line counted", async () => {
    const path = join(scratch(), "usage", "usage.log");
    const counter = new UsageCounter();
    const log = new UsageLogFile({ counter, path, reopen: async () => {} });
    log.serve(ORDERS);
    const w = new Writer(path);
    const n = 20_000; // about 1.3 MB: several 256 KiB chunks, lines split across their edges
    for (let i = 0; i < n; i += 1_000) w.write(line("bulk").repeat(1_000));
    w.close();
    await log.collect(true);
    expect(calls(counter)).toBe(n);
    expect(existsSync(path)).toBe(false);
  });
});

describe("usage from a real nginx's buffered access log", () => {
  it("counts every answered call exactly once while the log is rotated under load by two workers", async () => {
    const upstream: Server = createServer((_req, res) => res.end("ok"));
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    cleanup.push(() => new Promise<void>((r) => upstream.close(() => r())));
    const upstreamPort = (upstream.address() as { port: number }).port;
    const { config } = readConfig(snapshot({ "config/routes.oas.json": routesFile([{ path: "/v1/orders", operationId: "listOrders", route: { corsPolicy: "none", handler: forward(`http://127.0.0.1:${upstreamPort}`), policies: { inbound: ["api-key-inbound"] } } }]), "config/policies.json": JSON.stringify({ policies: [apiKeyPolicy()] }) }));
    const root = scratch();
    const dir = new ConfigDir(root);
    const port = await freePort();
    const path = join(dir.root, "usage", "usage.log");
    const counter = new UsageCounter();
    const control = new ChildNginx(NGINX, dir, () => {});
    const log = new UsageLogFile({ counter, path, reopen: () => control.reopen(), settleMs: 300 });
    const files = renderNginx({
      environments: [{ host: "shop.gitway.test", name: "shop-production", release: { config: config!, vars: {} }, consumers: [{ name: "partner", keyHashes: [hashKey("k1")] }] }],
      nodeGatewayUrl: "http://127.0.0.1:9",
      listen: { port, address: "127.0.0.1" },
      workerProcesses: 2,
      usageLog: path,
    }).files;
    dir.activate(dir.write(files));
    await control.apply();
    cleanup.push(() => control.stop());
    log.serve(new Map([["shop-production", new Map([["GET /v1/orders", { id: "GET /v1/orders", operation: "listOrders" }]])]]));

    const total = 1_200;
    let sent = 0;
    let answered = 0;
    const client = async () => {
      while (sent < total) {
        sent++;
        const r = await request(`http://127.0.0.1:${port}/v1/orders`, { headers: { host: "shop.gitway.test", authorization: `Bearer ${sent % 3 === 0 ? "wrong" : "k1"}` }, headersTimeout: 5_000, bodyTimeout: 5_000 });
        await r.body.dump();
        answered++;
      }
    };
    const deadline = Date.now() + 20_000;
    const load = Promise.all([client(), client(), client(), client()]);
    let rotations = 0;
    // Collections (rename, reopen, read) while the calls go on.
    while (answered < total && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      await log.collect();
      rotations++;
    }
    await load;
    expect(rotations).toBeGreaterThan(3);
    // nginx flushes its workers' buffers as they exit: then both files are read to their end.
    await control.stop();
    await log.collect(true);
    const rows = counter.drain();
    const by = (consumer: string, status: string) => rows.find((r) => r.consumer === consumer && r.status === status)?.count ?? 0;
    expect(by("partner", "2xx")).toBe(total - Math.floor(total / 3));
    expect(by("anonymous", "4xx")).toBe(Math.floor(total / 3));
    expect(existsSync(path) || existsSync(`${path}.1`)).toBe(false);
  }, 30_000);
});
