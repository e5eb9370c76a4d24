import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import nock from "nock";

/**
 * GitHub's REST API as nock serves it to the app under test: a few repositories with commits,
 * and a record of everything the app sent (check runs, deployments, statuses, comments).
 * Only the endpoints Gitway uses answer; any other request is kept in `unexpected`.
 */

export interface CheckRun {
  id: number;
  name: string;
  head_sha: string;
  status: string;
  conclusion?: string;
  details_url?: string;
  output: { title?: string; summary?: string; text?: string };
  annotations: { path: string; start_line: number; annotation_level: string; title?: string; message: string }[];
  actions: { identifier: string; label: string }[];
}

export interface Deployment {
  id: number;
  repo: string;
  ref: string;
  environment: string;
  transient_environment: boolean;
  production_environment: boolean;
  required_contexts: string[];
  auto_merge: boolean;
  statuses: { state: string; environment_url?: string; description?: string }[];
}

export interface Comment {
  id: number;
  body: string;
  user: { login: string; type: string };
}

export interface PullRequest {
  number: number;
  state: "open" | "closed";
  head: { sha: string; ref: string; fork: boolean };
  base: { sha: string; ref: string };
}

export interface FakeRepo {
  owner: string;
  name: string;
  defaultBranch: string;
  commits: Map<string, Record<string, string>>;
  branches: Map<string, string>;
  pulls: Map<number, PullRequest>;
  permissions: Map<string, { permission: string; role_name: string }>;
  /** A commit's parent: the head of the branch it was committed on, before it. */
  parents: Map<string, string>;
}

export interface Sent {
  method: string;
  path: string;
  body: unknown;
  at?: number;
}

type Failure = { method: string; path: RegExp; status: number; times: number; headers?: Record<string, string> };

export class FakeGitHub {
  readonly repos = new Map<string, FakeRepo>();
  readonly checkRuns: CheckRun[] = [];
  readonly deployments: Deployment[] = [];
  readonly comments = new Map<string, Comment[]>();
  /** Every request the app made, bodies included: what a secret-leak test searches. */
  readonly sent: Sent[] = [];
  readonly unexpected: string[] = [];
  private readonly failures: Failure[] = [];
  private readonly holds: { method: string; path: RegExp; gate: Promise<void> }[] = [];
  private readonly blobs = new Map<string, string>();
  private nextId = 1000;
  readonly installationId = 4242;

  constructor(
    /** `https://api.github.com`, or `http://ghe.test` with prefix `/api/v3`. */
    readonly origin = "https://api.github.com",
    readonly prefix = "",
  ) {}

  repo(owner: string, name: string, defaultBranch = "main"): FakeRepo {
    const r: FakeRepo = { owner, name, defaultBranch, commits: new Map(), branches: new Map(), pulls: new Map(), permissions: new Map(), parents: new Map() };
    this.repos.set(`${owner}/${name}`, r);
    return r;
  }

  /** Adds a commit with these files (the whole tree) and returns its SHA; moves `branch` to it when given. */
  commit(repo: FakeRepo, files: Record<string, string>, branch?: string): string {
    const sha = createHash("sha1").update(JSON.stringify(files) + this.nextId++).digest("hex");
    repo.commits.set(sha, files);
    for (const content of Object.values(files)) this.blobs.set(this.blobSha(content), content);
    const parent = branch ? repo.branches.get(branch) : undefined;
    if (parent) repo.parents.set(sha, parent);
    if (branch) repo.branches.set(branch, sha);
    return sha;
  }

  /** Requests matching method and path wait until the returned function is called. */
  hold(method: string, path: RegExp): () => void {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    this.holds.push({ method, path, gate });
    return () => {
      this.holds.splice(this.holds.findIndex((h) => h.gate === gate), 1);
      release();
    };
  }

