import { timingSafeEqual, createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { AdminError, HTTP_STATUS, type AdminOperations, type Page } from "./types.js";

/** A deploy carries a repository's config files; anything larger is refused before it is read whole. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;
const MAX_URL = 8 * 1024;

export interface AdminApiOptions {
  operations: AdminOperations & { repositories(): Promise<unknown[]> };
  /** Changes need `Authorization: Bearer <token>`; reading is open unless `publicRead` is false. */
  token: string;
  /** GITWAY_DASHBOARD_PUBLIC: false puts every read behind the token too. */
  publicRead?: boolean;
  version: string;
  log: (level: "info" | "warn" | "error", message: string) => void;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new AdminError("BAD_REQUEST", `the request body is over ${MAX_BODY_BYTES} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on("end", () => {
      if (size === 0) return resolve({});
      try {
        const v = JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
        if (!v || typeof v !== "object" || Array.isArray(v)) throw new Error("not an object");
        resolve(v as Record<string, unknown>);
      } catch {
        reject(new AdminError("BAD_REQUEST", "the request body must be a JSON object"));
      }
    });
    req.on("error", reject);
  });
}

const digest = (s: string) => createHash("sha256").update(s).digest();

/** True when the request carries the admin token (compared in constant time). */
export function hasAdminToken(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? "";
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  return m !== null && timingSafeEqual(digest(m[1]!), digest(token));
}

function page(q: URLSearchParams): Page {
  const limit = Math.min(200, Math.max(1, Number(q.get("limit") ?? 50) || 50));
  const offset = Math.max(0, Number(q.get("offset") ?? 0) || 0);
  return { limit, offset };
}

function text(body: Record<string, unknown>, name: string, max = 256): string {
  const v = body[name];
  if (typeof v !== "string" || v === "" || v.length > max) throw new AdminError("BAD_REQUEST", `"${name}" must be a non-empty string of at most ${max} characters`);
  return v;
}

/**
 * The JSON admin API under /api/: read without a token (with it, when reads are not public),
 * change with the admin token. Answers
 * `{ "error": { "code", "message" } }` on failure, never a stack trace.
 */
export function createAdminApi(options: AdminApiOptions): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const ops = options.operations;
  return async (req, res) => {
    const raw = req.url ?? "/";
    if (!raw.startsWith("/api/") || raw.startsWith("/api/github/")) return false;
    try {
      if (raw.length > MAX_URL) throw new AdminError("BAD_REQUEST", "the URL is too long");
      const url = new URL(raw, "http://admin.invalid");
      const parts = url.pathname.split("/").filter(Boolean).slice(1).map(decodeURIComponent);
      const method = req.method ?? "GET";
      const write = method !== "GET" && method !== "HEAD";
      if ((write || options.publicRead === false) && !hasAdminToken(req, options.token)) {
        options.log("warn", `admin API: ${method} ${url.pathname} refused: ${req.headers.authorization ? "wrong" : "no"} admin token`);
        throw new AdminError("UNAUTHORIZED", req.headers.authorization ? "the admin token is wrong: Authorization: Bearer <GITWAY_ADMIN_TOKEN> must carry this server's token" : "this needs the admin token: Authorization: Bearer <GITWAY_ADMIN_TOKEN>");
      }
      const actor = `admin${typeof req.headers["x-gitway-actor"] === "string" && /^[\w.@-]{1,64}$/.test(req.headers["x-gitway-actor"]) ? ` (${req.headers["x-gitway-actor"]})` : ""}`;
      const body = write ? await readBody(req) : {};
      const [first, ref, sub, item] = parts;
      const route = `${method} ${[first, ref === undefined ? "" : ":ref", sub ?? "", item === undefined ? "" : ":item"].filter((p, i) => i === 0 || p !== "").join("/")}`;
      switch (route) {
        case "GET version":
          return send(res, 200, { version: options.version }), true;
        case "GET repositories":
          return send(res, 200, { repositories: await ops.repositories() }), true;
        case "GET environments":
          return send(res, 200, { environments: await ops.environments() }), true;
        case "GET environments/:ref":
          return send(res, 200, { environment: await ops.environment(ref!) }), true;
        case "GET environments/:ref/deployments":
          return send(res, 200, { deployments: await ops.deployments(ref!, page(url.searchParams)) }), true;
        case "GET environments/:ref/checks":
          return send(res, 200, { checks: await ops.checks(ref!) }), true;
        case "GET environments/:ref/keys":
          return send(res, 200, { keys: await ops.keys(ref!) }), true;
        case "POST environments/:ref/keys":
          return send(res, 201, await ops.createKey(ref!, text(body, "consumer", 64), actor)), true;
        case "DELETE environments/:ref/keys/:item":
          return send(res, 200, await ops.revokeKey(ref!, item!, actor)), true;
        case "GET environments/:ref/usage": {
          const q = url.searchParams;
          const days = q.get("days");
          if (days !== null && !/^\d{1,4}$/.test(days)) throw new AdminError("BAD_REQUEST", "days must be a whole number");
          return send(res, 200, { usage: await ops.usage(ref!, { ...(q.get("operation") ? { operation: q.get("operation")! } : {}), ...(days !== null ? { days: Number(days) } : {}) }) }), true;
        }
        case "GET environments/:ref/values":
          return send(res, 200, { values: await ops.variables(ref!) }), true;
        case "PUT environments/:ref/values/:item":
          if (typeof body.value !== "string") throw new AdminError("BAD_REQUEST", '"value" must be a string');
          await ops.setVariable(ref!, item!, body.value, body.secret === true, actor);
          return send(res, 200, { name: item, secret: body.secret === true }), true;
        case "POST environments/:ref/sync":
          await ops.sync(ref!, actor);
          return send(res, 202, { syncing: ref }), true;
        case "POST sync":
          await ops.sync(undefined, actor);
          return send(res, 202, { syncing: "all" }), true;
        case "POST environments/:ref/rollback":
          return send(res, 200, await ops.rollback(ref!, text(body, "target", 64), actor)), true;
        case "POST environments/:ref/unpin":
          await ops.unpin(ref!, actor);
          return send(res, 200, { unpinned: ref }), true;
        case "POST environments/:ref/deploy": {
          const files = body.files;
          if (!files || typeof files !== "object" || Array.isArray(files) || Object.values(files).some((v) => typeof v !== "string")) throw new AdminError("BAD_REQUEST", '"files" must map repository paths to file contents');
          return send(res, 200, await ops.deployFiles(ref!, files as Record<string, string>, actor)), true;
        }
        case "PUT environments/:ref/report-only":
          if (typeof body.reportOnly !== "boolean") throw new AdminError("BAD_REQUEST", '"reportOnly" must be true or false');
          await ops.setReportOnly(ref!, body.reportOnly, actor);
          return send(res, 200, { reportOnly: body.reportOnly }), true;
        case "GET audit": {
          const q = url.searchParams;
          const filter = Object.fromEntries(["repository", "environment", "actor", "action", "since", "until"].flatMap((k) => (q.get(k) ? [[k, q.get(k)!]] : [])));
          return send(res, 200, await ops.audit(filter, page(q))), true;
        }
        default:
          throw new AdminError("NOT_FOUND", `no such API: ${method} ${url.pathname}`);
      }
    } catch (e) {
      if (e instanceof AdminError) send(res, HTTP_STATUS[e.code], { error: { code: e.code, message: e.message } });
      else {
        options.log("error", `admin API ${req.method} ${raw.split("?")[0]} failed: ${e instanceof Error ? e.message : String(e)}`);
        send(res, 500, { error: { code: "INTERNAL", message: "the request failed; the server log has the details" } });
      }
      return true;
    }
  };
}
