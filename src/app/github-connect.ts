import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { sql } from "drizzle-orm";
import { apiUrlFor, appManifest, convertManifestCode, ManifestError, MANIFEST_CALLBACK_PATH, webUrlOf } from "../github/index.js";
import { createManifestState, forgetGitHubApp, rowsOf, saveGitHubApp, takeManifestState, type Db, type StoredGitHubApp } from "../store/index.js";
import { escapeHtml } from "../web/html.js";

export const CONNECT_PATH = "/github/connect";
const MAX_FORM_BYTES = 16 * 1024;

/** Which GitHub App this process runs as, and where its settings came from. */
export type GitHubConnection = { from: "environment"; appId: number; apiUrl: string } | { from: "store"; app: StoredGitHubApp } | { from: "none" };

export interface ConnectOptions {
  db: Db;
  adminToken: string;
  /** GITWAY_SECRET_KEY: without it the app's key could not be stored encrypted, so the flow is refused. */
  secretKey: Buffer | undefined;
  appYml: string;
  /** APP_PUBLIC_URL, when set: the default of where Gitway is reachable (else the request's own). */
  publicUrl?: URL | undefined;
  connection: () => GitHubConnection;
  /** Reads the stored app back and runs as it (or, once forgotten, as none), in this process, without a restart. */
  followStored: () => Promise<void>;
  log: (level: "info" | "warn" | "error", message: string) => void;
  timeoutMs?: number;
}

function sameSecret(a: string, b: string): boolean {
  const digest = (t: string) => createHash("sha256").update(t).digest();
  return timingSafeEqual(digest(a), digest(b));
}

function page(res: ServerResponse, status: number, title: string, body: string, extraHeaders: Record<string, string> = {}): void {
  res.writeHead(status, {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "x-frame-options": "DENY",
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    ...extraHeaders,
  });
  res.end(`<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)} · Gitway</title><style>body{font:15px system-ui;max-width:42em;margin:2em auto;padding:0 1em}label{display:block;margin:.8em 0 .2em}input{width:100%;padding:.3em}</style></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`);
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams | undefined> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) return undefined;
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

/** Where this Gitway is reachable, as the request shows it: only a default for the maintainer to correct. */
function guessedPublicUrl(req: IncomingMessage): string {
  const proto = String(req.headers["x-forwarded-proto"] ?? "").split(",")[0]!.trim() === "https" ? "https" : "http";
  const host = /^[A-Za-z0-9.:[\]-]{1,255}$/.test(req.headers.host ?? "") ? req.headers.host! : "localhost:3000";
  return `${proto}://${host}`;
}

async function installations(db: Db): Promise<string[]> {
  try {
    return rowsOf<{ account: string }>(await db.execute(sql`SELECT account FROM installations ORDER BY account`)).map((r) => r.account);
  } catch {
    return [];
  }
}

/**
 * The Connect GitHub page: registers Gitway's GitHub App from its manifest (app.yml) through
 * GitHub's manifest flow, converts the code GitHub sends back, stores the credentials encrypted
 * and starts the app at once. Answers only its two paths.
 */
