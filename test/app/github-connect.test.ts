import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readAppSettings } from "../../src/app/settings.js";
import { startGitway, type Running } from "../../src/app/start.js";
import { loadGitHubApp, rowsOf, secretKeyFrom } from "../../src/store/index.js";
import { CLI } from "../cli/run-cli.js";
import { deliver, example } from "../github/webhooks.js";
import { appYml, githubApi, PEM } from "./manifest-github.js";

const ADMIN_TOKEN = "connect-admin-token-0123456789";
const SECRET_KEY = randomBytes(32).toString("base64");
/** A delivery as an installation of the app receives it. */
const installed = (payload: Record<string, unknown>) => ({ ...payload, installation: { id: 31, node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMzE=" } });

/** The built CLI, run without blocking this process (the server it talks to runs here). */
function gitwayAsync(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, timeout: 30_000 }, (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
  });
}

const unescape = (text: string) => text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");

describe("connecting the GitHub App from its manifest", () => {
  let github: Awaited<ReturnType<typeof githubApi>>;
  let app: Running | undefined;
  let dataDir: string;

  beforeEach(async () => {
    github = await githubApi();
    dataDir = mkdtempSync(join(tmpdir(), "gitway-connect-"));
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
    await github.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function start(extra: Record<string, string> = {}): Promise<Running> {
    const env: Record<string, string> = { PORT: "0", GATEWAY_PORT: "0", GITWAY_DATA_DIR: dataDir, GITWAY_ADMIN_TOKEN: ADMIN_TOKEN, GITWAY_SECRET_KEY: SECRET_KEY, GITWAY_POLL_SECONDS: "3600", LOG_LEVEL: "fatal", ...extra };
    app = await startGitway(readAppSettings(env), env, { log: () => {}, runWorker: false });
    return app;
  }

  const post = (url: string, form: Record<string, string>) => fetch(url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(form).toString(), redirect: "manual" });

  /** Starts the flow as a maintainer would and returns where the browser is sent and with what. */
  async function register(running: Running): Promise<{ action: URL; manifest: Record<string, any> }> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const res = await post(`${running.appUrl}/github/connect`, { token: ADMIN_TOKEN, public_url: "https://gitway.example.com", name: "Gitway test", organization: "", enterprise: github.url });
    expect(res.status).toBe(200);
    const page = await res.text();
    const action = new URL(unescape(/<form id="manifest" method="post" action="([^"]+)"/.exec(page)![1]!));
    const manifest = JSON.parse(unescape(/name="manifest" value="([^"]+)"/.exec(page)![1]!));
    return { action, manifest };
  }

  it("shows the Connect GitHub page, which asks for the admin token and prefills where Gitway is reachable", async () => {
    const running = await start();
    const res = await fetch(`${running.appUrl}/github/connect`);
    const page = await res.text();
    expect(res.status).toBe(200);
    expect(page).toContain("<h1>Connect GitHub</h1>");
    expect(page).toContain('name="token" type="password"');
    expect(page).toContain(`name="public_url" value="${running.appUrl}"`);
    // The dashboard's every page links to it.
    expect(await (await fetch(`${running.appUrl}/`)).text()).toContain('<a href="/github/connect">GitHub</a>');
    // Behind a TLS-terminating proxy the request says https.
    const proxied = await (await fetch(`${running.appUrl}/github/connect`, { headers: { "x-forwarded-proto": "https" } })).text();
    expect(proxied).toContain(`name="public_url" value="${running.appUrl.replace("http:", "https:")}"`);
  });

  it("takes APP_PUBLIC_URL as where Gitway is reachable, and refuses a malformed one", async () => {
    expect(() => readAppSettings({ APP_PUBLIC_URL: "gitway.example.org" })).toThrow("APP_PUBLIC_URL: must be a URL like https://gitway.example.com");
    expect(() => readAppSettings({ APP_PUBLIC_URL: "ftp://gitway.example.org" })).toThrow("APP_PUBLIC_URL: must be an http:// or https:// URL");
    const running = await start({ APP_PUBLIC_URL: "https://gitway.example.org/" });
    expect(await (await fetch(`${running.appUrl}/github/connect`)).text()).toContain('name="public_url" value="https://gitway.example.org"');
  });

  it("refuses to start the flow without the admin token", async () => {
    const running = await start();
    const res = await post(`${running.appUrl}/github/connect`, { token: "not-the-token", public_url: "https://gitway.example.com", enterprise: github.url });
    expect(res.status).toBe(403);
    expect(github.conversions).toEqual([]);
  });

  it("posts the manifest from app.yml to GitHub with the hook URL and the callback filled in", async () => {
    const running = await start();
    const { action, manifest } = await register(running);
    expect(`${action.origin}${action.pathname}`).toBe(`${github.url}/settings/apps/new`);
    expect(action.searchParams.get("state")).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(manifest).toMatchObject({
      name: "Gitway test",
      public: false,
      hook_attributes: { url: "https://gitway.example.com/api/github/webhooks", active: true },
      redirect_url: "https://gitway.example.com/github/callback",
      default_events: appYml.default_events,
      default_permissions: appYml.default_permissions,
    });
  });

  it("refuses a callback whose state it did not issue, and never converts its code", async () => {
    const running = await start();
    await register(running);
    const forged = await fetch(`${running.appUrl}/github/callback?code=code-from-github&state=${"x".repeat(32)}`, { redirect: "manual" });
    expect(forged.status).toBe(400);
    expect(await forged.text()).toContain("was not started from this Gitway");
    expect(github.conversions).toEqual([]);
    expect(rowsOf(await running.store.db.execute(sql`SELECT app_id FROM github_app`))).toEqual([]);
  });

  it("converts the code, stores the credentials encrypted and answers a signed webhook at once, without a restart", async () => {
    const running = await start();
    const { action } = await register(running);
    const state = action.searchParams.get("state")!;
    // Before: no app, so no webhook endpoint.
    expect((await deliver(running.appUrl, "ping", { zen: "hi", hook_id: 1 }, "webhook-secret-value-456")).status).toBe(404);

    const callback = await fetch(`${running.appUrl}/github/callback?code=code-from-github&state=${state}`, { redirect: "manual" });
    expect([callback.status, callback.headers.get("location")]).toEqual([303, "/github/connect?connected=1"]);
    expect(github.conversions).toEqual(["code-from-github"]);

    // Stored encrypted: no secret in clear in the row; the key decrypts them back.
    const [row] = rowsOf<Record<string, string>>(await running.store.db.execute(sql`SELECT * FROM github_app`));
    expect(Number(row!.app_id)).toBe(4242);
    for (const column of ["private_key", "webhook_secret", "client_secret"]) expect(row![column]).toMatch(/^v1:/);
    expect(JSON.stringify(row)).not.toContain("webhook-secret-value-456");
    expect(JSON.stringify(row)).not.toContain("client-secret-value-123");
    expect(JSON.stringify(row)).not.toContain("PRIVATE KEY");
    const stored = await loadGitHubApp(running.store.db, secretKeyFrom(SECRET_KEY));
    expect(stored).toMatchObject({ appId: 4242, slug: "gitway-test", apiUrl: `${github.url}/api/v3`, webhookSecret: "webhook-secret-value-456", clientSecret: "client-secret-value-123", privateKey: PEM });
    const audit = rowsOf<{ action: string }>(await running.store.db.execute(sql`SELECT action FROM audit_log WHERE action LIKE 'github.%'`));
    expect(audit.map((a) => a.action)).toEqual(["github.connected"]);

    // The same process now runs as the app: a delivery signed with its secret is taken and queued.
    const before = await running.queue.pendingCount();
    const delivered = await deliver(running.appUrl, "pull_request", installed(example("pull_request", "opened")), "webhook-secret-value-456");
    expect(delivered.status).toBe(200);
    expect(await running.queue.pendingCount()).toBeGreaterThan(before);
    expect((await deliver(running.appUrl, "pull_request", example("pull_request", "opened"), "another-secret")).status).toBe(400);

    // The page names the app and links to its install page; /readyz checks its credentials.
    const page = await (await fetch(`${running.appUrl}/github/connect?connected=1`)).text();
    expect(page).toContain("<h1>GitHub App connected</h1>");
    expect(page).toContain(`href="${github.url}/apps/gitway-test/installations/new"`);
    const ready = await fetch(`${running.appUrl}/readyz`);
    expect([ready.status, await ready.json()]).toEqual([200, { ok: true, store: "ok", github: "ok" }]);
  });

  it("uses each state once: the same callback again is refused", async () => {
    const running = await start();
    const { action } = await register(running);
    const url = `${running.appUrl}/github/callback?code=code-from-github&state=${action.searchParams.get("state")}`;
    expect((await fetch(url, { redirect: "manual" })).status).toBe(303);
    expect((await fetch(url, { redirect: "manual" })).status).toBe(400);
    expect(github.conversions).toEqual(["code-from-github"]);
  });

  it("says which app is connected with gitway github status, and gitway github disconnect forgets it (audited)", async () => {
    const running = await start();
    const cli = (...args: string[]) => gitwayAsync(args, { GITWAY_URL: running.appUrl, GITWAY_ADMIN_TOKEN: ADMIN_TOKEN, USER: "max" });
    expect((await cli("github", "status")).stdout).toBe(`No GitHub App is connected: open ${running.appUrl}/github/connect to register one.\n`);
    const { action } = await register(running);
    await fetch(`${running.appUrl}/github/callback?code=code-from-github&state=${action.searchParams.get("state")}`, { redirect: "manual" });
    await running.store.db.execute(sql`INSERT INTO installations (id, account) VALUES (31, 'octo-org')`);

    const status = await cli("github", "status");
    expect(status.stdout).toMatch(/^GitHub App Gitway test \(gitway-test, id 4242\) at http:\/\/127\.0\.0\.1:\d+\/api\/v3, connected by admin on \S+\ninstall it: http:\/\/127\.0\.0\.1:\d+\/apps\/gitway-test\/installations\/new\ninstallations: octo-org\n$/);
    const asJson = await cli("github", "status", "--format", "json");
    expect(asJson.stdout).not.toMatch(/secret|PRIVATE KEY/);

    expect((await fetch(`${running.appUrl}/api/github/disconnect`, { method: "POST" })).status).toBe(401);
    const gone = await cli("github", "disconnect");
    expect([gone.code, gone.stdout]).toEqual([0, expect.stringMatching(/^Disconnected GitHub App gitway-test \(id 4242\); the app stays registered on GitHub/)]);
    expect((await deliver(running.appUrl, "pull_request", installed(example("pull_request", "opened")), "webhook-secret-value-456")).status).toBe(404);
    const audit = rowsOf<{ action: string; actor: string }>(await running.store.db.execute(sql`SELECT action, actor FROM audit_log WHERE action LIKE 'github.%' ORDER BY id`));
    expect(audit).toEqual([
      { action: "github.connected", actor: "admin" },
      { action: "github.disconnected", actor: "max" },
    ]);
    expect(await (await fetch(`${running.appUrl}/readyz`)).json()).toEqual({ ok: true, store: "ok" });
  });

  it("runs as the connected app again after a restart", async () => {
    let running = await start();
    const { action } = await register(running);
    await fetch(`${running.appUrl}/github/callback?code=code-from-github&state=${action.searchParams.get("state")}`, { redirect: "manual" });
    await running.close();
    app = undefined;
    running = await start();
    expect((await deliver(running.appUrl, "pull_request", example("pull_request", "opened"), "webhook-secret-value-456")).status).toBe(200);
  });
});

describe("/healthz and /readyz", () => {
  let app: Running | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it("answers /healthz while the process runs, and /readyz with the store's state (no GitHub App: no github entry)", async () => {
    const env: Record<string, string> = { PORT: "0", GATEWAY_PORT: "0", GITWAY_DATA_DIR: "memory://", GITWAY_REPOS: "", GITWAY_ADMIN_TOKEN: ADMIN_TOKEN, GITWAY_POLL_SECONDS: "3600", LOG_LEVEL: "fatal" };
    app = await startGitway(readAppSettings(env), env, { log: () => {}, runWorker: false });
    const health = await fetch(`${app.appUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true });
    const ready = await fetch(`${app.appUrl}/readyz`);
    expect([ready.status, await ready.json()]).toEqual([200, { ok: true, store: "ok" }]);
  });

  it("answers /readyz 503 naming the store when the store stops answering", async () => {
    const env: Record<string, string> = { PORT: "0", GATEWAY_PORT: "0", GITWAY_DATA_DIR: "memory://", GITWAY_ADMIN_TOKEN: ADMIN_TOKEN, GITWAY_POLL_SECONDS: "3600", LOG_LEVEL: "fatal" };
    app = await startGitway(readAppSettings(env), env, { log: () => {}, runWorker: false });
    await app.store.close();
    const ready = await fetch(`${app.appUrl}/readyz`);
    const body = (await ready.json()) as { ok: boolean; store: string };
    expect([ready.status, body.ok, body.store]).toEqual([503, false, expect.stringMatching(/^unavailable: /)]);
    expect((await fetch(`${app.appUrl}/healthz`)).status).toBe(200);
  });
});
