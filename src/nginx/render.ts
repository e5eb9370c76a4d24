import type { GatewayConfig, JsonObject, Route } from "../config/index.js";
import { DEFAULT_BODY_LIMITS, fillEnv, type EnvironmentSettings } from "../gateway/release.js";
import { ReleaseError } from "../gateway/errors.js";
import { DEFAULT_TIMEOUTS } from "../gateway/upstreams.js";
import { escapeRegex, jsonText, literal, NginxRenderError, regex } from "./nginx-text.js";
import { njsScript, type KeyExtractor, type PreflightPolicy } from "./njs-script.js";

export { NginxRenderError } from "./nginx-text.js";

/**
 * What the Node gateway compiles a release from (src/gateway/release.ts compileRelease): the
 * validated config and the environment's `$env` values. The compiled Release itself is closures,
 * so the renderer starts one step earlier, from the same data, and fills `$env` the same way.
 */
export interface NginxReleaseSource {
  config: GatewayConfig;
  vars: Readonly<Record<string, string>>;
}

export interface NginxEnvironment {
  /** The host name nginx serves the environment at (`server_name`). */
  host: string;
  /** The environment's label (as the Node gateway names it: rate-limit zones, logs). */
  name: string;
  release: NginxReleaseSource;
  /** The API consumers and the SHA-256 hashes of their keys (EnvironmentSettings["consumers"], from the store). */
  consumers: EnvironmentSettings["consumers"];
}

export interface NginxRenderInput {
  environments: readonly NginxEnvironment[];
  /** Where routes nginx cannot serve itself are proxied ("http://127.0.0.1:8787"); the Host header is kept. */
  nodeGatewayUrl: string;
  listen: { port: number; address?: string };
  /**
   * Hosts no environment here serves (previews left on the Node gateway) are proxied to the Node
   * gateway, which answers them or says no environment is there; without it nginx answers 404.
   */
  otherHostsToNode?: boolean;
  /** The njs module to load; Debian's path by default. */
  jsModulePath?: string;
  /** The gateway's body cap (GatewayServices.maxBodyBytes); DEFAULT_BODY_LIMITS when absent. */
  maxBodyBytes?: number;
  /** The upstream connect and read timeouts (Upstreams.timeouts); DEFAULT_TIMEOUTS when absent. */
  timeouts?: { connectMs: number; headersMs: number; bodyMs: number };
}

export interface HybridRoute {
  environment: string;
  route: string;
  reason: string;
}

export interface NginxRenderResult {
  /** Relative path -> content: `nginx.conf`, `gitway.js` and one file per environment under `environments/`. */
  files: Record<string, string>;
  hybridRoutes: HybridRoute[];
}

export const DEFAULT_JS_MODULE = "/usr/lib/nginx/modules/ngx_http_js_module.so";

/** A problem+json body as src/gateway/problem.ts writes it; `detail` is nginx text (it may hold `$gw_path`). */
function problemBody(status: number, type: string, title: string, detail: string, instance = "$gw_path"): string {
  return `'{"type":"https://gitway.dev/problems/${type}","title":"${jsonText(title)}","status":${status},"detail":"${detail}","instance":"${instance}","trace":{"requestId":"$gw_request_id"}}'`;
}

/** The segment-by-segment order of src/gateway/path-match.ts: static segments before parameters. */
function matchOrder(a: string[], b: string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const pa = /^\{.*\}$/.test(a[i]!) ? 1 : 0;
    const pb = /^\{.*\}$/.test(b[i]!) ? 1 : 0;
    if (pa !== pb) return pa - pb;
  }
  return a.length - b.length;
}

function segments(template: string): string[] {
  const trimmed = template.length > 1 && template.endsWith("/") ? template.slice(0, -1) : template;
  return trimmed.split("/").slice(1);
}

/** Path characters that mean the same thing decoded (nginx's $uri) and encoded (the Node gateway's path). */
const PLAIN_SEGMENT = /^[A-Za-z0-9._~-]*$/;

interface PathGroup {
  template: string;
  segs: string[];
  templated: boolean;
  /** method (upper case) -> route */
  routes: Map<string, Route>;
}

interface Upstream {
  name: string;
  origin: URL;
}

/** One environment's rendering state: the names it gives its upstreams, maps and zones. */
class EnvironmentRenderer {
  readonly http: string[] = [];
  private readonly upstreams = new Map<string, Upstream>();
  private locationCount = 0;

  constructor(
    private readonly index: number,
    private readonly env: NginxEnvironment,
    private readonly input: NginxRenderInput,
    private readonly hybrid: HybridRoute[],
  ) {}

  private get prefix(): string {
    return `gw_e${this.index}`;
  }

