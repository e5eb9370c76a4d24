import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, startProcess, type Started } from "../app/start.js";

/**
 * Issue 19 in Debian's Chromium, against `node dist/main.js` with the bundled example: the
 * operator's view tells the truth (failed is failed, a security break is red, one release id,
 * links that answer), at a desktop's and a phone's width. The screenshots go to docs/ for the README.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const TOKEN = "e2e-view-token-7c1f0a9d3e";
const WIDTHS = [1280, 390] as const;
/** Emoji and pictographs: glyphs Debian's Chromium may have no font for. */
const PICTOGRAPH = /\p{Extended_Pictographic}/u;

function callGateway(gatewayUrl: string, url: string, key?: string): Promise<number> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(gatewayUrl + u.pathname, { headers: { host: u.host, ...(key ? { authorization: `Bearer ${key}` } : {}) }, timeout: 10_000 }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

async function until<T>(what: string, attempt: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("the operator's view in a real browser, against the app as npm start runs it", () => {
  let app: Started;
  let browser: Browser;
  let page: Page;
  let dataDir: string;

  const cli = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, ["dist/cli.js", ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? "", GITWAY_URL: app.appUrl, GITWAY_ADMIN_TOKEN: TOKEN }, timeout: 30_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
      );
    });
  const statusOf = async (name: string) => {
    const res = await fetch(`${app.appUrl}/api/environments`);
    const { environments } = (await res.json()) as { environments: { name: string; status: string }[] };
    return environments.find((e) => e.name === name)?.status;
  };
  /** Both widths, into docs/ (shown in the README). */
  const shoot = async (name: string) => {
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: 900 });
      await page.screenshot({ path: join(ROOT, "docs", `${name}-${width}.png`), fullPage: true });
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  };
  const headers = () => page.locator("thead th").allTextContents();

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install Debian's chromium or set CHROMIUM_PATH`);
    if (!existsSync(join(ROOT, "dist/main.js"))) throw new Error("dist/main.js is missing: npm run build first (npm test does)");
    dataDir = mkdtempSync(join(tmpdir(), "gitway-view-e2e-"));
    app = await startProcess(["dist/main.js"], { GITWAY_DATA_DIR: dataDir, PORT: "0", GATEWAY_PORT: "0", GATEWAY_BASE_DOMAIN: "localhost:8787", GITWAY_ADMIN_TOKEN: TOKEN, GITWAY_POLL_SECONDS: "3600", LOG_LEVEL: "info" }, ROOT, 120_000);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.context().setDefaultTimeout(15_000);
    await until("the example to be synced", async () => ((await statusOf("production")) === "synced" && (await statusOf("branch-feature-open-orders")) === "synced" ? true : undefined), 120_000);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("shows the open-orders branch red on the overview, before the healthy ones, with text markers and a header on every column", async () => {
    await page.goto(app.appUrl + "/");
    const open = page.locator("tr.env", { hasText: "open-orders" });
    await expect(open.locator(".badge.risk").textContent()).resolves.toBe("breaking · security");
    expect(await open.locator(".badge.risk").evaluate((e) => (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(e).backgroundColor)).toBe("rgb(198, 40, 40)");
    await expect(page.locator("tr.env", { hasText: "production" }).locator(".badge.risk").count()).resolves.toBe(0);
    const names = await page.locator("tr.env th a").allTextContents();
    expect(names.indexOf("branch-feature-open-orders")).toBeLessThan(names.indexOf("production"));
    expect((await headers()).every((h) => h.trim() !== "")).toBe(true);
    expect(await page.locator("body").innerText()).not.toMatch(PICTOGRAPH);
    await shoot("dashboard-overview");
  }, 60_000);

  it("links only URLs that answer 200 or 401, never 404", async () => {
    await page.goto(app.appUrl + "/");
    const urls = await page.locator("td.url a").evaluateAll((links) => links.map((a) => (a as unknown as { href: string }).href));
    expect(urls.length).toBeGreaterThanOrEqual(3);
    for (const url of urls) expect([200, 401]).toContain(await callGateway(app.gatewayUrl, url));
  });

  it("offers no button the Git mode does not have, and renders the check summaries as markdown", async () => {
    await page.goto(app.appUrl + "/");
    await page.locator("tr.env th a", { hasText: "open-orders" }).click();
    const text = await page.locator("main").innerText();
    expect(text).not.toContain("Approve breaking");
    expect(text).not.toContain("```");
    expect(text).toContain("diff.ignore");
    expect(text).not.toMatch(PICTOGRAPH);
    expect((await headers()).every((h) => h.trim() !== "")).toBe(true);
    await expect(page.locator(".badge.risk").first().textContent()).resolves.toBe("breaking · security");
    await shoot("dashboard-environment");
  }, 60_000);

  it("takes the release id the dashboard shows in gitway rollback", async () => {
    expect((await cli(["keys", "create", "--env", "production", "--consumer", "view-e2e"])).code).toBe(0);
    await page.goto(app.appUrl + "/");
    await page.locator("tr.env th a", { hasText: "production" }).click();
    const shown = (await page.locator("article.deployment h3 code").allTextContents()).map((t) => t.trim());
    const running = (await page.locator("dt:text('Running release') + dd code").textContent())!.trim();
    const earlier = shown.find((id) => id !== running)!;
    expect(earlier).toMatch(/^[0-9a-f]{16}$/);
    const rolled = await cli(["rollback", "production", earlier]);
    expect([rolled.code, rolled.stderr]).toEqual([0, ""]);
    // The key created since is part of what runs: the old config is served with it, under a new id, and says so.
    const now = /as release ([0-9a-f]{16})/.exec(rolled.stdout)![1]!;
    expect(rolled.stdout).toContain(`production now serves the config of release ${earlier}, with today's keys and values, as release ${now}`);
    await page.reload();
    await expect(page.locator("dt:text('Running release') + dd code").textContent()).resolves.toBe(now);
    await expect(page.locator("dt:text('Desired release') + dd code").first().textContent()).resolves.toBe(now);
    await expect(page.locator("article.deployment h3 code").first().textContent()).resolves.toBe(now);
    expect((await cli(["unpin", "production"])).code).toBe(0);
  }, 90_000);

  it("shows a branch whose config cannot be read as failed with its first error, first on the overview, after one poll", async () => {
    const repo = join(dataDir, "example", "shopkart");
    const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=E2E", "-c", "user.email=e2e@example.invalid", "-c", "commit.gpgsign=false", ...args], { cwd: repo, stdio: "pipe" });
    git("checkout", "--quiet", "-b", "broken-json", "main");
    writeFileSync(join(repo, "config", "routes.oas.json"), '{\n  "openapi": "3.1.0",\n  "paths": {\n    "/v1/orders": {\n      "get": {\n        "x-zuplo-route": {\n          "handler": oops\n');
    git("commit", "--quiet", "-am", "A typo");
    git("checkout", "--quiet", "main");
    expect((await fetch(`${app.appUrl}/api/sync`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}` } })).status).toBeLessThan(300);
    await until("the broken branch to be failed", async () => ((await statusOf("branch-broken-json")) === "failed" ? true : undefined));

    await page.goto(app.appUrl + "/");
    await expect(page.locator("tr.env th a").first().textContent()).resolves.toBe("branch-broken-json");
    await page.locator("tr.env th a", { hasText: "broken-json" }).click();
    await expect(page.locator(".badge.status-failed").first().textContent()).resolves.toBe("failed");
    await expect(page.locator("dt:text('Status') + dd").textContent()).resolves.toMatch(/first: config\/routes\.oas\.json:7:\d+: error json-syntax/);
    const validate = page.locator("details.check", { has: page.locator("summary", { hasText: "validate:" }) }).first();
    await expect(validate.locator(".check-summary li").first().textContent()).resolves.toContain("error json-syntax");
    const changes = page.locator("details.check", { has: page.locator("summary", { hasText: "changes:" }) }).first();
    await expect(changes.textContent()).resolves.toContain("could not be read");
    const status = await cli(["status"]);
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/branch-broken-json: failed: .*json-syntax/);
    await shoot("dashboard-failed-environment");
  }, 120_000);

  it("told each step of its start as it happened, the first sync included", async () => {
    const steps = app
      .output()
      .split("\n")
      .map((l) => /"msg":"([^"]*)"/.exec(l)?.[1])
      .filter((m): m is string => m !== undefined);
    const order = [/^starting: opening the store \(PGlite in /, /^store ready after \d+\.\d s; migrating$/, /^applied \d+ migration\(s\) on PGlite \(\d+\.\d s\)$/, /^gateway: 0 environment\(s\) restored/, /^example repository ready: /, /^app on http:\/\/127\.0\.0\.1:\d+; gateway on .* \(listening after \d+\.\d s\)$/, /^first sync done after \d+\.\d s: 3 environment\(s\) served$/];
    const at = order.map((re) => steps.findIndex((m) => re.test(m)));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
  });

  it("refuses a second start on the same data folder in one line, without a stack trace", async () => {
    const second = await startProcess(["dist/main.js"], { GITWAY_DATA_DIR: dataDir, PORT: "0", GATEWAY_PORT: "0", LOG_LEVEL: "info" }, ROOT, 60_000).then(
      async (started) => {
        await started.stop();
        return "started";
      },
      (e: Error) => e.message,
    );
    expect(second).toMatch(/^exited with 1 before starting:\n/);
    const stderr = second.split("\n").filter((l) => l.startsWith("gitway:"));
    expect(stderr).toEqual([expect.stringMatching(/^gitway: The data folder .* is in use by process \d+ .*PGlite serves one process/)]);
    expect(second).not.toMatch(/\n\s+at .+:\d+:\d+/);
  }, 90_000);

  it("reads the audit log on a phone as cards of key: value lines", async () => {
    await page.goto(app.appUrl + "/audit");
    expect((await headers()).every((h) => h.trim() !== "")).toBe(true);
    await expect(page.locator("table.audit .kv dt").first().textContent()).resolves.toMatch(/\w/);
    await page.setViewportSize({ width: 390, height: 900 });
    expect(await page.evaluate<number>("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
    const firstRow = page.locator("table.audit tbody tr").first();
    const box = (await firstRow.boundingBox())!;
    expect(box.width).toBeLessThanOrEqual(390);
    await expect(firstRow.locator("td[data-label='Action']").isVisible()).resolves.toBe(true);
    await page.setViewportSize({ width: 1280, height: 900 });
    await shoot("dashboard-audit");
  }, 60_000);
});
