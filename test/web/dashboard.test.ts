import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Browser, rawGet, serve, type Served } from "./client.js";
import { MemoryOperations } from "./memory-operations.js";

const TOKEN = "test-admin-token-0123456789";
const NOW = new Date("2026-11-25T13:00:00.000Z");

function example(): MemoryOperations {
  const ops = new MemoryOperations();
  ops.addEnvironment({
    repository: "acme/shop",
    name: "production",
    kind: "production",
    runningRelease: "a".repeat(64),
    engine: "nginx",
    desiredRelease: "b".repeat(64),
    engines: [
      { instance: "edge-1:8080", release: "b".repeat(64), error: null, updatedAt: "2026-11-25T12:50:03.000Z" },
      { instance: "edge-2:8080", release: "a".repeat(64), error: null, updatedAt: "2026-11-25T12:40:00.000Z" },
    ],
    commit: { sha: "1234567890abcdef", message: "Ship <script>alert(1)</script> orders\nsecond line", author: "mona", at: "2026-11-25T12:48:00.000Z", url: "https://github.com/acme/shop/commit/1234567890abcdef" },
  });
  ops.addEnvironment({ repository: "acme/shop", name: "staging", kind: "stage", status: "out-of-sync", reason: "main moved to 9f00ba1", commit: { sha: "fedcba0987654321", message: "x", author: null, at: null, url: "javascript:alert(1)" } });
  ops.addEnvironment({ repository: "acme/shop", name: "pr-7", kind: "preview", status: "failed", pullRequest: 7, lastError: "config/routes.oas.json:12: unknown policy" });
  ops.addEnvironment({ repository: "acme/billing", name: "production", kind: "production" });
  ops.deploys.set("acme-shop-production", [
    {
      id: 2,
      release: "b".repeat(64),
      commit: "1234567890abcdef",
      trigger: "push",
      actor: "mona",
      startedAt: "2026-11-25T12:50:00.000Z",
      finishedAt: "2026-11-25T12:50:02.000Z",
      outcome: "succeeded",
      error: null,
      report: {
        summary: { breaking: 1, warning: 2, info: 1, accepted: 0 },
        changes: [
          { rule: "path-added", level: "info", category: "contract", operation: "GET /health", message: "a new operation", head: { file: "config/routes.oas.json", line: 40, column: 5, pointer: "" } },
          { rule: "api-key-removed", level: "warning", category: "security", operation: "GET /orders", message: "the API key policy was removed" },
          {
            rule: "response-property-type-changed",
            level: "warning",
            category: "contract",
            operation: undefined,
            message: "Order.total changed from number to string",
            affected: ["GET /orders", "GET /orders/{id}", "POST /orders", "PUT /orders/{id}"].map((operation) => ({ operation, where: "response 200 property total" })),
          },
          { rule: "response-property-removed", level: "breaking", category: "contract", operation: "GET /orders/{id}", message: "response property <b>total</b> was removed", base: { file: "config/routes.oas.json", line: 88, column: 9, pointer: "" } },
        ],
      },
      hybridRoutes: [{ route: "POST /orders/<b>", reason: "request validation" }],
    },
    { id: 1, release: "a".repeat(64), commit: "0000000aaaaaaa", trigger: "poll", actor: "gitway", startedAt: "2026-11-25T11:00:00.000Z", finishedAt: "2026-11-25T11:00:01.000Z", outcome: "succeeded", error: null, report: null, hybridRoutes: [] },
  ]);
  ops.deploys.set("acme-shop-pr-7", [
    { id: 3, release: "c".repeat(64), commit: "77777777", trigger: "pull request", actor: "octocat", startedAt: "2026-11-25T12:55:00.000Z", finishedAt: "2026-11-25T12:55:01.000Z", outcome: "failed", error: "config/policies.json:3:7 policy-unknown: no policy named rate-limit2", report: null, hybridRoutes: [] },
  ]);
  ops.checkList.set("acme-shop-pr-7", [
    { name: "validate", commit: "77777777", conclusion: "failure", title: "1 error", summary: "**1 error**\n\n- `config/policies.json:3:7: error policy-unknown: no policy named rate-limit2`", at: "2026-11-25T12:55:01.000Z" },
    { name: "validate", commit: "99999999", conclusion: "success", title: "Another branch's commit", summary: "No problems found.", at: "2026-11-25T12:56:01.000Z" },
  ]);
  ops.vars.set("acme-shop-production", [
    { name: "UPSTREAM_URL", secret: false, value: "http://upstream.internal" },
    { name: "PARTNER_TOKEN", secret: true, value: null },
  ]);
  return ops;
}

