/** What `npm start` reads from its environment, checked once at start: one line names what is wrong. */
import { AllowListError, parseAllowList, type HostRule } from "../gateway/egress.js";

export class SettingsError extends Error {
  readonly code = "SETTINGS_INVALID";
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(`${setting}: ${message}`);
    this.name = "SettingsError";
  }
}

export interface GitHubAppSettings {
  appId: number;
  /** PRIVATE_KEY (PEM, or base64 of it) or the file PRIVATE_KEY_PATH names; read by Probot. */
  privateKeySource: "PRIVATE_KEY" | "PRIVATE_KEY_PATH";
  webhookSecret: string;
  /** The API root: https://api.github.com, or <GHE_PROTOCOL>://<GHE_HOST>/api/v3. */
  baseUrl: string;
  webhookPath: string;
}

/**
 * GITWAY_ROLE: what one process runs. `all` (the default) runs everything; `app` runs the webhook
 * endpoint, the admin API, the dashboard, the job worker and the pollers and deploys into the
 * store without serving the gateway port; `gateway` only serves, from PostgreSQL, what app
 * processes deployed: no webhook endpoint, no jobs, no polling.
 */
export type Role = "all" | "app" | "gateway";
export const ROLES: readonly Role[] = ["all", "app", "gateway"];

export interface AppSettings {
  role: Role;
  host: string;
  port: number;
  gatewayHost: string;
  gatewayPort: number;
  baseDomain: string;
  /** GATEWAY_BASE_DOMAIN was not set: it follows the gateway's port (the one bound, when GATEWAY_PORT is 0). */
  baseDomainFollowsPort: boolean;
  /** Scheme and port that preview URLs show. */
  publicUrl: URL;
  databaseUrl: string | undefined;
  dataDir: string;
  secretKey: string | undefined;
  redisUrl: string | undefined;
  logLevel: "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent";
  github: GitHubAppSettings | undefined;
  /** The catch-up sweep of the GitHub App: compare open pull requests and branch heads with what is deployed; 0 turns it off. */
  reconcileSeconds: number;
  previewTtlHours: number;
  maxFileBytes: number;
  /** What one commit's config may hold and how long its read may take (GitHub App and Git mode alike). */
  readLimits: { maxFiles: number; maxTotalBytes: number; timeoutMs: number };
  maxBodyBytes: number;
  /** Git mode: comma-separated remotes (URLs or paths) whose branches are environments. */
  gitRepos: string | undefined;
  /** Git mode: a YAML file with per-source settings. */
  sourcesFile: string | undefined;
  pollSeconds: number;
  /** With neither the GitHub App nor Git sources set: serve the bundled example. */
  example: boolean;
  /** The admin token; unset: generated into the data folder at first start. */
  adminToken: string | undefined;
  /** Whether the dashboard and the read API may be read without signing in. */
  dashboardPublic: boolean;
  /** Gateway processes sharing GATEWAY_PORT (1: the app process serves it itself). */
  gatewayWorkers: number;
  /** Jobs one app process runs at once (never two of one environment). */
  workerConcurrency: number;
  /** The longest one GitHub request may take, each retry included, before it is abandoned. */
  githubTimeoutSeconds: number;
  /** GitHub writes of one installation that may go back to back before the pace of one a second applies. */
  githubWriteBurst: number;
  /** A job's deadline: its signal fires, its open checks are completed with the reason, it is retried. */
  jobTimeoutSeconds: number;
  /** Finished jobs, webhook deliveries and check results older than this are deleted; 0 keeps them. */
  retentionDays: number;
  /** Hourly usage counts (calls per operation and consumer) older than this many days are deleted. */
  usageDays: number;
  /** GITWAY_UPSTREAM_ALLOW: hosts, `*.suffix` patterns and CIDRs a preview may reach beyond public addresses. */
  upstreamAllow: HostRule[];
  /** APP_PUBLIC_URL: where GitHub reaches the app port; the Connect GitHub page's default. */
  appPublicUrl: URL | undefined;
  /** GATEWAY_ENGINE: what serves stages and production on GATEWAY_PORT, the Node gateway or nginx. */
  gatewayEngine: GatewayEngine;
  /** GATEWAY_PREVIEW_ENGINE: what serves previews (the Node gateway unless nginx is asked for). */
  previewEngine: GatewayEngine;
  /** With nginx: its binary, its folder (prefix) and the Node gateway's own loopback port (0: any free one). */
  nginx: { bin: string; configDir: string | undefined; nodeGatewayPort: number };
}

export type GatewayEngine = "node" | "nginx";