  private upstream(origin: URL): Upstream {
    let u = this.upstreams.get(origin.origin);
    if (!u) {
      u = { name: `${this.prefix}_u${this.upstreams.size}`, origin };
      this.upstreams.set(origin.origin, u);
      const port = origin.port || (origin.protocol === "https:" ? "443" : "80");
      // Keep-alive connections to the upstream, as the Node gateway's undici pools keep them.
      this.http.push(`upstream ${u.name} {\n  server ${origin.hostname}:${port};\n  keepalive 64;\n}`);
    }
    return u;
  }

  /** Why nginx cannot serve this route itself, or undefined when it can. */
  private hybridReason(route: Route, options: JsonObject): string | undefined {
    if (route.inbound.length > 0 || route.outbound.length > 0) return `policies ${[...route.inbound, ...route.outbound].join(", ")} are served by the Node gateway`;
    if (route.corsPolicy !== "none") return `CORS policy ${route.corsPolicy} is served by the Node gateway`;
    if (route.handler.export === "urlRewriteHandler") return "urlRewriteHandler builds the upstream URL per request";
    if (route.handler.export !== "urlForwardHandler") return `${route.handler.export} is served by the Node gateway`;
    if (options.followRedirects === true) return "followRedirects: nginx returns the upstream's redirect instead of following it";
    if (!segments(route.operation.path).every((s) => /^\{[^}]+\}$/.test(s) || PLAIN_SEGMENT.test(s))) return "the path has characters nginx decodes before matching";
    return undefined;
  }

  private proxyToNode(route: Route, reason: string): string[] {
    this.hybrid.push({ environment: this.env.name, route: route.id, reason });
    const node = new URL(this.input.nodeGatewayUrl);
    return [
      `proxy_http_version 1.1;`,
      `proxy_set_header Connection "";`,
      // The Node gateway picks the environment by Host, and keeps the request id nginx chose.
      `proxy_set_header Host $http_host;`,
      `proxy_set_header X-Request-Id $gw_request_id;`,
      `proxy_pass ${node.protocol}//${node.host};`,
    ];
  }

  private forward(route: Route, options: JsonObject): string[] {
    const base = new URL(String(options.baseUrl));
    const u = this.upstream(base);
    const prefix = base.pathname.replace(/\/+$/, "");
    const timeouts = this.input.timeouts ?? DEFAULT_TIMEOUTS;
    const readMs = typeof options.timeoutMs === "number" ? options.timeoutMs : timeouts.headersMs;
    const lines = [
      `proxy_connect_timeout ${timeouts.connectMs}ms;`,
      `proxy_read_timeout ${readMs}ms;`,
      `proxy_send_timeout ${typeof options.timeoutMs === "number" ? options.timeoutMs : timeouts.bodyMs}ms;`,
      `proxy_http_version 1.1;`,
      `proxy_set_header Connection "";`,
      `proxy_set_header Host ${literal(base.host, `${route.id}: baseUrl host`)};`,
      `proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;`,
      `proxy_set_header X-Forwarded-Proto $scheme;`,
      `proxy_set_header X-Forwarded-Host $http_host;`,
      `proxy_set_header X-Request-Id $gw_request_id;`,
      // Only the gateway says who the consumer is: a caller's own header is replaced or dropped.
      `proxy_set_header X-Consumer-Name $gw_consumer;`,
      `proxy_hide_header X-Request-Id;`,
    ];
    if (base.protocol === "https:") lines.push(`proxy_ssl_server_name on;`, `proxy_ssl_name ${literal(base.hostname, `${route.id}: baseUrl host`)};`);
    // A rewritten URI is sent normalised and re-escaped, as the Node gateway sends its normalised path.
    lines.push(`rewrite ^ ${prefix ? literal(prefix, `${route.id}: baseUrl path`).slice(1, -1) : ""}$uri${options.forwardSearch === false ? "?" : ""} break;`);
    lines.push(`proxy_pass ${base.protocol}//${u.name};`);
    return lines;
  }

  private routeBody(route: Route): string[] {
    const missing = new Set<string>();
    const options = fillEnv(route.handler.options, this.env.release.vars, missing) as JsonObject;
    if (missing.size > 0) throw new ReleaseError("ENV_VARIABLE_MISSING", `environment ${this.env.name} does not set ${[...missing].map((n) => `$env(${n})`).join(", ")}`);
    const reason = this.hybridReason(route, options);
    if (reason) return this.proxyToNode(route, reason);
    return this.forward(route, options);
  }

  private location(group: PathGroup): string {
    const id = `${this.prefix}_l${this.locationCount++}`;
    const allowed = [...group.routes.keys()];
    const accepts = allowed.includes("GET") && !allowed.includes("HEAD") ? [...allowed, "HEAD"] : allowed;
    const allow = allowed.join(", ");
    const bodies = new Map<string, string[]>();
    for (const [method, route] of group.routes) bodies.set(method, this.routeBody(route));
    const lines: string[] = [
      `set $gw_location ${id};`,
      `add_header X-Request-Id $gw_request_id always;`,
      `add_header Allow $gw_allow always;`,
      `if ($request_method !~ ${regex(`^(${accepts.join("|")})$`)}) {`,
      `  set $gw_allow ${literal(allow, "methods")};`,
      `  return 405 ${problemBody(405, "method-not-allowed", "Method Not Allowed", `$request_method is not allowed here; use ${jsonText(allow)}`)};`,
      `}`,
    ];
    const distinct = new Set([...bodies.values()].map((b) => b.join("\n")));
    if (distinct.size === 1) {
      lines.push(...bodies.values().next().value!);
    } else {
      // Methods of one path with different handling: each goes to its own named location.
      let code = 460;
      const named: string[] = [];
      for (const [method, body] of bodies) {
        const name = `@${id}_${method.toLowerCase()}`;
        lines.push(`error_page ${code} = ${name};`);
        lines.push(`if ($request_method = ${method}) { return ${code}; }`);
        if (method === "GET" && !bodies.has("HEAD")) lines.push(`if ($request_method = HEAD) { return ${code}; }`);
        named.push(`location ${name} {\n${indent(["recursive_error_pages on;", "add_header X-Request-Id $gw_request_id always;", ...body], 2)}\n}`);
        code++;
      }
      this.named.push(...named);
    }
    const head = group.templated
      ? `location ~ ${regex("^" + group.segs.map((s) => "/" + (/^\{.*\}$/.test(s) ? "[^/]+" : escapeRegex(s))).join("") + "/?$")}`
      : undefined;
    const body = indent(lines, 2);
    if (head) return `${head} {\n${body}\n}`;
    const exact = "/" + group.segs.join("/");
    const variants = exact === "/" ? ["/"] : [exact, exact + "/"];
    return variants.map((p) => `location = ${p} {\n${body}\n}`).join("\n");
  }

  readonly named: string[] = [];

  render(): string {
    const groups = new Map<string, PathGroup>();
    for (const route of this.env.release.config.routes) {
      const segs = segments(route.operation.path);
      const key = segs.map((s) => (/^\{.*\}$/.test(s) ? "{}" : s)).join("/");
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { template: route.operation.path, segs, templated: segs.some((s) => /^\{.*\}$/.test(s)), routes: new Map() }));
      g.routes.set(route.operation.method.toUpperCase(), route);
    }
    const ordered = [...groups.values()].sort((a, b) => matchOrder(a.segs, b.segs));
    const locations = ordered.map((g) => this.location(g));
    const server = [
      `listen ${listenAddress(this.input)};`,
      `server_name ${literal(this.env.host.toLowerCase(), `environment ${this.env.name}: host`)};`,
      `set $gw_allow "";`,
      `set $gw_consumer "";`,
      `set $gw_body_limit ${this.input.maxBodyBytes ?? DEFAULT_BODY_LIMITS.maxBodyBytes};`,
      ...SERVER_ERRORS,
      ...locations,
      ...this.named,
      `location / {`,
      `  add_header X-Request-Id $gw_request_id always;`,
      `  return 404 ${problemBody(404, "route-not-found", "Not Found", "No route matches $request_method $gw_path")};`,
      `}`,
    ];
    return [`# environment ${this.env.name.replace(/[^\w.-]/g, "?")}`, ...this.http, `server {\n${indent(server, 2)}\n}`, ""].join("\n");
  }
}