let ops: MemoryOperations;
let served: Served;
let browser: Browser;

async function start(publicRead = true, adminToken = TOKEN) {
  ops = example();
  served = await serve({ operations: ops, adminToken, publicRead, now: () => NOW });
  browser = new Browser(served.url);
}

afterEach(async () => {
  await served?.close();
});

describe("the overview", () => {
  beforeEach(() => start());

  it("lists every repository's environments with kind, status, URL and deployed commit", async () => {
    const page = await browser.get("/");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.body).toContain("<h2>acme/shop</h2>");
    expect(page.body).toContain("<h2>acme/billing</h2>");
    expect(page.body).toContain('<a href="/environments/acme-shop-staging">staging</a>');
    expect(page.body).toContain('<a href="http://acme-shop-production.localhost:8787/" rel="noreferrer noopener">');
    expect(page.body).toContain('<a href="https://github.com/acme/shop/commit/1234567890abcdef" rel="noreferrer noopener"><code>1234567</code></a>');
    expect(page.body).toContain("by mona");
    expect(page.body).toContain(">12 min ago</time>");
    expect(page.body).toContain("main moved to 9f00ba1");
  });

  it("shows the engine serving each environment, with how many nginx instances run its release", async () => {
    const { body } = await browser.get("/");
    expect(body).toContain('<th scope="col">Engine</th>');
    const engineOf = (label: string) => new RegExp(`data-label="${label}"[\\s\\S]*?<td class="engine">([\\s\\S]*?)</td>`).exec(body)?.[1];
    expect(engineOf("acme-shop-production")).toBe('nginx <span class="muted small">1/2 instances on the release</span>');
    expect(engineOf("acme-shop-staging")).toBe("node");
    expect(engineOf("acme-shop-pr-7")).toBe("node");
  });

  it("puts failed and out-of-sync environments first", async () => {
    const { body } = await browser.get("/");
    const order = [...body.matchAll(/data-label="([^"]+)"/g)].map((m) => m[1]);
    expect(order).toEqual(["acme-shop-pr-7", "acme-shop-staging", "acme-shop-production", "acme-billing-production"]);
  });

  it("escapes text from commits and links only http(s) URLs", async () => {
    const { body } = await browser.get("/");
    expect(body).not.toContain("<script>alert(1)</script>");
    expect(body).toContain("Ship &lt;script&gt;alert(1)&lt;/script&gt; orders");
    expect(body).not.toContain("second line");
    expect(body).not.toContain("javascript:");
  });

  it("loads nothing from another origin and runs no inline script", async () => {
    const page = await browser.get("/");
    const csp = page.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toMatch(/https?:|unsafe-inline|\*/);
    expect(page.headers.get("referrer-policy")).toBe("same-origin");
    expect([...page.body.matchAll(/<script[^>]*>/g)].map((m) => m[0])).toEqual(['<script src="/assets/dashboard.js" defer>']);
    expect(page.body).not.toMatch(/ style=| on[a-z]+=/);
    const css = await browser.get("/assets/dashboard.css");
    expect(css.status).toBe(200);
    expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8");
    expect(css.body).not.toMatch(/@import|url\(/);
  });

  it("leaves paths that are not the dashboard's to the rest of the app server", async () => {
    const res = await fetch(`${served.url}/api/environments`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: "not found" });
  });
});

