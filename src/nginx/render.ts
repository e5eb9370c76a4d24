import { createHash } from "node:crypto";
import { findPolicy, type GatewayConfig, type JsonObject, type Route } from "../config/index.js";
import { DEFAULT_BODY_LIMITS, fillEnv, type EnvironmentSettings } from "../gateway/release.js";
import { ReleaseError } from "../gateway/errors.js";
import { DEFAULT_TIMEOUTS } from "../gateway/upstreams.js";
import { COMMON_HEADERS, ERROR_PAGES, errorPagesWithLimit, nodeProxy, problemBody, SERVER_ERRORS, DECLARED_VARIABLES } from "./answers.js";
import { escapeRegex, indent, jsonText, literal, NginxRenderError, regex } from "./nginx-text.js";
import { matchOrder, PARAM, PLAIN_SEGMENT, segments } from "./paths.js";
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
  /** The njs module to load; Debian's path by default. */
  jsModulePath?: string;
  /** The gateway's body cap (GatewayServices.maxBodyBytes); DEFAULT_BODY_LIMITS when absent. */
  maxBodyBytes?: number;
  /**
   * The header in which nginx tells the Node gateway the caller's address on the routes it hands
   * over, when that gateway trusts it (GatewayServerOptions.trustedProxy). Without it, a handed-over
   * route whose policies judge the caller's address is refused: the Node gateway would judge nginx's.
   */
  nodeClientAddressHeader?: string;
  /**
   * Hosts no environment here serves (previews left on the Node gateway) are proxied to the Node
   * gateway, which answers them or says no environment is there; without it nginx answers 404.
   */
  otherHostsToNode?: boolean;
  /** nginx's worker_processes; "auto" (one per core) when absent. */
  workerProcesses?: number;
  /** The upstream connect and read timeouts (Upstreams.timeouts); DEFAULT_TIMEOUTS when absent. */
  timeouts?: { connectMs: number; headersMs: number; bodyMs: number };
  /**
   * The usage log's absolute path (src/nginx/usage-log.ts): each call to a route nginx serves
   * itself is one buffered line there, which the agent collects. Without it nginx logs nothing.
   */
  usageLog?: string;
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

/** A CORS policy compiled for nginx: the maps that answer an origin, the preflight table entry. */
interface CorsRender {
  /** The variable holding the allowed origin ("" when not allowed). */
  origin: string;
  credentials: string;
  expose: string;
  vary: string;
  /** Index in the njs CORS table. */
  index: number;
}

/** Everything a route needs nginx to do, built while its policies are read in order. */
interface RouteParts {
  /** Rewrite-phase checks and assignments, in policy order. */
  checks: string[];
  /** Other location directives (limit_req, client_max_body_size...). */
  directives: string[];
  /** Request headers to the upstream, lower-case name -> nginx value ("" drops it). */
  upstreamHeaders: Map<string, string>;
  addHeaders: string[];
  hideHeaders: string[];
  /** The rate-limit zones this route uses already (a second policy of the same rate takes another). */
  zones: Set<string>;
}

/** Shared memory per rate-limit zone: about 80,000 callers' states (environment, policy and caller). */
const RATE_ZONE_SIZE = "10m";

const NAME_OF_VAR = /^[A-Za-z0-9_-]+$/;

/** Shared state of one render: the njs tables every environment adds to. */
interface Shared {
  keyExtractors: Map<string, KeyExtractor>;
  /** http-level maps every environment may use (CORS policies, by content). */
  http: string[];
  corsByContent: Map<string, CorsRender>;
  mapCount: number;
  zones: Set<string>;
  preflight: Record<string, Record<string, number>>;
  cors: PreflightPolicy[];
  hybrid: HybridRoute[];
  /** Entries of the usage map: `"<location id> <method>"` to `"<environment label> <route id>"`. */
  usage: string[];
}

/** One environment's rendering state: the names it gives its upstreams, maps and zones. */
class EnvironmentRenderer {
  readonly http: string[] = [];
  private readonly upstreams = new Map<string, Upstream>();
  private readonly geos = new Map<string, string>();
  private readonly basicMaps = new Map<string, string>();
  private keyMap: string | undefined;
  private locationCount = 0;
  private mapCount = 0;
  readonly named: string[] = [];
  private readonly policies: Map<string, { policyType: string; options: JsonObject; name: string }>;

  constructor(
    private readonly index: number,
    private readonly env: NginxEnvironment,
    private readonly input: NginxRenderInput,
    private readonly shared: Shared,
  ) {
    const missing = new Set<string>();
    this.policies = new Map(
      env.release.config.policies.map((p) => {
        const builtin = findPolicy(p.export);
        return [p.name, { name: p.name, policyType: builtin?.policyType ?? "", options: fillEnv(p.options, env.release.vars, missing) as JsonObject }];
      }),
    );
    if (missing.size > 0) throw new ReleaseError("ENV_VARIABLE_MISSING", `environment ${env.name} does not set ${[...missing].map((n) => `$env(${n})`).join(", ")}`);
  }

  private get prefix(): string {
    return `gw_e${this.index}`;
  }

  private fresh(kind: string): string {
    return `${this.prefix}_${kind}${this.mapCount++}`;
  }