function engine(env: Env, name: string): GatewayEngine {
  const raw = env[name] || "node";
  if (raw !== "node" && raw !== "nginx") throw new SettingsError(name, `must be node or nginx, not "${raw}"`);
  return raw;
}

type Env = Record<string, string | undefined>;

function port(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n > 65_535) throw new SettingsError(name, `must be a port number from 0 to 65535, not "${raw}"`);
  return n;
}

function positive(env: Env, name: string, fallback: number, allowZero = false): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) throw new SettingsError(name, `must be a ${allowZero ? "non-negative" : "positive"} number, not "${raw}"`);
  return n;
}

function wholePositive(env: Env, name: string, fallback: number): number {
  const n = positive(env, name, fallback);
  if (!Number.isInteger(n)) throw new SettingsError(name, `must be a whole number, not "${env[name]}"`);
  return n;
}

const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;

/** Reads and checks every setting; throws SettingsError naming the first one that is wrong. */
export function readAppSettings(env: Env): AppSettings {
  const gatewayPort = port(env, "GATEWAY_PORT", 8787);
  const baseDomain = (env.GATEWAY_BASE_DOMAIN || `localhost:${gatewayPort}`).toLowerCase();
  if (!/^[a-z0-9.-]+(:\d+)?$/.test(baseDomain)) throw new SettingsError("GATEWAY_BASE_DOMAIN", `must be a host name, optionally with a port (like localhost:8787), not "${baseDomain}"`);
  let publicUrl: URL;
  try {
    publicUrl = new URL(env.GATEWAY_PUBLIC_URL || `http://${baseDomain}`);
  } catch {
    throw new SettingsError("GATEWAY_PUBLIC_URL", `must be a URL like https://gateway.example.com, not "${env.GATEWAY_PUBLIC_URL}"`);
  }
  if (publicUrl.protocol !== "http:" && publicUrl.protocol !== "https:") throw new SettingsError("GATEWAY_PUBLIC_URL", "must start with http:// or https://");
  const logLevel = (env.LOG_LEVEL || "info") as AppSettings["logLevel"];
  if (!LOG_LEVELS.includes(logLevel)) throw new SettingsError("LOG_LEVEL", `must be one of ${LOG_LEVELS.join(", ")}`);
  if (env.DATABASE_URL && !/^postgres(ql)?:\/\//.test(env.DATABASE_URL)) throw new SettingsError("DATABASE_URL", "must be a postgres:// URL");
  if (env.REDIS_URL && !/^rediss?:\/\//.test(env.REDIS_URL)) throw new SettingsError("REDIS_URL", "must be a redis:// URL");
  const github = githubSettings(env);
  const role = (env.GITWAY_ROLE || "all") as Role;
  if (!ROLES.includes(role)) throw new SettingsError("GITWAY_ROLE", `must be one of ${ROLES.join(", ")}, not "${env.GITWAY_ROLE}"`);
  if (role === "gateway") {
    if (!env.DATABASE_URL) throw new SettingsError("GITWAY_ROLE", "gateway serves what app processes deploy into PostgreSQL: set DATABASE_URL");
    // What only an app process acts on is refused, so a gateway's settings never promise webhooks or polling.
    for (const name of ["APP_ID", "GITWAY_REPOS", "GITWAY_SOURCES_FILE"]) if (env[name]) throw new SettingsError(name, "is read by app processes only; a GITWAY_ROLE=gateway process neither takes webhooks nor polls");
  }
  if (env.GITWAY_ADMIN_TOKEN !== undefined && env.GITWAY_ADMIN_TOKEN.length < 16) throw new SettingsError("GITWAY_ADMIN_TOKEN", "must be at least 16 characters (openssl rand -base64 24)");
  if (env.GITWAY_DASHBOARD_PUBLIC && !["true", "false"].includes(env.GITWAY_DASHBOARD_PUBLIC)) throw new SettingsError("GITWAY_DASHBOARD_PUBLIC", "must be true or false");
  const gatewayWorkers = positive(env, "GATEWAY_WORKERS", 1);
  if (!Number.isInteger(gatewayWorkers) || gatewayWorkers > 64) throw new SettingsError("GATEWAY_WORKERS", "must be a whole number from 1 to 64");
  if (role === "app" && !env.DATABASE_URL) throw new SettingsError("GITWAY_ROLE", "app deploys into PostgreSQL for GITWAY_ROLE=gateway processes to serve: set DATABASE_URL (with PGlite, nothing else could serve what it deploys)");
  if (gatewayWorkers > 1 && role === "app") throw new SettingsError("GATEWAY_WORKERS", "a GITWAY_ROLE=app process serves no gateway: set GATEWAY_WORKERS on the gateway processes");
  if (gatewayWorkers > 1 && !env.DATABASE_URL) throw new SettingsError("GATEWAY_WORKERS", "more than one gateway process needs DATABASE_URL: PGlite is one process's database");
  if (gatewayWorkers > 1 && gatewayPortIsZero(env)) throw new SettingsError("GATEWAY_PORT", "with GATEWAY_WORKERS, choose the port (0 would give each process its own)");
  const gatewayEngine = engine(env, "GATEWAY_ENGINE");
  const previewEngine = engine(env, "GATEWAY_PREVIEW_ENGINE");
  if (previewEngine === "nginx" && gatewayEngine !== "nginx") throw new SettingsError("GATEWAY_PREVIEW_ENGINE", "nginx for previews needs GATEWAY_ENGINE=nginx too (nginx is in front of the gateway port)");
  // A preview serves what a pull request wrote: its upstreams must pass the egress rules, which the
  // Node gateway checks on every new connection and nginx (resolving names when it loads) cannot.
  if (previewEngine === "nginx") throw new SettingsError("GATEWAY_PREVIEW_ENGINE", `previews stay on the Node gateway: nginx cannot hold a preview to the egress rules (GITWAY_UPSTREAM_ALLOW) for the upstreams a pull request names`);
  if (gatewayEngine === "nginx" && gatewayWorkers > 1) throw new SettingsError("GATEWAY_WORKERS", "with GATEWAY_ENGINE=nginx, nginx's worker processes serve the gateway port; leave GATEWAY_WORKERS at 1");
  if (gatewayEngine === "nginx" && role !== "all") throw new SettingsError("GATEWAY_ENGINE", "nginx runs inside a process with every role (GITWAY_ROLE=all); with split roles, run `gitway gateway-agent` beside the gateway processes");
  if (gatewayEngine === "nginx" && gatewayPortIsZero(env)) throw new SettingsError("GATEWAY_PORT", "with GATEWAY_ENGINE=nginx, choose the port (nginx cannot tell which one 0 gave it)");
  if (gatewayEngine === "node") for (const name of ["NGINX_BIN", "NGINX_CONFIG_DIR", "GATEWAY_NODE_PORT"]) if (env[name]) throw new SettingsError(name, "is only read with GATEWAY_ENGINE=nginx");
  const workerConcurrency = positive(env, "GITWAY_WORKER_CONCURRENCY", 4);
  if (!Number.isInteger(workerConcurrency) || workerConcurrency > 64) throw new SettingsError("GITWAY_WORKER_CONCURRENCY", "must be a whole number from 1 to 64");
  // Over a minute an installation sends at most burst + 60 writes; above 20 that passes GitHub's 80 content-creating requests a minute.
  const githubWriteBurst = positive(env, "GITWAY_GITHUB_WRITE_BURST", 20);
  if (!Number.isInteger(githubWriteBurst) || githubWriteBurst > 20) throw new SettingsError("GITWAY_GITHUB_WRITE_BURST", "must be a whole number from 1 to 20 (with the refill of one a second, 20 keeps an installation within GitHub's 80 content-creating requests a minute)");
  return {
    role,
    host: env.HOST || "127.0.0.1",
    port: port(env, "PORT", 3000),
    gatewayHost: env.GATEWAY_HOST || env.HOST || "127.0.0.1",
    gatewayPort,
    baseDomain,
    baseDomainFollowsPort: !env.GATEWAY_BASE_DOMAIN && !env.GATEWAY_PUBLIC_URL,
    publicUrl,
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: env.GITWAY_DATA_DIR || "./data",
    secretKey: env.GITWAY_SECRET_KEY || undefined,
    redisUrl: env.REDIS_URL || undefined,
    logLevel,
    github,
    reconcileSeconds: positive(env, "GITWAY_RECONCILE_SECONDS", 300, true),
    previewTtlHours: positive(env, "GITWAY_PREVIEW_TTL_HOURS", 0, true),
    maxFileBytes: positive(env, "GITWAY_MAX_FILE_BYTES", 32 * 1024 * 1024),
    readLimits: {
      maxFiles: wholePositive(env, "GITWAY_MAX_CONFIG_FILES", 500),
      maxTotalBytes: wholePositive(env, "GITWAY_MAX_CONFIG_BYTES", 64 * 1024 * 1024),
      timeoutMs: positive(env, "GITWAY_READ_TIMEOUT_SECONDS", 60) * 1000,
    },
    maxBodyBytes: 10 * 1024 * 1024,
    gitRepos: env.GITWAY_REPOS || undefined,
    sourcesFile: env.GITWAY_SOURCES_FILE || undefined,
    pollSeconds: positive(env, "GITWAY_POLL_SECONDS", 15),
    example: role !== "gateway" && !github && !env.GITWAY_REPOS && !env.GITWAY_SOURCES_FILE,
    adminToken: env.GITWAY_ADMIN_TOKEN || undefined,
    dashboardPublic: env.GITWAY_DASHBOARD_PUBLIC !== "false",
    gatewayWorkers,
    workerConcurrency,
    githubTimeoutSeconds: positive(env, "GITWAY_GITHUB_TIMEOUT_SECONDS", 30),
    githubWriteBurst,
    jobTimeoutSeconds: positive(env, "GITWAY_JOB_TIMEOUT_SECONDS", 300),
    retentionDays: positive(env, "GITWAY_RETENTION_DAYS", 30, true),
    usageDays: wholePositive(env, "GITWAY_USAGE_DAYS", 90),
    upstreamAllow: allowList(env.GITWAY_UPSTREAM_ALLOW),
    appPublicUrl: appPublicUrl(env),
    gatewayEngine,
    previewEngine,
    nginx: { bin: env.NGINX_BIN || "/usr/sbin/nginx", configDir: env.NGINX_CONFIG_DIR || undefined, nodeGatewayPort: port(env, "GATEWAY_NODE_PORT", 0) },
  };
}

function appPublicUrl(env: Env): URL | undefined {
  if (!env.APP_PUBLIC_URL) return undefined;
  let url: URL;
  try {
    url = new URL(env.APP_PUBLIC_URL);
  } catch {
    throw new SettingsError("APP_PUBLIC_URL", `must be a URL like https://gitway.example.com, not "${env.APP_PUBLIC_URL}"`);
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.search || url.hash) throw new SettingsError("APP_PUBLIC_URL", "must be an http:// or https:// URL without a query");
  return url;
}

function allowList(text: string | undefined): HostRule[] {
  try {
    return parseAllowList(text);
  } catch (e) {
    if (e instanceof AllowListError) throw new SettingsError("GITWAY_UPSTREAM_ALLOW", e.message);
    throw e;
  }
}

const gatewayPortIsZero = (env: Env) => env.GATEWAY_PORT === "0";

/** GitHub App mode is on when APP_ID is set; then the key and the webhook secret must be too. */
function githubSettings(env: Env): GitHubAppSettings | undefined {
  if (!env.APP_ID) {
    for (const name of ["PRIVATE_KEY", "PRIVATE_KEY_PATH", "WEBHOOK_SECRET", "GHE_HOST"]) {
      if (env[name]) throw new SettingsError("APP_ID", `is not set, but ${name} is: set APP_ID to the GitHub App's id to run the GitHub App`);
    }
    return undefined;
  }
  if (!/^\d+$/.test(env.APP_ID)) throw new SettingsError("APP_ID", `must be the GitHub App's numeric id, not "${env.APP_ID}"`);
  if (!env.PRIVATE_KEY && !env.PRIVATE_KEY_PATH) throw new SettingsError("PRIVATE_KEY", "is not set: give the App's private key as PRIVATE_KEY (PEM text) or PRIVATE_KEY_PATH (the .pem file)");
  if (!env.WEBHOOK_SECRET) throw new SettingsError("WEBHOOK_SECRET", "is not set: it must match the webhook secret of the GitHub App");
  const protocol = env.GHE_PROTOCOL || "https";
  if (protocol !== "http" && protocol !== "https") throw new SettingsError("GHE_PROTOCOL", `must be http or https, not "${protocol}"`);
  if (env.GHE_HOST && !/^[A-Za-z0-9.-]+(:\d+)?$/.test(env.GHE_HOST)) throw new SettingsError("GHE_HOST", `must be a host name (like github.example.com), not "${env.GHE_HOST}"`);
  return {
    appId: Number(env.APP_ID),
    privateKeySource: env.PRIVATE_KEY ? "PRIVATE_KEY" : "PRIVATE_KEY_PATH",
    webhookSecret: env.WEBHOOK_SECRET,
    baseUrl: env.GHE_HOST ? `${protocol}://${env.GHE_HOST}/api/v3` : "https://api.github.com",
    webhookPath: "/api/github/webhooks",
  };
}

/** The URL a person opens for an environment: the public scheme and port, the label under the base domain. */
export function environmentUrl(settings: Pick<AppSettings, "publicUrl" | "baseDomain">, label: string): string {
  const host = settings.baseDomain.replace(/:\d+$/, "");
  const port = settings.publicUrl.port || /:(\d+)$/.exec(settings.baseDomain)?.[1];
  const defaultPort = settings.publicUrl.protocol === "https:" ? "443" : "80";
  return `${settings.publicUrl.protocol}//${label}.${host}${port && port !== defaultPort ? `:${port}` : ""}/`;
}