describe("an environment's page", () => {
  beforeEach(() => start());

  it("shows its deployments newest first, with trigger, actor and outcome", async () => {
    const { status, body } = await browser.get("/environments/acme-shop-production");
    expect(status).toBe(200);
    expect(body.indexOf(`<code>${"b".repeat(16)}</code>`)).toBeLessThan(body.indexOf(`<code>${"a".repeat(16)}</code> <span class="badge outcome`));
    expect(body).toContain("push by mona");
    expect(body).toContain("poll by gitway");
    expect(body).toContain('<span class="badge outcome-succeeded">succeeded</span>');
  });

  it("says which engine serves it and, per deployment, which routes nginx hands to the Node gateway", async () => {
    const { body } = await browser.get("/environments/acme-shop-production");
    expect(body).toContain('<dt>Engine</dt><dd class="engine">nginx <span class="muted small">1/2 instances on the release</span></dd>');
    expect(body).toContain("nginx hands 1 route to the Node gateway behind it:</p>\n<ul><li><code>POST /orders/&lt;b&gt;</code>: request validation</li></ul>");
    expect(body.match(/Node gateway behind it/g)).toHaveLength(1);
    expect((await browser.get("/environments/acme-shop-staging")).body).toContain('<dt>Engine</dt><dd class="engine">node</dd>');
  });

  it("renders the change report with breaking, then security changes first, escaped", async () => {
    const { body } = await browser.get("/environments/acme-shop-production");
    expect(body).toContain("<strong>1 breaking</strong>, 2 warnings, 1 info");
    const breaking = body.indexOf("response property &lt;b&gt;total&lt;/b&gt; was removed");
    const security = body.indexOf("the API key policy was removed");
    const info = body.indexOf("a new operation");
    expect(breaking).toBeGreaterThan(0);
    expect(breaking).toBeLessThan(security);
    expect(security).toBeLessThan(info);
    expect(body).toContain("<code>config/routes.oas.json:88</code>");
    expect(body).toContain('<span class="tag security">security</span>');
    expect(body).toContain("<td><code>GET /orders</code><br><code>GET /orders/{id}</code><br><code>POST /orders</code><br><span class=\"muted\">and 1 more</span></td>");
  });

  it("shows a failed deployment's error and the validation check with file and line", async () => {
    const { body } = await browser.get("/environments/acme-shop-pr-7");
    expect(body).toContain('<pre class="error">config/policies.json:3:7 policy-unknown: no policy named rate-limit2</pre>');
    expect(body).toContain("<ul><li><code>config/policies.json:3:7: error policy-unknown: no policy named rate-limit2</code></li></ul>");
    expect(body).not.toContain("Another branch's commit");
    expect(body).toContain('<span class="badge status-failed">failed</span>');
  });

  it("shows calls per operation and consumer for the last 30 days, most first, each with a bar and no script", async () => {
    ops.usageRows.set("acme-shop-production", [
      { operation: "listOrders", route: "GET /orders", consumer: "mobile-app", calls: 41_200, byStatus: { "2xx": 41_000, "4xx": 200 } },
      { operation: "GET /health", route: "GET /health", consumer: "<b>anonymous</b>", calls: 12, byStatus: { "2xx": 12 } },
    ]);
    const { body } = await browser.get("/environments/acme-shop-production");
    expect(body).toContain("<h2>Usage <span class=\"muted small\">last 30 days</span></h2>");
    expect(body).toContain('<tr><th scope="row"><code>listOrders</code> <span class="muted small">GET /orders</span></th><td>mobile-app</td><td class="num">41,200</td><td class="bar"><meter min="0" max="41200" value="41200" aria-label="41,200 of 41,200 calls">41,200</meter></td><td class="num">200</td></tr>');
    expect(body).toContain('<td>&lt;b&gt;anonymous&lt;/b&gt;</td><td class="num">12</td><td class="bar"><meter min="0" max="41200" value="12"');
    expect(body).toContain("41,212 calls in all");
  });

  it("says when no calls were counted", async () => {
    const { body } = await browser.get("/environments/acme-shop-production");
    expect(body).toContain("No calls counted in the last 30 days.");
  });

  it("lists the names of its values and never a value", async () => {
    const { body } = await browser.get("/environments/acme-shop-production");
    expect(body).toContain("<code>UPSTREAM_URL</code>");
    expect(body).toContain('<code>PARTNER_TOKEN</code> <span class="tag">secret</span>');
    expect(body).not.toContain("upstream.internal");
  });

  it("offers no action to a reader who has not signed in", async () => {
    const { body } = await browser.get("/environments/acme-shop-production");
    expect(body).not.toContain('action="/environments/acme-shop-production/sync"');
    expect(body).not.toContain("Create key");
    expect(body).toContain('<a href="/login?next=%2Fenvironments%2Facme-shop-production">Sign in</a> to sync');
  });

  it("answers an unknown environment with a 404 page that says so", async () => {
    const page = await browser.get("/environments/acme-shop-nope");
    expect(page.status).toBe(404);
    expect(page.body).toContain("<h1>Unknown environment</h1>");
    expect(page.body).toContain("no environment &quot;acme-shop-nope&quot;");
    const odd = await browser.get("/environments/%3Cscript%3E");
    expect(odd.status).toBe(404);
    expect(odd.body).not.toContain("<script>");
  });

  it("answers a page number that is not one with a 400 page", async () => {
    const page = await browser.get("/environments/acme-shop-production?page=-1");
    expect(page.status).toBe(400);
    expect(page.body).toContain("The page must be a whole number from 1.");
  });
});