  private upstream(origin: URL): Upstream {
    let u = this.upstreams.get(origin.origin);
    if (!u) {
      u = { name: `${this.prefix}_u${this.upstreams.size}`, origin };
      this.upstreams.set(origin.origin, u);
      const port = origin.port || (origin.protocol === "https:" ? "443" : "80");
      const host = origin.hostname.replace(/^\[|\]$/g, "");
      if (!/^[A-Za-z0-9.:-]+$/.test(host)) throw new NginxRenderError(`environment ${this.env.name}: upstream host ${JSON.stringify(host)} cannot be written to nginx`);
      // Keep-alive connections to the upstream, as the Node gateway's undici pools keep them.
      this.http.push(`upstream ${u.name} {\n  server ${host.includes(":") ? `[${host}]` : host}:${port};\n  keepalive 64;\n}`);
    }
    return u;
  }

  /** The map from a presented key's hash to its consumer: only hashes are written, never a key. */
  private consumersByKey(): string {
    if (this.keyMap) return this.keyMap;
    const name = (this.keyMap = `$${this.prefix}_consumer`);
    const lines = [`map $gw_key ${name} {`, `  default "";`];
    for (const c of this.env.consumers) {
      if (!/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/.test(c.name)) throw new NginxRenderError(`environment ${this.env.name}: consumer name ${JSON.stringify(c.name)} is not 1 to 64 letters, digits, dots, dashes, underscores or @`);
      for (const h of c.keyHashes) {
        if (!/^[0-9a-f]{64}$/.test(h)) throw new NginxRenderError(`environment ${this.env.name}: a key hash of consumer ${c.name} is not a SHA-256 in hex`);
        lines.push(`  ${h} ${c.name};`);
      }
    }
    lines.push("}");
    this.http.push(lines.join("\n"));
    return name;
  }

  private keyExtractor(header: string, scheme: string): KeyExtractor {
    const id = `${header}\u0000${scheme}`;
    let k = this.shared.keyExtractors.get(id);
    if (!k) {
      const fn = `key${this.shared.keyExtractors.size}`;
      // The key is taken out of its header by a regex in nginx: njs then only hashes it.
      k = NAME_OF_VAR.test(header) ? { fn, header, scheme, variable: `gw_${fn}_text` } : { fn, header, scheme };
      this.shared.keyExtractors.set(id, k);
    }
    return k;
  }