  /** The next `times` requests matching method and path fail with `status`. */
  failNext(method: string, path: RegExp, status: number, times = 1, headers?: Record<string, string>): void {
    this.failures.push({ method, path, status, times, headers });
  }

  checkRunsFor(sha: string, name?: string): CheckRun[] {
    return this.checkRuns.filter((c) => c.head_sha === sha && (name === undefined || c.name === name));
  }

  /** The newest check run of that name for the commit: what GitHub shows. */
  latestCheck(sha: string, name: string): CheckRun | undefined {
    return this.checkRunsFor(sha, name).at(-1);
  }

  deploymentsOf(repo: FakeRepo, environment: string): Deployment[] {
    return this.deployments.filter((d) => d.repo === `${repo.owner}/${repo.name}` && d.environment === environment);
  }

  commentsOf(repo: FakeRepo, number: number): Comment[] {
    return this.comments.get(`${repo.owner}/${repo.name}#${number}`) ?? [];
  }

  private blobSha(content: string): string {
    return createHash("sha1").update(content).digest("hex");
  }

  /** One request as GitHub would answer it: recorded, held or failed when a test asked, then answered. */
  private async handle(method: string, uri: string, body: unknown, gone: () => boolean = () => false): Promise<[number, unknown, Record<string, string>?]> {
    const url = new URL(uri, this.origin);
    const path = url.pathname.slice(this.prefix.length);
    const parsed = typeof body === "string" && body !== "" ? JSON.parse(body) : body;
    this.sent.push({ method, path: path + url.search, body: parsed, at: performance.now() });
    const held = this.holds.find((h) => h.method === method && h.path.test(path));
    if (held) await held.gate;
    // The client died while its request was held (a killed process): the write never reached GitHub.
    if (gone()) return [499, { message: "client gone" }];
    const failure = this.failures.find((f) => f.method === method && f.path.test(path) && f.times > 0);
    if (failure) {
      failure.times--;
      return [failure.status, { message: `injected ${failure.status}` }, failure.headers ?? {}];
    }
    const answer = this.answer(method, path, url.searchParams, parsed as Record<string, unknown>);
    if (!answer) {
      this.unexpected.push(`${method} ${path}${url.search}`);
      return [404, { message: "Not Found" }];
    }
    return answer;
  }

  /** Answers the app in this process (nock intercepts its requests to `origin`). */
  install(): void {
    const scope = nock(this.origin).persist();
    for (const method of ["GET", "POST", "PATCH", "PUT", "DELETE"] as const) {
      scope.intercept(new RegExp(`^${this.prefix.replace(/\//g, "\\/")}/`), method).reply((uri, body) => this.handle(method, uri, body));
    }
  }