/** The gateway's own answers for what nginx refuses before a route runs, as problem+json. */
const SERVER_ERRORS = [
  "error_page 400 @gw_400;",
  "error_page 413 @gw_413;",
  "error_page 494 =431 @gw_431;",
  "error_page 502 @gw_502;",
  "error_page 504 @gw_504;",
  "location @gw_400 {",
  "  add_header X-Request-Id $gw_request_id always;",
  `  return 400 ${problemBody(400, "bad-path", "Bad Request", "The request path is not valid (it climbs above the root or is badly encoded)", "/")};`,
  "}",
  "location @gw_413 {",
  "  add_header X-Request-Id $gw_request_id always;",
  "  add_header Connection close always;",
  `  return 413 ${problemBody(413, "payload-too-large", "Payload Too Large", "The request body is over $gw_body_limit bytes")};`,
  "}",
  "location @gw_431 {",
  "  add_header X-Request-Id $gw_request_id always;",
  `  return 431 ${problemBody(431, "headers-too-large", "Request Header Fields Too Large", "The request headers are too large", "/")};`,
  "}",
  "location @gw_502 {",
  "  add_header X-Request-Id $gw_request_id always;",
  `  return 502 ${problemBody(502, "upstream-failed", "Bad Gateway", "The upstream could not be reached or failed")};`,
  "}",
  "location @gw_504 {",
  "  add_header X-Request-Id $gw_request_id always;",
  `  return 504 ${problemBody(504, "upstream-timeout", "Gateway Timeout", "The upstream did not answer in time")};`,
  "}",
];