  private corsOf(name: string): CorsRender | undefined {
    if (name === "none") return undefined;
    const def = name === "anything-goes" ? { allowedOrigins: ["*"], allowedMethods: ["*"], allowedHeaders: ["*"], exposeHeaders: [] as string[], allowCredentials: true, maxAge: 600 as number | undefined } : this.env.release.config.corsPolicies.find((c) => c.name === name);
    if (!def) throw new ReleaseError("UNSUPPORTED", `CORS policy ${name} is not defined`);
    // Environments with the same policy share its maps: a thousand previews of one API write them once.
    const key = JSON.stringify([def.allowedOrigins, def.allowedMethods, def.allowedHeaders, def.exposeHeaders, def.allowCredentials, def.maxAge]);
    const cached = this.shared.corsByContent.get(key);
    if (cached) return cached;
    const http = this.shared.http;
    const fresh = () => `gw_cors${this.shared.mapCount++}`;
    const origin = fresh();
    const any = def.allowedOrigins.includes("*");
    const patterns = def.allowedOrigins.filter((o) => o !== "*").map((glob) => "^" + glob.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*") + "$");
    http.push([`map $http_origin $${origin} {`, `  default ${any ? "$http_origin" : '""'};`, ...(any ? [] : patterns.map((p) => `  ${regex("~*" + p)} $http_origin;`)), "}"].join("\n"));
    const allowed = (value: string) => {
      const v = fresh();
      http.push(`map $${origin} $${v} {\n  "" "";\n  default ${value};\n}`);
      return `$${v}`;
    };
    const index = this.shared.cors.length;
    const methods = def.allowedMethods.map((m) => m.toUpperCase());
    this.shared.cors.push({ origins: patterns, any, credentials: def.allowCredentials, methods: methods.includes("*") ? "*" : methods, headers: def.allowedHeaders.includes("*") ? "*" : def.allowedHeaders, maxAge: def.maxAge });
    const render: CorsRender = {
      origin: `$${origin}`,
      credentials: def.allowCredentials ? allowed('"true"') : '""',
      expose: def.exposeHeaders.length > 0 ? allowed(literal(def.exposeHeaders.join(", "), `CORS policy ${name}: exposeHeaders`)) : '""',
      vary: allowed('"Origin"'),
      index,
    };
    this.shared.corsByContent.set(key, render);
    return render;
  }

  /** An `if` answering with a problem: nginx's `return` with the Node gateway's body and status. */
  private refuse(condition: string, status: number, type: string, title: string, detail: string, also: string[] = []): string[] {
    return [`if (${condition}) {`, ...also.map((l) => "  " + l), `  return ${status} ${problemBody(status, type, title, jsonText(detail))};`, "}"];
  }

  /** Compiles one inbound policy into the route's parts; a reason string when nginx cannot express it. */
  private inbound(name: string, route: Route, parts: RouteParts): string | undefined {
    const def = this.policies.get(name);
    if (!def || !def.policyType) throw new ReleaseError("UNSUPPORTED", `${route.id}: policy ${name} is not one the gateway implements`, route.location.file);
    const o = def.options;
    switch (def.policyType) {
      case "api-key-inbound": {
        const header = String(o.authHeader ?? "authorization").toLowerCase();
        const scheme = typeof o.authScheme === "string" ? o.authScheme : "Bearer";
        const optional = o.allowUnauthenticatedRequests === true;
        const k = this.keyExtractor(header, scheme);
        const consumer = this.consumersByKey();
        const www = [`set $gw_www ${literal(`${scheme || "ApiKey"} realm="gitway"`, `${name}: authScheme`)};`];
        const how = `send it as "${typeof o.authHeader === "string" ? o.authHeader : "Authorization"}: ${scheme ? scheme + " " : ""}<key>"`;
        parts.checks.push(`set $gw_key $gw_${k.fn};`);
        if (optional) parts.checks.push(`if (${consumer} != "") {`, `  set $gw_consumer ${consumer};`, "}");
        else {
          parts.checks.push(...this.refuse(`$gw_key = "-"`, 401, "unauthorized", "Unauthorized", `An API key is required: ${how}`, www));
          parts.checks.push(`set $gw_consumer ${consumer};`);
          parts.checks.push(...this.refuse(`$gw_consumer = ""`, 401, "unauthorized", "Unauthorized", "The API key is not valid for this environment", www));
        }
        // The key is not for the upstream: it would leak the gateway's credentials to every backend.
        parts.upstreamHeaders.set(header, '""');
        return undefined;
      }
      case "basic-auth-inbound": {
        const accounts = (o.accounts ?? []) as { username: string; password: string }[];
        if (accounts.some((a) => a.username === "" || a.password === "")) throw new ReleaseError("INVALID_CONFIG", `policy ${name}: an account's username or password is empty in environment ${this.env.name} (an $env value set to "")`);
        let map = this.basicMaps.get(name);
        if (!map) {
          map = `$${this.fresh("basic")}`;
          this.basicMaps.set(name, map);
          // Only SHA-256 of "user:password" is written, never a password.
          this.http.push([`map $gw_basic ${map} {`, `  default "";`, ...accounts.map((a) => `  ${createHash("sha256").update(`gitway-basic:${a.username}:${a.password}`).digest("hex")} ${literal(a.username, `policy ${name}: username`)};`), "}"].join("\n"));
        }
        const www = [`set $gw_www 'Basic realm="gitway", charset="UTF-8"';`];
        if (o.allowUnauthenticatedRequests === true) parts.checks.push(`if (${map} != "") {`, `  set $gw_consumer ${map};`, "}");
        else {
          parts.checks.push(...this.refuse(`$gw_basic = "-"`, 401, "unauthorized", "Unauthorized", "Basic authentication is required", www));
          parts.checks.push(`set $gw_consumer ${map};`);
          parts.checks.push(...this.refuse(`$gw_consumer = ""`, 401, "unauthorized", "Unauthorized", "The username or password is not valid", www));
        }
        parts.upstreamHeaders.set("authorization", '""');
        return undefined;
      }
      case "ip-restriction-inbound": {
        const geo = (list: string[]) => {
          const key = list.join(",");
          let v = this.geos.get(key);
          if (!v) {
            v = `$${this.fresh("ip")}`;
            this.geos.set(key, v);
            this.http.push([`geo ${v} {`, "  default 0;", ...list.map((a) => `  ${a.replace(/[^0-9A-Fa-f.:/]/g, "")} 1;`), "}"].join("\n"));
          }
          return v;
        };
        const blocked = Array.isArray(o.blockedIpAddresses) && o.blockedIpAddresses.length > 0 ? geo(o.blockedIpAddresses as string[]) : undefined;
        const allowed = Array.isArray(o.allowedIpAddresses) && o.allowedIpAddresses.length > 0 ? geo(o.allowedIpAddresses as string[]) : undefined;
        if (blocked) parts.checks.push(...this.refuse(blocked, 403, "forbidden", "Forbidden", "Requests from this address are not allowed"));
        if (allowed) parts.checks.push(...this.refuse(`${allowed} = 0`, 403, "forbidden", "Forbidden", "Requests from this address are not allowed"));
        return undefined;
      }
      case "rate-limit-inbound": {
        const allowed = Number(o.requestsAllowed);
        const minutes = Number(o.timeWindowMinutes);
        const perMinute = allowed / minutes;
        if (!Number.isInteger(perMinute) || perMinute < 1) return `rate limit ${name} (${allowed} per ${minutes} min) is not a whole number of requests per minute, which nginx's limit_req needs`;
        // One zone per rate and key kind, shared by every environment and policy with them, the key
        // scoped to "environment|policy|" as the Node gateway scopes its counters: a thousand
        // environments do not mean a thousand shared-memory zones. Named by content, so a reload
        // (which keeps a zone's counters only under the same name and size) keeps the counts.
        const by = o.rateLimitBy === "all" ? "all" : o.rateLimitBy === "user" ? "user" : "ip";
        let slot = 0;
        let zone: string;
        do zone = `gw_rl_${createHash("sha256").update(`${perMinute}|${by}|${slot++}`).digest("hex").slice(0, 12)}`;
        while (parts.zones.has(zone));
        parts.zones.add(zone);
        if (!this.shared.zones.has(zone)) {
          this.shared.zones.add(zone);
          const key = `$${zone}_scope${by === "all" ? "" : by === "user" ? "$gw_consumer_or_ip" : "$binary_remote_addr"}`;
          this.shared.http.push(`limit_req_zone "${key}" zone=${zone}:${RATE_ZONE_SIZE} rate=${perMinute}r/m;`);
        }
        parts.checks.push(`set $${zone}_scope ${literal(`${this.env.name}|${name}|`, `rate limit ${name}`)};`);
        // A burst of the whole allowance, then one request per (window / allowance): the nearest leaky bucket to a sliding window.
        parts.directives.push(`limit_req zone=${zone} burst=${Math.max(0, allowed - 1)} nodelay;`);
        if (o.headerMode !== "none") parts.checks.push(`set $gw_retry_after ${Math.ceil((minutes * 60) / allowed)};`);
        return undefined;
      }
      case "request-size-limit-inbound": {
        const cap = this.input.maxBodyBytes ?? DEFAULT_BODY_LIMITS.maxBodyBytes;
        const max = Math.min(Number(o.maxSizeInBytes), cap);
        // nginx reads 0 as "no limit".
        if (max < 1) return `request size limit ${name} of 0 bytes: nginx's client_max_body_size 0 means no limit`;
        parts.directives.push(`client_max_body_size ${max};`);
        // nginx refuses the body before the location's own directives run: the limit rides on the error page's URI.
        parts.directives.push(...errorPagesWithLimit(max));
        return undefined;
      }
      case "set-headers-inbound": {
        for (const h of (o.headers ?? []) as { name: string; value: string; overwrite?: boolean }[]) {
          const lower = h.name.toLowerCase();
          const value = literal(h.value, `policy ${name}: header ${h.name}`);
          if (h.overwrite !== false) parts.upstreamHeaders.set(lower, value);
          else {
            if (!NAME_OF_VAR.test(lower)) return `set-headers ${name}: header ${h.name} without overwrite has characters nginx variables cannot name`;
            const v = this.fresh("hdr");
            const incoming = `$http_${lower.replace(/-/g, "_")}`;
            this.http.push(`map ${incoming} $${v} {\n  "" ${value};\n  default ${incoming};\n}`);
            parts.upstreamHeaders.set(lower, `$${v}`);
          }
        }
        return undefined;
      }
      case "remove-headers-inbound":
        for (const h of (o.headers ?? []) as string[]) parts.upstreamHeaders.set(h.toLowerCase(), '""');
        return undefined;
      case "request-validation-inbound":
        return `request validation (${name}) checks bodies and parameters against the OpenAPI schemas`;
      case "mock-api-inbound":
        return `mock responses (${name}) come from the OpenAPI examples`;
      default:
        throw new ReleaseError("UNSUPPORTED", `${route.id}: ${def.policyType} cannot run as an inbound policy`);
    }
  }

  private outbound(name: string, route: Route, parts: RouteParts): string | undefined {
    const def = this.policies.get(name);
    if (def?.policyType === "set-headers-outbound") {
      for (const h of (def.options.headers ?? []) as { name: string; value: string; overwrite?: boolean }[]) {
        const value = literal(h.value, `policy ${name}: header ${h.name}`);
        const header = literal(h.name, `policy ${name}: header name`);
        if (h.overwrite !== false) {
          parts.hideHeaders.push(`proxy_hide_header ${header};`);
          parts.addHeaders.push(`add_header ${header} ${value} always;`);
        } else {
          if (!NAME_OF_VAR.test(h.name)) return `set-headers ${name}: header ${h.name} without overwrite has characters nginx variables cannot name`;
          const v = this.fresh("hdr");
          const upstream = `$upstream_http_${h.name.toLowerCase().replace(/-/g, "_")}`;
          this.http.push(`map ${upstream} $${v} {\n  "" ${value};\n  default "";\n}`);
          parts.addHeaders.push(`add_header ${header} $${v} always;`);
        }
      }
      return undefined;
    }
    if (def?.policyType === "remove-headers-outbound") {
      for (const h of (def.options.headers ?? []) as string[]) parts.hideHeaders.push(`proxy_hide_header ${literal(h, `policy ${name}: header name`)};`);
      return undefined;
    }
    throw new ReleaseError("UNSUPPORTED", `${route.id}: policy ${name} cannot run as an outbound policy`);
  }

  /** Why nginx cannot serve this route's handler itself, or undefined when it can. */
  private handlerReason(route: Route, options: JsonObject): string | undefined {
    if (route.handler.export === "urlRewriteHandler") return "urlRewriteHandler builds the upstream URL per request";
    if (route.handler.export === "redirectHandler") return undefined;
    if (route.handler.export !== "urlForwardHandler") throw new ReleaseError("UNSUPPORTED", `${route.id}: handler ${route.handler.export} is not one the gateway implements`);
    if (options.followRedirects === true) return "followRedirects: nginx returns the upstream's redirect instead of following it";
    let base: URL;
    try {
      base = new URL(String(options.baseUrl));
    } catch {
      return "the baseUrl is not a URL nginx can proxy to";
    }
    if (base.protocol !== "http:" && base.protocol !== "https:") return "the baseUrl is not http(s)";
    if (!/^[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/.test(base.pathname)) return "the baseUrl path has characters nginx cannot write";
    return undefined;
  }

  private proxyToNode(route: Route, reason: string): string[] {
    this.shared.hybrid.push({ environment: this.env.name, route: route.id, reason });
    if (route.corsPolicy !== "none") this.nodePreflight.add(route.operation.method.toUpperCase());
    return nodeProxy(this.input);
  }

  /** Whether some location hands preflights to `@gw_node`: only then does the server carry it (every location costs nginx load time). */
  private usesNodeLocation = false;

  /** Methods of the location being rendered whose route, left to the Node gateway, has a CORS policy: their preflights go there too. */
  private nodePreflight = new Set<string>();
  /** Routes of the location being rendered that nginx serves itself (the others are counted by the Node gateway). */
  private servedHere: Route[] = [];

  private routeBody(route: Route, location: string): string[] {
    const missing = new Set<string>();
    const options = fillEnv(route.handler.options, this.env.release.vars, missing) as JsonObject;
    if (missing.size > 0) throw new ReleaseError("ENV_VARIABLE_MISSING", `environment ${this.env.name} does not set ${[...missing].map((n) => `$env(${n})`).join(", ")}`);
    const parts: RouteParts = { checks: [], directives: [], upstreamHeaders: new Map(), addHeaders: [], hideHeaders: [], zones: new Set() };
    const reason = this.handlerReason(route, options) ?? route.inbound.map((n) => this.inbound(n, route, parts)).find((r) => r !== undefined) ?? route.outbound.map((n) => this.outbound(n, route, parts)).find((r) => r !== undefined);
    if (reason) {
      // SECURITY: the Node gateway sees a proxied request coming from nginx's address, so a policy
      // judging the caller's address would judge nginx instead: such a route cannot be split.
      const byAddress = route.inbound.find((n) => {
        const p = this.policies.get(n);
        return p?.policyType === "ip-restriction-inbound" || (p?.policyType === "rate-limit-inbound" && p.options.rateLimitBy !== "all");
      });
      if (byAddress && this.input.nodeClientAddressHeader === undefined) throw new NginxRenderError(`${route.id} in environment ${this.env.name} needs the Node gateway (${reason}) and its policy ${byAddress} judges the caller's address, which the Node gateway behind nginx would see as nginx's unless it trusts nginx's word on it (nodeClientAddressHeader)`);
      return this.proxyToNode(route, reason);
    }
    this.servedHere.push(route);
    const cors = this.corsOf(route.corsPolicy);
    if (cors) {
      this.shared.preflight[location] ??= {};
      this.shared.preflight[location][route.operation.method.toUpperCase()] = cors.index;
    }
    const lines = [
      ...COMMON_HEADERS,
      "add_header WWW-Authenticate $gw_www always;",
      ...parts.addHeaders,
      ...parts.directives,
      // CORS headers go on every answer after the route is found, errors included, so a browser can read a 401 or 429.
      // Straight from the policy's maps (a route without CORS evaluates none); the error page, another
      // location, finds the same maps by the names in $gw_cors.
      ...(cors
        ? [
            `add_header Access-Control-Allow-Origin ${cors.origin} always;`,
            ...(cors.credentials !== '""' ? [`add_header Access-Control-Allow-Credentials ${cors.credentials} always;`] : []),
            ...(cors.expose !== '""' ? [`add_header Access-Control-Expose-Headers ${cors.expose} always;`] : []),
            `add_header Vary ${cors.vary} always;`,
            `set $gw_cors '${[cors.origin, cors.credentials, cors.expose, cors.vary].map((v) => (v === '""' ? "-" : v.slice(1))).join(" ")}';`,
          ]
        : []),
      ...parts.checks,
    ];
    if (route.handler.export === "redirectHandler") {
      const status = Number(options.status ?? 302);
      const target = String(options.location).replace(/[^\x21-\x7e]/gu, (c) => encodeURIComponent(c));
      lines.push(`return ${status} ${literal(target, `${route.id}: location`)};`);
      return lines;
    }
    return [...lines, ...this.forward(route, options, parts)];
  }

  private forward(route: Route, options: JsonObject, parts: RouteParts): string[] {
    const base = new URL(String(options.baseUrl));
    const u = this.upstream(base);
    const prefix = base.pathname.replace(/\/+$/, "");
    const timeouts = this.input.timeouts ?? DEFAULT_TIMEOUTS;
    const timeoutMs = typeof options.timeoutMs === "number" ? options.timeoutMs : undefined;
    const headers = new Map<string, string>([
      ["connection", '""'],
      ["host", literal(base.host, `${route.id}: baseUrl host`)],
      ["x-forwarded-for", "$proxy_add_x_forwarded_for"],
      ["x-forwarded-proto", "$scheme"],
      ["x-forwarded-host", "$http_host"],
      ["x-request-id", "$gw_request_id"],
      // Only the gateway says who the consumer is: a caller's own header is replaced or dropped.
      ["x-consumer-name", "$gw_consumer"],
    ]);
    for (const [k, v] of parts.upstreamHeaders) if (k !== "x-consumer-name" || v !== '""') headers.set(k, v);
    const lines = [
      `proxy_connect_timeout ${timeouts.connectMs}ms;`,
      `proxy_read_timeout ${timeoutMs ?? timeouts.headersMs}ms;`,
      `proxy_send_timeout ${timeoutMs ?? timeouts.bodyMs}ms;`,
      `proxy_http_version 1.1;`,
      ...[...headers].map(([k, v]) => `proxy_set_header ${literal(k, `${route.id}: header name`)} ${v};`),
      `proxy_hide_header X-Request-Id;`,
      ...parts.hideHeaders,
    ];
    if (base.protocol === "https:") lines.push(`proxy_ssl_server_name on;`, `proxy_ssl_name ${literal(base.hostname, `${route.id}: baseUrl host`)};`);
    // A rewritten URI is sent normalised and re-escaped, as the Node gateway sends its normalised path.
    lines.push(`rewrite ^ ${prefix.replace(/\$/g, "${gw_dollar}")}$uri${options.forwardSearch === false ? "?" : ""} break;`);
    lines.push(`proxy_pass ${base.protocol}//${u.name};`);
    return lines;
  }

  private location(group: PathGroup): string {
    const id = `${this.prefix}_l${this.locationCount++}`;
    const allowed = [...group.routes.keys()];
    const accepts = allowed.includes("GET") && !allowed.includes("HEAD") ? [...allowed, "HEAD"] : allowed;
    const allow = allowed.join(", ");
    const bodies = new Map<string, string[]>();
    this.nodePreflight = new Set();
    this.servedHere = [];
    for (const [method, route] of group.routes) bodies.set(method, this.routeBody(route, id));
    const usage = this.input.usageLog !== undefined && this.servedHere.length > 0;
    if (usage) {
      // The label comes from the config alone: a map read when the line is logged, keyed by this
      // location and the method, so nothing a caller sends can name another environment or route.
      for (const route of this.servedHere) {
        const method = route.operation.method.toUpperCase();
        const label = literal(`${this.env.name} ${route.id}`, `${route.id}: usage label`);
        this.shared.usage.push(`  ${regex(`${id} ${method}`)} ${label};`);
        if (method === "GET" && !group.routes.has("HEAD")) this.shared.usage.push(`  ${regex(`${id} HEAD`)} ${label};`);
      }
    }
    const preflight = Object.keys(this.shared.preflight[id] ?? {});
    if (preflight.includes("GET") && !allowed.includes("HEAD")) preflight.push("HEAD");
    const lines: string[] = usage ? [`set $gw_location ${id};`] : [];
    if (this.nodePreflight.size > 0) {
      const methods = [...this.nodePreflight];
      if (methods.includes("GET") && !allowed.includes("HEAD")) methods.push("HEAD");
      // A location with an error_page of its own inherits none of the server's: it repeats them.
      this.usesNodeLocation = true;
      lines.push(...ERROR_PAGES, "error_page 419 = @gw_node;", `if ($gw_preflight ~* ${regex(`^(${methods.join("|")})$`)}) {`, "  return 419;", "}");
    }
    if (preflight.length > 0) {
      // The preflight's table travels in a variable set only on a preflight, so ordinary requests carry none of it.
      const table = Object.fromEntries(Object.entries(this.shared.preflight[id]!).map(([m, i]) => [m, this.shared.cors[i]]));
      if (table.GET && !allowed.includes("HEAD")) table.HEAD = table.GET;
      lines.push(`if ($gw_preflight ~* ${regex(`^(${preflight.join("|")})$`)}) {`, `  set $gw_cors_table ${literal(JSON.stringify(table), "CORS policy")};`, "  return 418;", "}");
    }
    lines.push(
      `if ($request_method !~ ${regex(`^(${accepts.join("|")})$`)}) {`,
      `  set $gw_allow ${literal(allow, "methods")};`,
      `  return 405 ${problemBody(405, "method-not-allowed", "Method Not Allowed", `$request_method is not allowed here; use ${jsonText(allow)}`)};`,
      `}`,
    );
    const distinct = new Set([...bodies.values()].map((b) => b.join("\n")));
    if (distinct.size === 1) {
      lines.unshift(...bodies.values().next().value!.filter((l) => l.startsWith("error_page") || l.startsWith("add_header")));
      lines.push(...bodies.values().next().value!.filter((l) => !l.startsWith("error_page") && !l.startsWith("add_header")));
    } else {
      // Methods of one path with different handling: each goes to its own named location.
      lines.unshift(...ERROR_PAGES, "add_header X-Request-Id $gw_request_id always;");
      let code = 460;
      for (const [method, body] of bodies) {
        const name = `@${id}_${method.toLowerCase()}`;
        lines.unshift(`error_page ${code} = ${name};`);
        lines.push(`if ($request_method = ${method}) { return ${code}; }`);
        if (method === "GET" && !bodies.has("HEAD")) lines.push(`if ($request_method = HEAD) { return ${code}; }`);
        this.named.push(`location ${name} {\n${indent(["recursive_error_pages on;", ...body], 2)}\n}`);
        code++;
      }
    }
    lines.splice(lines.findIndex((l) => !l.startsWith("error_page") && !l.startsWith("add_header")), 0, "add_header Allow $gw_allow always;");
    const head = group.templated ? `location ~ ${regex("^" + group.segs.map((s) => "/" + (PARAM.test(s) ? "[^/]+" : escapeRegex(s))).join("") + "/?$")}` : undefined;
    const body = indent(lines, 2);
    if (head) return `${head} {\n${body}\n}`;
    const exact = "/" + group.segs.join("/");
    const variants = exact === "/" ? ["/"] : [exact, exact + "/"];
    // An exact location's normalised path is the location itself: proxy_pass with that URI sends it
    // (re-escaped, with the query) without a rewrite on every request. A `$` would make it a variable.
    const direct = (p: string) => body.replace(/^( *)rewrite \^ ([^$\s]*)\$uri break;\n( *)proxy_pass ([a-z]+:\/\/\w+);$/m, (m, _i, prefix: string, pad: string, to: string) => (p.includes("$") || prefix.includes("$") ? m : `${pad}proxy_pass ${to}${prefix}${p};`));
    return variants.map((p) => `location = ${p} {\n${direct(p)}\n}`).join("\n");
  }

  render(): string {
    const groups = new Map<string, PathGroup>();
    for (const route of this.env.release.config.routes) {
      const segs = segments(route.operation.path);
      const key = segs.map((s) => (PARAM.test(s) ? "{}" : s)).join("/");
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { template: route.operation.path, segs, templated: segs.some((s) => PARAM.test(s)), routes: new Map() }));
      g.routes.set(route.operation.method.toUpperCase(), route);
    }
    // A path nginx would match decoded (escapes, non-ASCII, braces inside a segment) gets no location:
    // nginx's fallback hands such requests to the Node gateway, which matches them as it always does.
    const plain = (g: PathGroup) => g.segs.every((s) => PARAM.test(s) || PLAIN_SEGMENT.test(s));
    for (const g of groups.values()) if (!plain(g)) for (const route of g.routes.values()) this.shared.hybrid.push({ environment: this.env.name, route: route.id, reason: "the path has characters nginx decodes before matching" });
    const ordered = [...groups.values()].filter(plain).sort((a, b) => matchOrder(a.segs, b.segs));
    const locations = ordered.map((g) => this.location(g));
    // A server whose every path nginx matches itself answers an unknown path from njs, and the
    // error pages' URI falls into that same location: one location fewer per server, which is what
    // nginx's load time of a thousand environments is made of.
    const toNode = ordered.length < groups.size;
    const fallback = toNode ? nodeProxy(this.input) : ["js_content gitway.fallback;"];
    const server = [
      `listen ${listenAddress(this.input)};`,
      `server_name ${literal(this.env.host.toLowerCase(), `environment ${this.env.name}: host`)};`,
      ...ERROR_PAGES,
      ...(toNode ? SERVER_ERRORS : []),
      ...(this.usesNodeLocation ? [`location @gw_node {\n${indent(nodeProxy(this.input), 2)}\n}`] : []),
      ...locations,
      ...this.named,
      `location / {\n${indent(fallback, 2)}\n}`,
    ];
    return [`# environment ${this.env.name.replace(/[^\w.-]/g, "?")}`, ...this.http, `server {\n${indent(server, 2)}\n}`, ""].join("\n");
  }
}