describe("signing in", () => {
  beforeEach(() => start());

  it("tells a wrong token so and logs it without the token", async () => {
    await browser.get("/login");
    const page = await browser.post("/login", { token: "guess-one", next: "/" });
    expect(page.status).toBe(401);
    expect(page.body).toContain("That is not the admin token.");
    await browser.post("/login", { token: "guess-two", next: "/" });
    expect(served.logs.filter((l) => l.includes("wrong admin token"))).toEqual([
      "warn dashboard sign-in with a wrong admin token from 127.0.0.1 (1 in the last 10 minutes)",
      "warn dashboard sign-in with a wrong admin token from 127.0.0.1 (2 in the last 10 minutes)",
    ]);
    expect(served.logs.join("\n")).not.toContain("guess-");
  });

  it("refuses an address after ten wrong tokens, even the right one, for a while", async () => {
    await browser.get("/login");
    for (let i = 0; i < 10; i++) await browser.post("/login", { token: `wrong-${i}` });
    const page = await browser.post("/login", { token: TOKEN });
    expect(page.status).toBe(429);
    expect(page.body).toContain("Too many wrong tokens");
  });

  it("gives a new HttpOnly, SameSite=Strict session cookie for the right token", async () => {
    await browser.get("/login");
    const before = browser.cookie;
    const page = await browser.post("/login", { token: TOKEN, next: "/environments/acme-shop-production" });
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe("/environments/acme-shop-production");
    const cookie = page.headers.getSetCookie()[0]!;
    expect(cookie).toMatch(/^gitway_session=[A-Za-z0-9_-]{32}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
    expect(browser.cookie).not.toBe(before);
    const env = await browser.get("/environments/acme-shop-production");
    expect(env.body).toContain("signed in as admin");
    expect(env.body).toContain("Create key");
  });

  it("never sends the reader to another site after signing in", async () => {
    await browser.get("/login");
    const page = await browser.post("/login", { token: TOKEN, next: "//evil.example/x" });
    expect(page.headers.get("location")).toBe("/");
  });

  it("refuses a sign-in form posted without its CSRF token", async () => {
    const page = await browser.post("/login", { token: TOKEN }, { csrf: null });
    expect(page.status).toBe(403);
    expect(page.body).toContain("<h1>Form expired</h1>");
  });

  it("ends the session on sign-out", async () => {
    await browser.signIn(TOKEN);
    await browser.get("/");
    expect((await browser.post("/logout", {})).status).toBe(303);
    const page = await browser.get("/");
    expect(page.body).not.toContain("signed in as");
  });
});

describe("actions", () => {
  beforeEach(async () => {
    await start();
    await browser.signIn(TOKEN);
    await browser.get("/environments/acme-shop-production");
  });

  it("creates a key and shows it once, with the curl line, on the page the form leads to", async () => {
    const posted = await browser.post("/environments/acme-shop-production/keys", { consumer: "partner-a" });
    expect(posted.status).toBe(303);
    const location = posted.headers.get("location")!;
    expect(location).toMatch(/^\/environments\/acme-shop-production\?created=[A-Za-z0-9_-]{16}#new-key$/);
    const key = ops.keyList.get("acme-shop-production")![0]!.key;
    expect(location).not.toContain(key);
    const page = await browser.get(location.replace(/#.*/, ""));
    expect(page.headers.get("cache-control")).toBe("no-store");
    expect(page.body).toContain(`<code id="new-key">${key}</code>`);
    expect(page.body).toContain(`<code id="curl-line">curl -H "Authorization: Bearer ${key}" http://acme-shop-production.localhost:8787/</code>`);
    expect(page.body).toContain('data-copy="new-key" hidden>Copy key</button>');
    expect(page.body).toContain('<th scope="row">partner-a</th><td>own</td><td>1</td>');
    const again = await browser.get(location.replace(/#.*/, ""));
    expect(again.body).not.toContain(key);
    expect(again.body).toContain("A new key is shown once");
  });

  it("shows a new key to no other session", async () => {
    const posted = await browser.post("/environments/acme-shop-production/keys", { consumer: "partner-a" });
    const other = new Browser(served.url);
    await other.signIn(TOKEN);
    const page = await other.get(posted.headers.get("location")!.replace(/#.*/, ""));
    expect(page.body).not.toContain(ops.keyList.get("acme-shop-production")![0]!.key);
  });

  it("revokes a key and records who did it", async () => {
    await browser.post("/environments/acme-shop-production/keys", { consumer: "partner-a" });
    const asked = await browser.post("/environments/acme-shop-production/keys/revoke", { consumer: "partner-a" });
    expect([asked.status, ops.keyList.get("acme-shop-production")]).toEqual([200, [expect.objectContaining({ consumer: "partner-a" })]]);
    expect(asked.body).toContain('<input type="hidden" name="confirm" value="yes"><button type="submit" class="danger">Revoke partner-a</button>');
    const page = await browser.post("/environments/acme-shop-production/keys/revoke", { consumer: "partner-a", confirm: "yes" });
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe("/environments/acme-shop-production?notice=revoked");
    expect(ops.keyList.get("acme-shop-production")).toEqual([]);
    expect(ops.log.map((e) => [e.actor, e.action])).toEqual([
      ["admin", "key.create"],
      ["admin", "key.revoke"],
    ]);
    expect((await browser.get("/environments/acme-shop-production?notice=revoked")).body).toContain("Key revoked.");
  });

  it("rolls back to a release, which pins the environment; the overview shows it pinned; unpin undoes it", async () => {
    const asked = await browser.post("/environments/acme-shop-production/rollback", { release: "a".repeat(64) });
    expect([asked.status, ops.envs.get("acme-shop-production")!.pinned]).toEqual([200, false]);
    expect(asked.body).toContain("Roll back production?");
    const page = await browser.post("/environments/acme-shop-production/rollback", { release: "a".repeat(64), confirm: "yes" });
    expect(page.headers.get("location")).toBe("/environments/acme-shop-production?notice=pinned");
    expect(ops.envs.get("acme-shop-production")!.pinned).toBe(true);
    const overview = await browser.get("/");
    expect(overview.body).toMatch(/data-label="acme-shop-production"[\s\S]*?<span class="badge pinned">pinned<\/span>/);
    const env = await browser.get("/environments/acme-shop-production");
    expect(env.body).toContain(">Unpin</button>");
    await browser.post("/environments/acme-shop-production/unpin", {});
    expect(ops.envs.get("acme-shop-production")!.pinned).toBe(false);
  });

  it("syncs now as the signed-in actor", async () => {
    const page = await browser.post("/environments/acme-shop-staging/sync", {});
    expect(page.status).toBe(303);
    expect(ops.syncs).toEqual([{ ref: "acme-shop-staging", actor: "admin" }]);
  });

  it("refuses a form posted without the CSRF token, or with another session's, and does nothing", async () => {
    const missing = await browser.post("/environments/acme-shop-production/keys", { consumer: "x" }, { csrf: null });
    expect(missing.status).toBe(403);
    expect(missing.body).toContain("This form has expired or was not sent from this dashboard");
    const other = new Browser(served.url);
    await other.get("/");
    const forged = await browser.post("/environments/acme-shop-production/sync", {}, { csrf: other.csrf });
    expect(forged.status).toBe(403);
    expect(ops.log).toEqual([]);
    expect(ops.syncs).toEqual([]);
    expect(served.logs.some((l) => l.startsWith("warn dashboard /environments/acme-shop-production/keys refused: missing or wrong CSRF token"))).toBe(true);
  });

  it("refuses a form the browser says came from another site", async () => {
    const page = await browser.post("/environments/acme-shop-production/sync", {}, { headers: { origin: "https://evil.example" } });
    expect(page.status).toBe(403);
    const crossSite = await browser.post("/environments/acme-shop-production/sync", {}, { headers: { "sec-fetch-site": "cross-site" } });
    expect(crossSite.status).toBe(403);
    expect(ops.syncs).toEqual([]);
  });

  it("accepts its own form from a browser that sends Origin: null, on the strength of the token", async () => {
    const page = await browser.post("/environments/acme-shop-production/sync", {}, { headers: { origin: "null", "sec-fetch-site": "same-origin" } });
    expect(page.status).toBe(303);
    expect(ops.syncs).toHaveLength(1);
  });

  it("needs a signed-in session even with a valid form", async () => {
    const reader = new Browser(served.url);
    await reader.get("/login");
    const page = await reader.post("/environments/acme-shop-production/sync", {});
    expect(page.status).toBe(401);
    expect(page.body).toContain("Actions need you to sign in with the admin token.");
    expect(ops.syncs).toEqual([]);
  });

  it("lists a consumer with two keys once, and revokes both", async () => {
    await browser.post("/environments/acme-shop-production/keys", { consumer: "partner-a" });
    await browser.post("/environments/acme-shop-production/keys", { consumer: "partner-a" });
    const page = await browser.get("/environments/acme-shop-production");
    expect([...page.body.matchAll(/<th scope="row">partner-a<\/th><td>own<\/td><td>2<\/td>/g)]).toHaveLength(1);
    await browser.post("/environments/acme-shop-production/keys/revoke", { consumer: "partner-a", confirm: "yes" });
    expect(ops.keyList.get("acme-shop-production")).toEqual([]);
  });

  it("shows the operations' own refusal as a page: a bad consumer name, an unknown release", async () => {
    const bad = await browser.post("/environments/acme-shop-production/keys", { consumer: "<b>partner</b>" });
    expect(bad.status).toBe(400);
    expect(bad.body).toContain("a consumer name is 1 to 64 letters");
    expect(bad.body).not.toContain("<b>partner</b>");
    const unknown = await browser.post("/environments/acme-shop-production/rollback", { release: "f".repeat(64), confirm: "yes" });
    expect(unknown.status).toBe(404);
  });
});

describe("closing reading (GITWAY_DASHBOARD_PUBLIC=false)", () => {
  beforeEach(() => start(false));

  it("sends readers to sign in, then shows the page they asked for", async () => {
    const page = await browser.get("/environments/acme-shop-production");
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe("/login?next=%2Fenvironments%2Facme-shop-production");
    expect((await browser.get("/audit")).status).toBe(303);
    await browser.get("/login");
    const signedIn = await browser.post("/login", { token: TOKEN, next: "/environments/acme-shop-production" });
    expect(signedIn.headers.get("location")).toBe("/environments/acme-shop-production");
    expect((await browser.get("/environments/acme-shop-production")).status).toBe(200);
  });
});

describe("with no admin token", () => {
  beforeEach(() => start(true, ""));

  it("says sign-in is off and signs nobody in", async () => {
    const page = await browser.get("/login");
    expect(page.body).toContain("Sign-in is off");
    const empty = await browser.post("/login", { token: "" });
    expect(empty.status).toBe(403);
  });
});

describe("the audit log", () => {
  beforeEach(async () => {
    await start();
    for (let i = 0; i < 120; i++) await ops.sync("acme-shop-production", i % 2 ? "alice" : "bob");
    await ops.unpin("acme-shop-staging", "alice");
  });

  it("filters by actor and action and pages 50 at a time, newest first", async () => {
    const first = await browser.get("/audit?actor=alice");
    expect(first.body).toContain("Page 1 of 2 · 61 entries");
    expect(first.body).toContain('<a href="/audit?actor=alice&amp;page=2">Older</a>');
    expect(first.body.indexOf("<code>unpin</code>")).toBeLessThan(first.body.indexOf("<code>sync</code>"));
    const second = await browser.get("/audit?actor=alice&page=2");
    expect([...second.body.matchAll(/<tr><td data-label="When">/g)]).toHaveLength(11);
    const unpins = await browser.get("/audit?action=unpin&environment=acme-shop-staging");
    expect(unpins.body).toContain("Page 1 of 1 · 1 entry");
    expect(unpins.body).toContain('value="acme-shop-staging"');
    expect(unpins.body).toContain('<td data-label="Environment"><a href="/environments/acme-shop-staging">staging</a></td>');
  });

  it("filters by time, read as UTC", async () => {
    const none = await browser.get("/audit?until=2026-11-24");
    expect(none.body).toContain("No entries match.");
    const all = await browser.get("/audit?since=2026-11-25&until=2026-11-25");
    expect(all.body).toContain("121 entries");
  });

  it("answers a time it cannot read with a 400 page", async () => {
    const page = await browser.get("/audit?since=yesterday");
    expect(page.status).toBe(400);
    expect(page.body).toContain("&quot;since&quot; must be a date like 2026-01-31");
  });
});

describe("bad input", () => {
  beforeEach(() => start());

  it("answers a huge query string with a page that says so", async () => {
    const page = await browser.get(`/audit?actor=${"x".repeat(5000)}`);
    expect(page.status).toBe(414);
    expect(page.body).toContain("<h1>Address too long</h1>");
  });

  it("answers a query string larger than Node's header limit with a short page, not a dropped connection", async () => {
    const page = await rawGet(served.url, `/audit?actor=${"x".repeat(20_000)}`);
    expect(page.status).toBe(431);
    expect(page.body).toContain("The address or headers of this request are too large.");
  });

  it("answers a field over 200 characters and an oversized form with pages", async () => {
    expect((await browser.get(`/audit?actor=${"x".repeat(300)}`)).status).toBe(400);
    await browser.signIn(TOKEN);
    await browser.get("/");
    const big = await browser.post("/environments/acme-shop-production/keys", { consumer: "x", filler: "y".repeat(20_000) });
    expect(big.status).toBe(413);
  });

  it("answers a failure inside the operations with a 500 page and no stack trace", async () => {
    ops.environments = () => Promise.reject(new Error("connection terminated at /srv/secret/path.ts:12"));
    const page = await browser.get("/");
    expect(page.status).toBe(500);
    expect(page.body).toContain("The server log has the details.");
    expect(page.body).not.toContain("connection terminated");
    expect(page.body).not.toMatch(/at .*\.ts:\d+/);
    expect(served.logs.some((l) => l.startsWith("error dashboard GET / failed: Error: connection terminated"))).toBe(true);
  });

  it("answers a method a page does not take with 405", async () => {
    const res = await fetch(`${served.url}/audit`, { method: "DELETE" });
    expect(res.status).toBe(405);
  });
});
