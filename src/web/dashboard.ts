import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { AdminError, HTTP_STATUS, type AdminOperations, type AuditFilter } from "../admin/types.js";
import { FAVICON, SCRIPT, STYLESHEET } from "./assets.js";
import { escapeHtml, html, type Html } from "./html.js";
import { AUDIT_FIELDS, auditFilterOf, auditPage, type AuditData } from "./pages/audit.js";
import { environmentPage } from "./pages/environment.js";
import type { PageContext } from "./pages/layout.js";
import { confirmPage, loginPage, messagePage } from "./pages/messages.js";
import { overviewPage } from "./pages/overview.js";
import { NewKeys } from "./new-keys.js";
import { COOKIE, cookieValue, isAdminToken, Sessions } from "./session.js";

export type DashboardLog = (level: "debug" | "info" | "warn" | "error", message: string) => void;

export interface DashboardOptions {
  operations: AdminOperations;
  /** The admin token; signing in takes it. Empty turns sign-in (and so every action) off. */
  adminToken: string;
  /** Whether reading needs no sign-in (GITWAY_DASHBOARD_PUBLIC, on unless "false"). */
  publicRead: boolean;
  log?: DashboardLog;
  now?: () => Date;
}

/** Answers the dashboard's own paths and resolves true; leaves every other path alone (false). */
export type DashboardHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

/** Longer addresses get a page saying so (Node refuses headers over 16 KiB before we see them). */
export const MAX_URL_LENGTH = 2048;
const MAX_FORM_BYTES = 16 * 1024;
const MAX_FIELD_LENGTH = 200;
const DEPLOYMENTS_PER_PAGE = 20;
const AUDIT_PER_PAGE = 50;
/** Who acts when signed in with the admin token (GitHub sign-in would name the person). */
const TOKEN_ACTOR = "admin";

// SECURITY: nothing from another origin; no inline script or style, so injected markup cannot run.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
const SECURITY_HEADERS = { "content-security-policy": CSP, "x-content-type-options": "nosniff", "referrer-policy": "same-origin", "x-frame-options": "DENY" };

const NOTICES: Record<string, string> = {
  synced: "Sync requested: the environment is being reconciled with Git.",
  pinned: "Pinned: the environment serves the release you chose; newer commits wait until you unpin it.",
  unpinned: "Unpinned: the environment follows Git again.",
  revoked: "Key revoked.",
  "no-key": "There was no key for that consumer.",
  "key-gone": "A new key is shown once, on the page right after it is created; create another if it was lost.",
};

const ERROR_TITLES: Record<AdminError["code"], string> = { NOT_FOUND: "Not found", AMBIGUOUS: "More than one match", BAD_REQUEST: "Bad request", CONFLICT: "Conflict", UNAUTHORIZED: "Not allowed" };

/** A request the dashboard answers with a page instead of going on. */
class PageError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    message: string,
    readonly hint?: Html,
  ) {
    super(message);
  }
}

function isDashboardPath(path: string): boolean {
  return path === "/" || path === "/audit" || path === "/login" || path === "/logout" || path === "/environments" || path.startsWith("/environments/") || path.startsWith("/assets/");
}

/** A page to go back to after signing in: this dashboard's own path, never another site. */
function localPath(next: string | null | undefined): string {
  return next && /^\/(?![/\\])[^\s]*$/.test(next) && next.length <= MAX_URL_LENGTH ? next : "/";
}

function field(params: URLSearchParams, name: string): string | undefined {
  const v = params.get(name);
  if (v === null || v === "") return undefined;
  if (v.length > MAX_FIELD_LENGTH) throw new PageError(400, "Bad request", `The ${name} is longer than ${MAX_FIELD_LENGTH} characters.`);
  return v;
}

function pageNumber(params: URLSearchParams): number {
  const raw = field(params, "page");
  if (raw === undefined) return 1;
  if (!/^\d{1,5}$/.test(raw) || Number(raw) < 1) throw new PageError(400, "Bad request", "The page must be a whole number from 1.");
  return Number(raw);
}