  /**
   * Answers over real HTTP on loopback, for an app running as its own process (`node dist/main.js`
   * with GHE_HOST set to the returned host and GHE_PROTOCOL=http). The fake must have been built
   * with prefix `/api/v3`, as GitHub Enterprise Server serves its API.
   */
  async serve(): Promise<{ host: string; close: () => Promise<void> }> {
    const server: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        void this.handle(req.method ?? "GET", req.url ?? "/", Buffer.concat(chunks).toString("utf8"), () => req.socket.destroyed).then(
          ([status, body, headers]) => {
            res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...(headers ?? {}) });
            res.end(JSON.stringify(body));
          },
          (e: unknown) => {
            res.writeHead(500, { "content-type": "application/json" });
            res.end(JSON.stringify({ message: String(e) }));
          },
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    return {
      host,
      close: () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    };
  }

  private answer(method: string, path: string, query: URLSearchParams, body: Record<string, unknown>): [number, unknown] | undefined {
    let m: RegExpExecArray | null;
    if (method === "POST" && /^\/app\/installations\/\d+\/access_tokens$/.test(path)) {
      return [201, { token: "ghs_fake_installation_token", expires_at: new Date(Date.now() + 3_600_000).toISOString(), permissions: {}, repository_selection: "all" }];
    }
    if (method === "GET" && path === "/app") return [200, { id: 123, slug: "gitway", name: "Gitway", owner: { login: "acme" } }];
    if (method === "GET" && path === "/app/installations") return [200, [{ id: this.installationId, account: { login: "acme" } }]];
    if (method === "GET" && path === "/installation/repositories") {
      const repositories = [...this.repos.values()].map((r) => this.repoJson(r));
      return [200, { total_count: repositories.length, repositories }];
    }
    if (!(m = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(path))) return undefined;
    const repo = this.repos.get(`${m[1]}/${m[2]}`);
    if (!repo) return [404, { message: "Not Found" }];
    const rest = m[3] ?? "";
    if (method === "GET" && rest === "") return [200, this.repoJson(repo)];
    if (method === "GET" && rest === "/installation") return [200, { id: this.installationId, account: { login: repo.owner } }];
    if (method === "GET" && (m = /^\/branches\/(.+)$/.exec(rest))) {
      const sha = repo.branches.get(decodeURIComponent(m[1]!));
      return sha ? [200, { name: m[1], commit: { sha } }] : [404, { message: "Branch not found" }];
    }
    if (method === "GET" && (m = /^\/compare\/([0-9a-f]+)\.\.\.([0-9a-f]+)$/.exec(rest))) {
      const [base, head] = [m[1]!, m[2]!];
      if (!repo.commits.has(base) || !repo.commits.has(head)) return [404, { message: "Not Found" }];
      const ancestry = (sha: string) => {
        const line: string[] = [];
        for (let at: string | undefined = sha; at; at = repo.parents.get(at)) line.push(at);
        return line;
      };
      const [fromBase, fromHead] = [ancestry(base), ancestry(head)];
      const status = base === head ? "identical" : fromBase.includes(head) ? "behind" : fromHead.includes(base) ? "ahead" : "diverged";
      return [200, { status, ahead_by: status === "ahead" ? fromHead.indexOf(base) : 0, behind_by: status === "behind" ? fromBase.indexOf(head) : 0, commits: [], files: [] }];
    }
    if (method === "GET" && (m = /^\/git\/trees\/([0-9a-f]+)$/.exec(rest))) {
      const files = repo.commits.get(m[1]!);
      if (!files) return [404, { message: "Not Found" }];
      return [200, { sha: m[1], truncated: false, tree: Object.entries(files).map(([p, content]) => ({ path: p, mode: "100644", type: "blob", sha: this.blobSha(content), size: Buffer.byteLength(content) })) }];
    }
    if (method === "GET" && (m = /^\/git\/blobs\/([0-9a-f]+)$/.exec(rest))) {
      const content = this.blobs.get(m[1]!);
      return content === undefined ? [404, { message: "Not Found" }] : [200, { sha: m[1], encoding: "base64", content: Buffer.from(content).toString("base64") }];
    }
    if (method === "POST" && rest === "/check-runs") {
      const run: CheckRun = { id: this.nextId++, name: String(body.name), head_sha: String(body.head_sha), status: String(body.status ?? "queued"), output: {}, annotations: [], actions: [] };
      this.applyCheck(run, body);
      this.checkRuns.push(run);
      return [201, run];
    }
    if (method === "PATCH" && (m = /^\/check-runs\/(\d+)$/.exec(rest))) {
      const run = this.checkRuns.find((c) => c.id === Number(m![1]));
      if (!run) return [404, { message: "Not Found" }];
      this.applyCheck(run, body);
      return [200, run];
    }
    if (method === "POST" && rest === "/deployments") {
      const d: Deployment = {
        id: this.nextId++,
        repo: `${repo.owner}/${repo.name}`,
        ref: String(body.ref),
        environment: String(body.environment),
        transient_environment: body.transient_environment === true,
        production_environment: body.production_environment === true,
        required_contexts: body.required_contexts as string[],
        auto_merge: body.auto_merge as boolean,
        statuses: [],
      };
      this.deployments.push(d);
      return [201, d];
    }
    if (method === "GET" && rest === "/deployments") {
      const list = this.deployments.filter((d) => d.repo === `${repo.owner}/${repo.name}` && (!query.get("environment") || d.environment === query.get("environment"))).reverse();
      return [200, list.slice(0, Number(query.get("per_page") ?? 30))];
    }
    if (method === "POST" && (m = /^\/deployments\/(\d+)\/statuses$/.exec(rest))) {
      const d = this.deployments.find((x) => x.id === Number(m![1]));
      if (!d) return [404, { message: "Not Found" }];
      d.statuses.push({ state: String(body.state), environment_url: body.environment_url as string | undefined, description: body.description as string | undefined });
      return [201, { id: this.nextId++, state: body.state }];
    }
    if ((m = /^\/issues\/(\d+)\/comments$/.exec(rest))) {
      const key = `${repo.owner}/${repo.name}#${m[1]}`;
      const list = this.comments.get(key) ?? [];
      if (method === "GET") return [200, list];
      if (method === "POST") {
        const c: Comment = { id: this.nextId++, body: String(body.body), user: { login: "gitway[bot]", type: "Bot" } };
        this.comments.set(key, [...list, c]);
        return [201, c];
      }
    }
    if (method === "PATCH" && (m = /^\/issues\/comments\/(\d+)$/.exec(rest))) {
      for (const list of this.comments.values()) {
        const c = list.find((x) => x.id === Number(m![1]));
        if (c) {
          c.body = String(body.body);
          return [200, c];
        }
      }
      return [404, { message: "Not Found" }];
    }
    if (method === "GET" && (m = /^\/collaborators\/([^/]+)\/permission$/.exec(rest))) {
      const p = repo.permissions.get(m[1]!) ?? { permission: "none", role_name: "none" };
      return [200, { permission: p.permission, role_name: p.role_name, user: { login: m[1] } }];
    }
    if (method === "GET" && (m = /^\/pulls\/(\d+)$/.exec(rest))) {
      const pr = repo.pulls.get(Number(m[1]));
      return pr ? [200, this.pullJson(repo, pr)] : [404, { message: "Not Found" }];
    }
    if (method === "GET" && rest === "/pulls") {
      const head = query.get("head");
      const list = [...repo.pulls.values()].filter((p) => p.state === (query.get("state") ?? "open") && (!head || head === `${repo.owner}:${p.head.ref}`));
      return [200, list.map((p) => this.pullJson(repo, p))];
    }
    return undefined;
  }

  private applyCheck(run: CheckRun, body: Record<string, unknown>): void {
    if (body.status) run.status = String(body.status);
    if (body.conclusion) run.conclusion = String(body.conclusion);
    if (body.details_url) run.details_url = String(body.details_url);
    if (Array.isArray(body.actions)) run.actions = body.actions as CheckRun["actions"];
    const output = body.output as (CheckRun["output"] & { annotations?: CheckRun["annotations"] }) | undefined;
    if (output) {
      const { annotations, ...text } = output;
      run.output = { ...run.output, ...text };
      // GitHub appends annotations sent in later updates.
      if (annotations) run.annotations.push(...annotations);
    }
  }

  private repoJson(r: FakeRepo) {
    return { id: 77, name: r.name, full_name: `${r.owner}/${r.name}`, owner: { login: r.owner }, default_branch: r.defaultBranch, private: false };
  }

  private pullJson(r: FakeRepo, p: PullRequest) {
    const full = `${r.owner}/${r.name}`;
    return {
      number: p.number,
      state: p.state,
      head: { sha: p.head.sha, ref: p.head.ref, repo: { full_name: p.head.fork ? `fork-owner/${r.name}` : full } },
      base: { sha: p.base.sha, ref: p.base.ref, repo: { full_name: full } },
    };
  }
}