export function createGitHubConnect(options: ConnectOptions): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  return async (req, res) => {
    const url = new URL(req.url ?? "/", "http://gitway.invalid");
    if (url.pathname === CONNECT_PATH && req.method === "GET") {
      await showStatus(req, res, url.searchParams.get("connected") === "1");
      return true;
    }
    if (url.pathname === CONNECT_PATH && req.method === "POST") {
      await start(req, res);
      return true;
    }
    if (url.pathname === MANIFEST_CALLBACK_PATH && req.method === "GET") {
      await callback(res, url.searchParams.get("code") ?? "", url.searchParams.get("state") ?? "");
      return true;
    }
    if (url.pathname === "/api/github" && req.method === "GET") {
      json(res, 200, await status());
      return true;
    }
    if (url.pathname === "/api/github/disconnect" && req.method === "POST") {
      await disconnect(req, res);
      return true;
    }
    return false;
  };

  function json(res: ServerResponse, code: number, body: unknown): void {
    res.writeHead(code, { "content-type": "application/json", "cache-control": "no-store" });
    res.end(JSON.stringify(body));
  }

  /** What `gitway github status` shows: which app runs, from where, and its installations; never a secret. */
  async function status(): Promise<Record<string, unknown>> {
    const connection = options.connection();
    const accounts = connection.from === "none" ? [] : await installations(options.db);
    if (connection.from === "environment") return { from: "environment", appId: connection.appId, apiUrl: connection.apiUrl, installations: accounts };
    if (connection.from === "none") return { from: "none", connectUrl: CONNECT_PATH };
    const app = connection.app;
    return { from: "store", appId: app.appId, slug: app.slug, name: app.name, htmlUrl: app.htmlUrl, installUrl: `${app.htmlUrl}/installations/new`, apiUrl: app.apiUrl, connectedBy: app.connectedBy, connectedAt: app.connectedAt.toISOString(), installations: accounts };
  }

  async function disconnect(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "");
    if (!m || !sameSecret(m[1]!, options.adminToken)) return json(res, 401, { error: { code: "UNAUTHORIZED", message: "this needs the admin token" } });
    const connection = options.connection();
    if (connection.from === "environment") return json(res, 409, { error: { code: "CONFLICT", message: "the GitHub App is set by APP_ID and the other settings in the environment: unset them instead" } });
    if (connection.from === "none") return json(res, 409, { error: { code: "CONFLICT", message: "no GitHub App is connected" } });
    const actor = String(req.headers["x-gitway-actor"] ?? "").replace(/[^\w.@-]/g, "").slice(0, 64) || "admin";
    await forgetGitHubApp(options.db, actor);
    await options.followStored();
    options.log("info", `GitHub App ${connection.app.appId} disconnected by ${actor}`);
    json(res, 200, { disconnected: { appId: connection.app.appId, slug: connection.app.slug }, note: `the app stays registered on GitHub until its owner deletes it: ${connection.app.htmlUrl}` });
  }

  async function showStatus(req: IncomingMessage, res: ServerResponse, justConnected: boolean): Promise<void> {
    const connection = options.connection();
    if (connection.from === "environment") {
      page(res, 200, "GitHub App", `<p>Gitway runs as GitHub App ${connection.appId} at ${escapeHtml(connection.apiUrl)}, set by APP_ID and the other settings in its environment. Settings given in the environment win over a connected app; unset them to connect one here.</p>`);
      return;
    }
    if (connection.from === "store") {
      const app = connection.app;
      const accounts = await installations(options.db);
      page(
        res,
        200,
        justConnected ? "GitHub App connected" : "GitHub App",
        `<p>Gitway runs as the GitHub App <a href="${escapeHtml(app.htmlUrl)}">${escapeHtml(app.name)}</a> (id ${app.appId}) at ${escapeHtml(app.apiUrl)}, connected by ${escapeHtml(app.connectedBy)} on ${escapeHtml(app.connectedAt.toISOString())}.</p>` +
          `<p><a href="${escapeHtml(app.htmlUrl)}/installations/new">Install it on your repositories</a>: each installed repository gets its checks, previews and deployments.</p>` +
          `<p>Installations: ${accounts.length === 0 ? "none yet" : accounts.map(escapeHtml).join(", ")}.</p>`,
      );
      return;
    }
    if (!options.secretKey) {
      page(res, 200, "Connect GitHub", "<p>Set <code>GITWAY_SECRET_KEY</code> (32 bytes: <code>openssl rand -base64 32</code>) and restart: the app's private key and secrets are stored encrypted with it.</p>");
      return;
    }
    const publicUrl = options.publicUrl ? options.publicUrl.href.replace(/\/+$/, "") : guessedPublicUrl(req);
    const name = `Gitway ${new URL(publicUrl).hostname}`.slice(0, 34);
    page(
      res,
      200,
      "Connect GitHub",
      `<p>Registers Gitway as a GitHub App from its manifest (the permissions and events of <code>app.yml</code>), then runs as that app. GitHub will ask you to confirm the app's name.</p>
<form method="post" action="${CONNECT_PATH}">
<label for="token">Admin token</label><input id="token" name="token" type="password" required autocomplete="current-password">
<label for="public_url">Where this Gitway is reachable from GitHub (APP_PUBLIC_URL)</label><input id="public_url" name="public_url" value="${escapeHtml(publicUrl)}" required>
<label for="name">App name (unique on GitHub, at most 34 characters)</label><input id="name" name="name" value="${escapeHtml(name)}" maxlength="34" required>
<label for="organization">Organization that owns the app (empty: your personal account)</label><input id="organization" name="organization">
<label for="enterprise">GitHub Enterprise Server host (empty: github.com)</label><input id="enterprise" name="enterprise" placeholder="github.example.com">
<p><button type="submit">Register on GitHub</button></p>
</form>`,
    );
  }

  async function start(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = await readForm(req);
    if (!form) return page(res, 413, "Connect GitHub", "<p>The form is too large.</p>");
    if (!sameSecret(form.get("token") ?? "", options.adminToken)) return page(res, 403, "Connect GitHub", `<p>That is not the admin token. <a href="${CONNECT_PATH}">Try again</a>.</p>`);
    if (options.connection().from !== "none") return page(res, 409, "Connect GitHub", `<p>A GitHub App is already connected. <a href="${CONNECT_PATH}">See which</a>.</p>`);
    if (!options.secretKey) return page(res, 409, "Connect GitHub", "<p>Set <code>GITWAY_SECRET_KEY</code> first.</p>");
    let publicUrl: URL;
    try {
      publicUrl = new URL(form.get("public_url") ?? "");
      if (publicUrl.protocol !== "http:" && publicUrl.protocol !== "https:") throw new Error();
    } catch {
      return page(res, 400, "Connect GitHub", "<p>Where Gitway is reachable must be a URL like https://gitway.example.com.</p>");
    }
    const apiUrl = apiUrlFor(form.get("enterprise") ?? "");
    if (!apiUrl) return page(res, 400, "Connect GitHub", "<p>The GitHub Enterprise Server host must be a host name like github.example.com.</p>");
    const organization = (form.get("organization") ?? "").trim();
    if (organization && !/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/.test(organization)) return page(res, 400, "Connect GitHub", "<p>That is not an organization name.</p>");
    const name = (form.get("name") ?? "").trim().slice(0, 34) || "Gitway";
    const state = await createManifestState(options.db, apiUrl);
    const web = webUrlOf(apiUrl);
    const target = `${web}${organization ? `/organizations/${organization}` : ""}/settings/apps/new?state=${encodeURIComponent(state)}`;
    const manifest = JSON.stringify(appManifest(options.appYml, publicUrl, name));
    const nonce = randomBytes(16).toString("base64");
    // GitHub's manifest flow takes the manifest as a form POST from the browser: this page posts it.
    page(
      res,
      200,
      "Registering on GitHub",
      `<form id="manifest" method="post" action="${escapeHtml(target)}"><input type="hidden" name="manifest" value="${escapeHtml(manifest)}"><p><button type="submit">Continue on GitHub</button></p></form><script nonce="${nonce}">document.getElementById("manifest").submit()</script>`,
      { "content-security-policy": `default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-${nonce}'; form-action ${new URL(web).origin}` },
    );
  }

  async function callback(res: ServerResponse, code: string, state: string): Promise<void> {
    // The state is checked before anything else: a callback Gitway did not start is refused.
    const apiUrl = state ? await takeManifestState(options.db, state) : undefined;
    if (!apiUrl) return page(res, 400, "Connect GitHub", `<p>This link was not started from this Gitway's Connect GitHub page, or it was used already. <a href="${CONNECT_PATH}">Start again</a>.</p>`);
    if (options.connection().from !== "none" || !options.secretKey) return page(res, 409, "Connect GitHub", `<p>A GitHub App is already connected. <a href="${CONNECT_PATH}">See which</a>.</p>`);
    let converted;
    try {
      converted = await convertManifestCode(apiUrl, code, options.timeoutMs);
    } catch (e) {
      const reason = e instanceof ManifestError ? e.message : "the conversion failed";
      options.log("warn", `GitHub App manifest conversion failed: ${reason}`);
      return page(res, 502, "Connect GitHub", `<p>${escapeHtml(reason)}. <a href="${CONNECT_PATH}">Start again</a>.</p>`);
    }
    const app: StoredGitHubApp = {
      appId: converted.id,
      slug: converted.slug,
      name: converted.name,
      htmlUrl: converted.html_url,
      apiUrl,
      clientId: converted.client_id,
      clientSecret: converted.client_secret,
      webhookSecret: converted.webhook_secret,
      privateKey: converted.pem,
      connectedBy: "admin",
      connectedAt: new Date(),
    };
    try {
      await saveGitHubApp(options.db, options.secretKey, app);
      await options.followStored();
      const now = options.connection();
      if (now.from !== "store" || now.app.appId !== app.appId) throw new Error("the stored app did not start");
    } catch (e) {
      // Said here, without the request's URL: its code is a credential until GitHub forgets it.
      options.log("error", `GitHub App ${app.appId} could not be stored or started: ${(e as Error).message.split("\n")[0]}`);
      return page(res, 500, "Connect GitHub", `<p>GitHub registered the app (${escapeHtml(app.htmlUrl)}), but Gitway could not store or start it; the server log says why. Delete the app on GitHub and <a href="${CONNECT_PATH}">start again</a>.</p>`);
    }
    options.log("info", `GitHub App ${app.appId} (${app.slug}) connected from its manifest`);
    res.writeHead(303, { location: `${CONNECT_PATH}?connected=1`, "cache-control": "no-store" });
    res.end();
  }
}