/** "2026-01-31" or "2026-01-31T12:00" (UTC); a bare date as `until` means the end of that day. */
function auditTime(name: "since" | "until", value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?))?Z?$/.exec(value.trim());
  const d = m ? new Date(`${m[1]}T${m[2] ?? (name === "until" ? "23:59:59.999" : "00:00")}Z`) : null;
  if (!d || Number.isNaN(d.getTime())) throw new PageError(400, "Bad request", `"${name}" must be a date like 2026-01-31 or a time like 2026-01-31T12:00 (UTC).`);
  return d.toISOString();
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") throw new PageError(415, "Unsupported form", "The dashboard's forms send application/x-www-form-urlencoded; this request sent something else.");
  if (Number(req.headers["content-length"] ?? 0) > MAX_FORM_BYTES) throw new PageError(413, "Form too large", `A form may hold at most ${MAX_FORM_BYTES / 1024} KiB.`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new PageError(413, "Form too large", `A form may hold at most ${MAX_FORM_BYTES / 1024} KiB.`);
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

const EXPIRED_FORM = new PageError(403, "Form expired", "This form has expired or was not sent from this dashboard, so nothing was done.", html`<p>Go back, reload the page and try again.</p>`);

/**
 * The dashboard: server-rendered pages over AdminOperations (the same view and actions as the
 * admin API and the CLI). Reading needs no JavaScript; actions are CSRF-protected forms that
 * need a signed-in session.
 */
export function createDashboard(options: DashboardOptions): DashboardHandler {
  const ops = options.operations;
  const log: DashboardLog = options.log ?? (() => {});
  const now = options.now ?? (() => new Date());
  const sessions = new Sessions(() => now().getTime());
  const newKeys = new NewKeys(() => now().getTime());

  function send(res: ServerResponse, status: number, body: Html | string, headers: Record<string, string | string[]> = {}): void {
    const text = typeof body === "string" ? body : body.text;
    res.writeHead(status, { ...SECURITY_HEADERS, "content-type": "text/html; charset=utf-8", "cache-control": "no-store", "content-length": String(Buffer.byteLength(text)), ...headers });
    res.end(text);
  }

  function redirect(res: ServerResponse, location: string, headers: Record<string, string> = {}): void {
    res.writeHead(303, { ...SECURITY_HEADERS, location, "cache-control": "no-store", "content-length": "0", ...headers });
    res.end();
  }

  function asset(res: ServerResponse, type: string, text: string): void {
    res.writeHead(200, { ...SECURITY_HEADERS, "content-type": `${type}; charset=utf-8`, "cache-control": "max-age=300", "content-length": String(Buffer.byteLength(text)) });
    res.end(text);
  }

  async function handle(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams, raw: string): Promise<void> {
    const secure = req.headers["x-forwarded-proto"] === "https" || "encrypted" in req.socket;
    // Every visitor gets a session id (the CSRF tokens hang on it); signing in replaces it.
    let sid = cookieValue(req, COOKIE);
    const cookies: string[] = [];
    if (!sid || !/^[A-Za-z0-9_-]{32}$/.test(sid)) {
      sid = sessions.newId();
      cookies.push(sessions.cookie(sid, secure, false));
    }
    const session = sessions.get(sid);
    const ctx: PageContext = { actor: session?.actor ?? null, csrf: sessions.csrfToken(sid), now: now() };
    const page = (status: number, body: Html) => send(res, status, body, cookies.length ? { "set-cookie": cookies } : {});
    const method = req.method === "HEAD" ? "GET" : req.method;

    try {
      if (raw.length > MAX_URL_LENGTH) throw new PageError(414, "Address too long", `This address is ${raw.length} characters long; the dashboard takes at most ${MAX_URL_LENGTH}.`, html`<p>Narrow the audit log with fewer or shorter filters.</p>`);

      if (path.startsWith("/assets/")) {
        if (method !== "GET") throw new PageError(405, "Method not allowed", "Assets are only read.");
        if (path === "/assets/dashboard.css") return asset(res, "text/css", STYLESHEET);
        if (path === "/assets/dashboard.js") return asset(res, "text/javascript", SCRIPT);
        if (path === "/assets/favicon.svg") return asset(res, "image/svg+xml", FAVICON);
        throw new PageError(404, "Not found", "There is no such file.");
      }

      if (path === "/login") {
        const disabled = options.adminToken.length === 0;
        if (method === "GET") return page(200, loginPage(ctx, { next: localPath(field(query, "next")), disabled }));
        if (method !== "POST") throw new PageError(405, "Method not allowed", "Sign in with the form.");
        const form = await readForm(req);
        if (!sessions.checkCsrf(sid, form.get("csrf") ?? undefined) || !sameOrigin(req)) throw EXPIRED_FORM;
        const next = localPath(form.get("next"));
        if (disabled) return page(403, loginPage(ctx, { next, disabled }));
        const address = req.socket.remoteAddress ?? "unknown";
        if (sessions.tooManyFailures(address)) {
          log("warn", `dashboard sign-in refused for ${address}: too many wrong admin tokens in the last 10 minutes`);
          throw new PageError(429, "Too many attempts", "Too many wrong tokens from this address; wait a few minutes and try again.");
        }
        if (!isAdminToken(options.adminToken, form.get("token") ?? "")) {
          const count = sessions.recordFailure(address);
          log("warn", `dashboard sign-in with a wrong admin token from ${address} (${count} in the last 10 minutes)`);
          return page(401, loginPage(ctx, { next, error: "That is not the admin token." }));
        }
        const signedIn = sessions.signIn(TOKEN_ACTOR);
        sessions.signOut(sid);
        log("info", `dashboard sign-in as ${TOKEN_ACTOR} from ${address}`);
        return redirect(res, next, { "set-cookie": sessions.cookie(signedIn, secure, true) });
      }

      if (path === "/logout") {
        if (method !== "POST") throw new PageError(405, "Method not allowed", "Sign out with the button at the top of the page.");
        const form = await readForm(req);
        if (!sessions.checkCsrf(sid, form.get("csrf") ?? undefined) || !sameOrigin(req)) throw EXPIRED_FORM;
        sessions.signOut(sid);
        return redirect(res, "/", { "set-cookie": sessions.cookie(sessions.newId(), secure, false) });
      }

      if (method === "GET") {
        if (!options.publicRead && !ctx.actor) return redirect(res, `/login?next=${encodeURIComponent(raw)}`, cookies.length ? { "set-cookie": cookies[0]! } : {});
        if (path === "/") return page(200, overviewPage(ctx, await ops.environments()));
        if (path === "/environments") return redirect(res, "/");
        if (path === "/audit") return page(200, auditPage(ctx, await auditData(query)));
        const label = environmentLabel(path, "");
        const created = field(query, "created");
        const createdKey = created ? newKeys.take(created, sid, label) : null;
        const notice = created && !createdKey ? NOTICES["key-gone"]! : (NOTICES[field(query, "notice") ?? ""] ?? null);
        return page(200, environmentPage(ctx, await environmentData(label, pageNumber(query), notice, createdKey)));
      }

      if (method === "POST" && path.startsWith("/environments/")) {
        const form = await readForm(req);
        if (!sessions.checkCsrf(sid, form.get("csrf") ?? undefined) || !sameOrigin(req)) {
          log("warn", `dashboard ${path} refused: missing or wrong CSRF token from ${req.socket.remoteAddress ?? "unknown"}`);
          throw EXPIRED_FORM;
        }
        if (!ctx.actor) throw new PageError(401, "Sign in first", "Actions need you to sign in with the admin token.", html`<p><a href="/login">Sign in</a></p>`);
        const actor = ctx.actor;
        const action = /^\/environments\/[^/]+\/(sync|rollback|unpin|keys|keys\/revoke)$/.exec(path)?.[1];
        if (!action) throw new PageError(404, "Not found", "There is no such action.");
        const label = environmentLabel(path, `/${action}`);
        const back = (notice: string) => redirect(res, `/environments/${encodeURIComponent(label)}?notice=${notice}`);
        switch (action) {
          case "sync":
            await ops.sync(label, actor);
            return back("synced");
          case "rollback": {
            const release = field(form, "release");
            if (!release) throw new PageError(400, "Bad request", "Choose a release to roll back to.");
            const target = await ops.environment(label);
            if (target.kind === "production" && field(form, "confirm") !== "yes") {
              return page(200, confirmPage(ctx, { title: "Roll back production?", message: `${target.label} will serve release ${release} and stay pinned to it: new commits wait until you unpin it.`, action: path, fields: { release }, button: "Roll back production", back: `/environments/${encodeURIComponent(label)}` }));
            }
            await ops.rollback(label, release, actor);
            return back("pinned");
          }
          case "unpin":
            await ops.unpin(label, actor);
            return back("unpinned");
          case "keys": {
            const consumer = field(form, "consumer")?.trim();
            if (!consumer) throw new PageError(400, "Bad request", "Name the consumer the key is for.");
            const created = await ops.createKey(label, consumer, actor);
            log("info", `dashboard: ${actor} created a key for ${created.consumer} on ${label}`);
            return redirect(res, `/environments/${encodeURIComponent(label)}?created=${newKeys.hold(sid, label, created)}#new-key`);
          }
          case "keys/revoke": {
            const consumer = field(form, "consumer");
            if (!consumer) throw new PageError(400, "Bad request", "Name the consumer whose key to revoke.");
            if (field(form, "confirm") !== "yes") {
              return page(200, confirmPage(ctx, { title: `Revoke ${consumer}'s keys?`, message: `Every key of ${consumer} on ${label} stops working at once; callers using it get 401.`, action: path, fields: { consumer }, button: `Revoke ${consumer}`, back: `/environments/${encodeURIComponent(label)}` }));
            }
            const { revoked } = await ops.revokeKey(label, consumer, actor);
            return back(revoked > 0 ? "revoked" : "no-key");
          }
        }
      }
      throw new PageError(405, "Method not allowed", `${req.method ?? "This method"} is not something this page answers.`);
    } catch (e) {
      if (e instanceof PageError) return page(e.status, messagePage(ctx, e.title, e.message, e.hint));
      if (e instanceof AdminError) {
        const title = e.code === "NOT_FOUND" && path.startsWith("/environments/") ? "Unknown environment" : ERROR_TITLES[e.code];
        return page(HTTP_STATUS[e.code], messagePage(ctx, title, e.message, e.code === "NOT_FOUND" ? html`<p>The overview lists every environment.</p>` : undefined));
      }
      log("error", `dashboard ${req.method} ${path} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      if (res.headersSent) return void res.destroy();
      return page(500, messagePage(ctx, "Something went wrong", "The dashboard could not answer this request. The server log has the details."));
    }
  }

  function environmentLabel(path: string, suffix: string): string {
    const encoded = path.slice("/environments/".length, path.length - suffix.length);
    let label: string;
    try {
      label = decodeURIComponent(encoded);
    } catch {
      label = "";
    }
    if (!/^[A-Za-z0-9._-]{1,100}$/.test(label)) throw new PageError(404, "Unknown environment", "There is no environment at this address.", html`<p>The overview lists every environment.</p>`);
    return label;
  }

  async function environmentData(label: string, pageNo: number, notice: string | null, createdKey: { consumer: string; key: string } | null) {
    const env = await ops.environment(label);
    const [deployments, checks, keys, variables, usage] = await Promise.all([
      ops.deployments(env.label, { limit: DEPLOYMENTS_PER_PAGE + 1, offset: (pageNo - 1) * DEPLOYMENTS_PER_PAGE }),
      ops.checks(env.label),
      ops.keys(env.label),
      ops.variables(env.label),
      ops.usage(env.label, { days: 30 }),
    ]);
    // The repository's checks, cut to the commits this environment runs, should run or ran here.
    const commits = [env.commit?.sha, env.desiredCommit, ...deployments.map((d) => d.commit)].filter((c): c is string => !!c);
    const ours = checks.filter((c) => commits.some((sha) => sha.startsWith(c.commit) || c.commit.startsWith(sha)));
    return { env, deployments: deployments.slice(0, DEPLOYMENTS_PER_PAGE), hasMore: deployments.length > DEPLOYMENTS_PER_PAGE, page: pageNo, checks: ours, keys, variables, usage, notice, createdKey };
  }

  async function auditData(query: URLSearchParams): Promise<AuditData> {
    const form: AuditData["form"] = {};
    for (const f of AUDIT_FIELDS) form[f] = field(query, f);
    const filter: AuditFilter = auditFilterOf(form);
    const since = auditTime("since", form.since);
    const until = auditTime("until", form.until);
    if (since) filter.since = since;
    if (until) filter.until = until;
    const pageNo = pageNumber(query);
    const [{ entries, total }, environments] = await Promise.all([ops.audit(filter, { limit: AUDIT_PER_PAGE, offset: (pageNo - 1) * AUDIT_PER_PAGE }), ops.environments()]);
    const labels = new Map(environments.map((e) => [`${e.repository}\u0000${e.name}`, e.label]));
    return { form, entries, total, page: pageNo, pageSize: AUDIT_PER_PAGE, labels };
  }

  return async (req, res) => {
    const raw = req.url ?? "/";
    const q = raw.indexOf("?");
    const path = q === -1 ? raw : raw.slice(0, q);
    if (!isDashboardPath(path)) return false;
    // A malformed query string reads as the parts that parse; limits apply to what is used.
    await handle(req, res, path, new URLSearchParams(q === -1 ? "" : raw.slice(q + 1, q + 1 + MAX_URL_LENGTH)), raw);
    return true;
  };
}

/**
 * SECURITY: a form a browser says came from another site is refused, token or not (defence in
 * depth beside SameSite and the CSRF token). An Origin of "null" (privacy settings) or none
 * leaves the decision to the token.
 */
function sameOrigin(req: IncomingMessage): boolean {
  if (req.headers["sec-fetch-site"] === "cross-site") return false;
  const origin = req.headers.origin;
  if (!origin || origin === "null") return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/**
 * For the app server's "clientError" event: a request Node refuses before any handler runs
 * (headers over 16 KiB, a huge query string among them) gets a short page saying why.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === "ECONNRESET" || !socket.writable) {
    socket.destroy();
    return;
  }
  const tooLarge = error.code === "HPE_HEADER_OVERFLOW";
  const status = tooLarge ? "431 Request Header Fields Too Large" : "400 Bad Request";
  const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(status)}</title></head><body><h1>${escapeHtml(status)}</h1><p>${tooLarge ? "The address or headers of this request are too large." : "This request is not valid HTTP."}</p></body></html>`;
  socket.end(`HTTP/1.1 ${status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Security-Policy: ${CSP}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
