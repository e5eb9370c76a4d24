import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { answerClientError, createDashboard, type DashboardOptions } from "../../src/web/index.js";

export interface Served {
  url: string;
  logs: string[];
  close(): Promise<void>;
}

/** The dashboard on a real node:http server on 127.0.0.1:0, behind it a JSON 404 as the app server has. */
export async function serve(options: Omit<DashboardOptions, "log">): Promise<Served> {
  const logs: string[] = [];
  const dashboard = createDashboard({ ...options, log: (level, message) => logs.push(`${level} ${message}`) });
  const server: Server = createServer((req, res) => {
    void dashboard(req, res).then((handled) => {
      if (handled) return;
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "not found" }));
    });
  });
  server.on("clientError", answerClientError);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    logs,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface Answer {
  status: number;
  headers: Headers;
  body: string;
}

/** A browser in miniature: keeps the session cookie, does not follow redirects, reads the CSRF token from the last page. */
export class Browser {
  cookie = "";
  csrf = "";

  constructor(private readonly base: string) {}

  private async send(path: string, init: RequestInit): Promise<Answer> {
    const res = await fetch(this.base + path, { ...init, redirect: "manual", headers: { ...(this.cookie ? { cookie: this.cookie } : {}), ...(init.headers as Record<string, string>) } });
    const set = res.headers.getSetCookie();
    if (set.length) this.cookie = set[0]!.split(";")[0]!;
    const body = await res.text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(body)?.[1];
    if (csrf) this.csrf = csrf;
    return { status: res.status, headers: res.headers, body };
  }

  get(path: string): Promise<Answer> {
    return this.send(path, { method: "GET" });
  }

  /** Posts a form; the CSRF token from the last page goes with it unless `csrf` says otherwise. */
  post(path: string, fields: Record<string, string>, options: { csrf?: string | null; headers?: Record<string, string> } = {}): Promise<Answer> {
    const form = new URLSearchParams(fields);
    const csrf = options.csrf === undefined ? this.csrf : options.csrf;
    if (csrf !== null) form.set("csrf", csrf);
    return this.send(path, { method: "POST", body: form.toString(), headers: { "content-type": "application/x-www-form-urlencoded", ...options.headers } });
  }

  async signIn(token: string): Promise<Answer> {
    await this.get("/login");
    return this.post("/login", { token, next: "/" });
  }
}

/** A raw request whose start line may be far larger than fetch would send. */
export function rawGet(base: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(base + path, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}
