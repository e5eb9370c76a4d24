import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, startProcess, type Started } from "../app/start.js";

/**
 * The dashboard end to end: the app as `npm start` starts it (the bundled example, Git polling,
 * the gateway) driven by a real headless Chromium (Debian's `chromium`, which .ci/run installs).
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const TOKEN = "e2e-admin-token-4f7d1c2a9b";
const ARTIFACTS = join(ROOT, "test-results");

/** GET through the gateway as a client of `envUrl` would: the environment is chosen by the Host header. */
function callGateway(gatewayUrl: string, envUrl: string, path: string, key?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(gatewayUrl + path, { headers: { host: new URL(envUrl).host, ...(key ? { authorization: `Bearer ${key}` } : {}) } }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function until<T>(what: string, attempt: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("the dashboard in a real browser, against the app as npm start runs it", () => {
  let app: Started;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let dataDir: string;
  const requested: string[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium, as .ci/run does) or set CHROMIUM_PATH`);
    if (!existsSync(join(ROOT, "dist/main.js"))) throw new Error("dist/main.js is missing: npm run build first (npm test does)");
    dataDir = mkdtempSync(join(tmpdir(), "gitway-e2e-"));
    mkdirSync(ARTIFACTS, { recursive: true });
    // Free ports; the base domain names the default gateway port, so the pages show the URLs people see.
    app = await startProcess(["dist/main.js"], { GITWAY_DATA_DIR: dataDir, PORT: "0", GATEWAY_PORT: "0", GATEWAY_BASE_DOMAIN: "localhost:8787", GITWAY_ADMIN_TOKEN: TOKEN, LOG_LEVEL: "info" });
    // Root in CI containers: Chromium's sandbox needs user namespaces it may not have.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    context.on("request", (r) => requested.push(r.url()));
    context.setDefaultTimeout(10_000);
    page = await context.newPage();
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(m.text());
    });
    page.on("pageerror", (e) => problems.push(e.message));
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("lists the example's environments on the overview", async () => {
    // The example is deployed by the worker shortly after start: reload until production is synced.
    await until("the example's production to be synced", async () => {
      await page.goto(app.appUrl + "/");
      const status = await page.locator("tr.env", { hasText: "production" }).locator(".badge").first().textContent();
      // The branches' environments come with the same first sync, not necessarily on the same page load.
      return status === "synced" && (await page.locator("tr.env th a").count()) >= 2 ? true : undefined;
    }, 60_000);
    const names = await page.locator("tr.env th a").allTextContents();
    expect(names).toContain("production");
    expect(names.length).toBeGreaterThanOrEqual(2);
    // The Node gateway serves everything here (GATEWAY_ENGINE unset): the Engine column says so.
    expect(await page.locator("tr.env td.engine").allTextContents()).toEqual(names.map(() => "node"));
    await expect(page.locator("h2").first().textContent()).resolves.toMatch(/shopkart/);
  }, 90_000);

  it("shows a preview's change report as on the pull request, breaking and security first", async () => {
    await page.goto(app.appUrl + "/");
    await page.locator("tr.env th a", { hasText: "open-orders" }).click();
    const first = page.locator("article.deployment").first();
    await expect(first.locator("p.summary").textContent()).resolves.toBe("1 breaking, 0 warnings, 0 info");
    const row = first.locator("table.changes tbody tr").first();
    await expect(row.textContent()).resolves.toMatch(/breaking\s+security\s*GET \/v1\/orders\s*api-key-inbound was removed/);
    await expect(row.locator("td").nth(3).textContent()).resolves.toBe("config/routes.oas.json:226");
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-environment.png"), fullPage: true });
  });

  it("reads without JavaScript", async () => {
    const plain = await browser.newContext({ javaScriptEnabled: false });
    plain.on("request", (r) => requested.push(r.url()));
    const p = await plain.newPage();
    await p.goto(app.appUrl + "/");
    expect(await p.locator("tr.env").count()).toBeGreaterThanOrEqual(2);
    // Keyboard first: the first Tab reaches the link that skips to the content.
    await p.keyboard.press("Tab");
    await expect(p.locator(":focus").textContent()).resolves.toBe("Skip to content");
    await p.locator("tr.env th a", { hasText: "production" }).first().click();
    await expect(p.locator("h2", { hasText: "Deployments" }).count()).resolves.toBe(1);
    await plain.close();
  });

  it("fits a phone's width: the overview's environments need no sideways scrolling", async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    phone.on("request", (r) => requested.push(r.url()));
    const p = await phone.newPage();
    await p.goto(app.appUrl + "/");
    // A string, evaluated in the page (this project has no DOM types).
    expect(await p.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
    expect(await p.evaluate("Math.max(...[...document.querySelectorAll('table.environments')].map((t) => t.getBoundingClientRect().width))")).toBeLessThanOrEqual(390);
    await phone.close();
  });

  it("tells a wrong admin token so, logs it, and signs in with the right one", async () => {
    await page.goto(app.appUrl + "/");
    await page.getByRole("link", { name: "Sign in" }).click();
    await page.getByLabel("Admin token").fill("not-the-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("alert").textContent()).resolves.toBe("That is not the admin token.");
    expect(app.output()).toContain("dashboard sign-in with a wrong admin token from 127.0.0.1 (1 in the last 10 minutes)");
    expect(app.output()).not.toContain("not-the-token");
    await page.getByLabel("Admin token").fill(TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.locator(".account").textContent()).resolves.toContain("signed in as admin");
    const cookie = (await context.cookies()).find((c) => c.name === "gitway_session")!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict" });
  });

  let envUrl = "";
  let key = "";

  it("creates a key on an environment: the gateway answers 200 with it and 401 without", async () => {
    await page.goto(app.appUrl + "/");
    await page.locator("tr.env th a", { hasText: "production" }).first().click();
    envUrl = (await page.locator("dd.env-url").textContent())!.trim();
    await page.getByLabel("Consumer").fill("e2e-partner");
    await page.getByRole("button", { name: "Create key" }).click();
    key = (await page.locator("#new-key").textContent())!;
    expect(key.length).toBeGreaterThan(16);
    await expect(page.locator("#curl-line").textContent()).resolves.toBe(`curl -H "Authorization: Bearer ${key}" ${envUrl}`);
    await expect(page.getByRole("button", { name: "Copy key" }).isVisible()).resolves.toBe(true);
    const withKey = await until("the new key to work", async () => {
      const r = await callGateway(app.gatewayUrl, envUrl, "/v1/stock/p-100", key);
      return r.status === 200 ? r : undefined;
    });
    expect(JSON.parse(withKey.body)).toMatchObject({ productId: "p-100" });
    expect((await callGateway(app.gatewayUrl, envUrl, "/v1/stock/p-100")).status).toBe(401);
    // Shown once: a reload lists the consumer, never the key.
    await page.reload();
    expect(await page.content()).not.toContain(key);
    await expect(page.locator("table.keys").textContent()).resolves.toContain("e2e-partner");
  }, 60_000);

  it("shows the environment's calls per operation and consumer, each with a bar, once the gateway has written them", async () => {
    // The gateway writes its counts every 10 s: reload until the key's calls are there.
    const table = await until(
      "the usage table to list the new consumer",
      async () => {
        await page.reload();
        const rows = page.locator("table.usage tbody tr");
        return (await rows.filter({ hasText: "e2e-partner" }).count()) > 0 ? rows : undefined;
      },
      40_000,
    );
    const partner = table.filter({ hasText: "e2e-partner" }).first();
    await expect(partner.locator("th code").textContent()).resolves.toBe("getStock");
    expect(Number((await partner.locator("td.num").first().textContent())!.replace(/,/g, ""))).toBeGreaterThanOrEqual(1);
    await expect(partner.locator("meter").count()).resolves.toBe(1);
    // The call without a key was answered too (401): counted as anonymous, in the 4xx/5xx column.
    const anonymous = table.filter({ hasText: "anonymous" }).filter({ hasText: "getStock" }).first();
    expect(Number((await anonymous.locator("td.num").last().textContent())!.replace(/,/g, ""))).toBeGreaterThanOrEqual(1);
    expect(await page.content()).not.toContain(key);
  }, 60_000);

  it("revokes the key: the gateway refuses it", async () => {
    await page.locator("table.keys tr", { hasText: "e2e-partner" }).getByRole("button", { name: "Revoke" }).click();
    // Revoking asks once more.
    await expect(page.locator("h1").textContent()).resolves.toBe("Revoke e2e-partner's keys?");
    await page.getByRole("button", { name: "Revoke e2e-partner" }).click();
    await expect(page.locator(".notice").textContent()).resolves.toBe("Key revoked.");
    await until("the revoked key to be refused", async () => ((await callGateway(app.gatewayUrl, envUrl, "/v1/stock/p-100", key)).status === 401 ? true : undefined));
  }, 60_000);

  it("rolls back to a release, which pins the environment, and the overview shows it pinned", async () => {
    // The running release is not offered; an earlier one is, and production asks once more.
    await expect(page.locator("article.deployment").first().getByRole("button", { name: "Roll back to this release" }).count()).resolves.toBe(0);
    await page.locator("article.deployment").getByRole("button", { name: "Roll back to this release" }).first().click();
    await expect(page.locator("h1").textContent()).resolves.toBe("Roll back production?");
    await page.getByRole("button", { name: "Roll back production" }).click();
    await expect(page.locator(".notice").textContent()).resolves.toContain("Pinned");
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-environment-pinned.png"), fullPage: true });
    await page.goto(app.appUrl + "/");
    await expect(page.locator("tr.env", { hasText: "production" }).first().locator(".badge.pinned").textContent()).resolves.toBe("pinned");
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-overview.png"), fullPage: true });
  });

  it("shows those actions in the audit log", async () => {
    await page.getByRole("link", { name: "Audit log" }).click();
    await page.getByLabel("Actor").fill("admin");
    await page.getByRole("button", { name: "Filter" }).click();
    const actions = await page.locator("table.audit tbody tr td:nth-child(3)").allTextContents();
    expect(actions).toEqual(expect.arrayContaining(["key.created", "key.revoked", "environment.pinned"]));
    await expect(page.locator("table.audit tbody a", { hasText: "production" }).first().getAttribute("href")).resolves.toMatch(/^\/environments\/[a-z0-9-]+-production$/);
    expect(new URL(page.url()).searchParams.get("actor")).toBe("admin");
  });

  it("answers bad input with a clear page, never a stack trace", async () => {
    const unknown = await page.goto(app.appUrl + "/environments/no-such-environment");
    expect(unknown!.status()).toBe(404);
    await expect(page.locator("h1").textContent()).resolves.toBe("Unknown environment");
    const huge = await page.goto(`${app.appUrl}/audit?actor=${"x".repeat(5000)}`);
    expect(huge!.status()).toBe(414);
    await expect(page.locator("h1").textContent()).resolves.toBe("Address too long");
    // A form without its CSRF token, posted from the signed-in page itself.
    await page.goto(app.appUrl + "/");
    const forged = await page.request.post(`${app.appUrl}/environments/no-such-environment/sync`, { form: { x: "1" }, maxRedirects: 0 });
    expect(forged.status()).toBe(403);
    expect(await forged.text()).toContain("<h1>Form expired</h1>");
    for (const body of [await page.content(), await forged.text()]) expect(body).not.toMatch(/\n\s+at .+:\d+:\d+/);
  });

  it("loads nothing from another origin and breaks no Content-Security-Policy", () => {
    const origin = new URL(app.appUrl).origin;
    expect(requested.length).toBeGreaterThan(10);
    expect(requested.filter((u) => new URL(u).origin !== origin)).toEqual([]);
    expect(problems.filter((p) => !/status of (401|403|404|414)/.test(p))).toEqual([]);
  });
});