/**
 * With the nginx engine the access log is the usage source: a call is logged only when its location
 * and method are in the usage map, i.e. routes nginx serves itself; a hybrid route is counted by the
 * Node gateway behind nginx, not twice. Lines collect in a worker's buffer and reach the file in one
 * write per 64 KiB or per second (a syslog line per call cost nginx a sendto per request).
 * escape=json keeps a consumer name from breaking the line apart.
 */
function usageLog(path: string | undefined, entries: string[]): string[] {
  if (path === undefined) return [];
  // A `$` would make nginx open the file per request (a variable path) and give up buffering.
  if (!/^\/[A-Za-z0-9._/-]+$/.test(path)) throw new NginxRenderError(`usage log path ${JSON.stringify(path)} is not an absolute path of letters, digits, dots, dashes, underscores and slashes`);
  return [
    'map "$gw_location $request_method" $gw_usage {',
    '  default "";',
    ...entries,
    "}",
    `log_format gitway_usage escape=json '{"u":"$gw_usage","c":"$gw_consumer","s":"$status"}';`,
    `access_log ${path} gitway_usage buffer=64k flush=1s if=$gw_usage;`,
  ];
}

function workers(n: number | undefined): string {
  if (n === undefined) return "auto";
  if (!Number.isInteger(n) || n < 1) throw new NginxRenderError(`workerProcesses ${n} is not a whole number >= 1`);
  return String(n);
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
  if (!/^https?:\/\/[A-Za-z0-9.:[\]-]+\/?$/.test(input.nodeGatewayUrl)) throw new NginxRenderError(`nodeGatewayUrl ${JSON.stringify(input.nodeGatewayUrl)} is not an http(s) origin such as http://127.0.0.1:8787`);
  const shared: Shared = { keyExtractors: new Map(), http: [], corsByContent: new Map(), mapCount: 0, zones: new Set(), preflight: {}, cors: [], hybrid: [], usage: [] };
  const files: Record<string, string> = {};
  const includes: string[] = [];
  const hosts = new Set<string>();
  input.environments.forEach((env, i) => {
    const host = env.host.toLowerCase();
    if (!/^[a-z0-9.-]+$/.test(host)) throw new NginxRenderError(`environment ${env.name}: host ${JSON.stringify(env.host)} is not a host name`);
    if (hosts.has(host)) throw new NginxRenderError(`two environments are served at ${host}`);
    hosts.add(host);
    const file = `environments/e${i}.conf`;
    files[file] = new EnvironmentRenderer(i, env, input, shared).render();
    includes.push(`include ${file};`);
  });
  const keyExtractors = [...shared.keyExtractors.values()];
  files["gitway.js"] = njsScript({ keyExtractors, maxBodyBytes: input.maxBodyBytes ?? DEFAULT_BODY_LIMITS.maxBodyBytes });
  const maxBody = input.maxBodyBytes ?? DEFAULT_BODY_LIMITS.maxBodyBytes;
  files["nginx.conf"] = [
    "# Rendered by Gitway (src/nginx/render.ts); do not edit: the next release overwrites it.",
    `load_module ${input.jsModulePath ?? DEFAULT_JS_MODULE};`,
    `worker_processes ${workers(input.workerProcesses)};`,
    // Every request runs a few regular expressions (method checks, the key's header, the request id):
    // compiled to machine code they measured about 3,000 instructions (4 %) less per api-key request.
    "pcre_jit on;",
    "events {",
    "  worker_connections 4096;",
    "}",
    "http {",
    indent(
      [
        "js_import gitway from gitway.js;",
        // Temporary files under the prefix nginx runs with (-p), not Debian's /var/lib/nginx.
        ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `${t}_temp_path ${t}_temp;`),
        "js_set $gw_path gitway.pathJson;",
        ...keyExtractors.map((k) => `js_set $gw_${k.fn} gitway.${k.fn};`),
        "js_set $gw_basic gitway.basicHash;",
        "default_type application/problem+json;",
        "server_tokens off;",
        ...(input.usageLog === undefined ? ["access_log off;"] : []),
        "uninitialized_variable_warn off;",
        "map_hash_bucket_size 128;",
        "map_hash_max_size 65536;",
        // Every environment adds variables (maps) and a server name: the hashes grow with them.
        "variables_hash_max_size 2048;",
        "variables_hash_bucket_size 512;",
        "server_names_hash_max_size 2048;",
        "server_names_hash_bucket_size 512;",
        `client_max_body_size ${maxBody};`,
        "client_header_timeout 10s;",
        "client_body_timeout 30s;",
        "large_client_header_buffers 4 16k;",
        "keepalive_timeout 5s;",
        "limit_req_status 429;",
        "limit_req_log_level warn;",
        // `$` cannot be escaped in an nginx string; literals use this variable instead.
        'geo $gw_dollar { default "$"; }',
        // The caller's request id when it is a safe token (as the Node gateway keeps it), else one made
        // as the Node gateway makes its own: process, connection and sequence (nginx's random $request_id
        // costs a call into OpenSSL's RNG on every request).
        'map $http_x_request_id $gw_request_id { "~^[\\w.-]{1,64}$" $http_x_request_id; default "$pid-$msec-$connection-$connection_requests"; }',
        // The method a CORS preflight asks about (an OPTIONS with Origin and Access-Control-Request-Method), else "".
        // Only an OPTIONS request pays for the regular expression.
        'map $request_method $gw_preflight { OPTIONS $gw_preflight_method; default ""; }',
        'map "$http_origin|$http_access_control_request_method" $gw_preflight_method { "~^.+\\|([^|]+)$" $1; default ""; }',
        // rateLimitBy "user": the consumer when one authenticated, else the caller's address.
        'map $gw_consumer $gw_consumer_or_ip { "" "ip:$remote_addr"; default "u:$gw_consumer"; }',
        // The key as the scheme prefix and blanks leave it ("" when the header is absent or has another scheme).
        ...keyExtractors.filter((k) => k.variable).map((k) => `map $http_${k.header.replace(/-/g, "_")} $${k.variable} { ${regex(`~*^${k.scheme ? escapeRegex(k.scheme) + " " : ""}\\s*(?<k>.*?)\\s*$`)} $k; default ""; }`),
        "server {",
        `  listen ${listenAddress(input)} default_server;`,
        "  server_name _;",
        "  location @gw_declare {",
        ...DECLARED_VARIABLES.map((l) => "    " + l),
        "    return 404;",
        "  }",
        ...ERROR_PAGES.map((l) => "  " + l),
        ...SERVER_ERRORS.map((l) => "  " + l),
        "  location / {",
        ...(input.otherHostsToNode
          ? nodeProxy(input).map((l) => "    " + l)
          : ["    add_header X-Request-Id $gw_request_id always;", `    return 404 ${problemBody(404, "environment-not-found", "Not Found", "No environment is served at this host name", "/")};`]),
        "  }",
        "}",
        ...shared.http.flatMap((block) => block.split("\n")),
        // After map_hash_bucket_size: nginx fixes the map hash sizes at the first map.
        ...usageLog(input.usageLog, shared.usage),
        ...includes,
      ],
      2,
    ),
    "}",
    "",
  ].join("\n");
  return { files, hybridRoutes: shared.hybrid };
}