function indent(lines: string[], n: number): string {
  const pad = " ".repeat(n);
  return lines
    .join("\n")
    .split("\n")
    .map((l) => (l ? pad + l : l))
    .join("\n");
}

function listenAddress(input: NginxRenderInput): string {
  const port = input.listen.port;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new NginxRenderError(`listen port ${port} is not a port number`);
  const address = input.listen.address;
  if (address === undefined) return String(port);
  if (!/^[0-9a-fA-F.:[\]]+$|^[A-Za-z0-9.-]+$/.test(address)) throw new NginxRenderError(`listen address ${address} is not an address`);
  return `${address.includes(":") && !address.startsWith("[") ? `[${address}]` : address}:${port}`;
}

/**
 * Renders releases as one nginx configuration: a `server` per environment host, a `location` per
 * route in the Node gateway's match order, and the Node gateway's answers (problem+json, the same
 * statuses) for what nginx refuses. Pure: the caller writes the files and reloads nginx.
 */
export function renderNginx(input: NginxRenderInput): NginxRenderResult {
  const hybridRoutes: HybridRoute[] = [];
  const files: Record<string, string> = {};
  const includes: string[] = [];
  const hosts = new Set<string>();
  input.environments.forEach((env, i) => {
    const host = env.host.toLowerCase();
    if (!/^[a-z0-9.-]+$/.test(host)) throw new NginxRenderError(`environment ${env.name}: host ${JSON.stringify(env.host)} is not a host name`);
    if (hosts.has(host)) throw new NginxRenderError(`two environments are served at ${host}`);
    hosts.add(host);
    const file = `environments/e${i}.conf`;
    files[file] = new EnvironmentRenderer(i, env, input, hybridRoutes).render();
    includes.push(`include ${file};`);
  });
  const keyExtractors: KeyExtractor[] = [];
  const cors: PreflightPolicy[] = [];
  files["gitway.js"] = njsScript({ keyExtractors, preflight: {}, cors });
  const maxBody = input.maxBodyBytes ?? DEFAULT_BODY_LIMITS.maxBodyBytes;
  files["nginx.conf"] = [
    "# Rendered by Gitway (src/nginx/render.ts); do not edit: the next release overwrites it.",
    `load_module ${input.jsModulePath ?? DEFAULT_JS_MODULE};`,
    "worker_processes auto;",
    "events {",
    "  worker_connections 4096;",
    "}",
    "http {",
    indent(
      [
        "js_import gitway from gitway.js;",
        "js_set $gw_path gitway.pathJson;",
        ...keyExtractors.map((k) => `js_set $gw_${k.fn} gitway.${k.fn};`),
        "js_set $gw_basic gitway.basicHash;",
        "default_type application/problem+json;",
        "server_tokens off;",
        "access_log off;",
        "uninitialized_variable_warn off;",
        "map_hash_bucket_size 128;",
        `client_max_body_size ${maxBody};`,
        "client_header_timeout 10s;",
        "client_body_timeout 30s;",
        "large_client_header_buffers 4 16k;",
        "keepalive_timeout 5s;",
        // `$` cannot be escaped in an nginx string; literals use this variable instead.
        'geo $gw_dollar { default "$"; }',
        // The caller's request id when it is a safe token (as the Node gateway keeps it), else nginx's own.
        'map $http_x_request_id $gw_request_id { "~^[\\w.-]{1,64}$" $http_x_request_id; default $request_id; }',
        "server {",
        `  listen ${listenAddress(input)} default_server;`,
        "  server_name _;",
        "  set $gw_allow \"\";",
        `  set $gw_body_limit ${maxBody};`,
        ...SERVER_ERRORS.map((l) => "  " + l),
        "  location / {",
        ...(input.otherHostsToNode
          ? ["    proxy_http_version 1.1;", '    proxy_set_header Connection "";', "    proxy_set_header Host $http_host;", "    proxy_set_header X-Request-Id $gw_request_id;", `    proxy_pass ${new URL(input.nodeGatewayUrl).protocol}//${new URL(input.nodeGatewayUrl).host};`]
          : ["    add_header X-Request-Id $gw_request_id always;", `    return 404 ${problemBody(404, "environment-not-found", "Not Found", "No environment is served at this host name", "/")};`]),
        "  }",
        "}",
        ...includes,
      ],
      2,
    ),
    "}",
    "",
  ].join("\n");
  return { files, hybridRoutes };
}
