#!/usr/bin/env node
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { isIP } from "node:net";
import { fileURLToPath } from "node:url";
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { ConfigReadError, DEFAULT_LIMITS, type ConfigReadLimits, hasErrors, parseEnvFile, readConfig, sortDiagnostics, type ConfigResult, type Diagnostic } from "./config/index.js";
import { checkDiffSettings, diffConfigs } from "./diff/index.js";
import { isRevision, readPathSnapshot, readRevisionSnapshot, SnapshotReadError } from "./git/index.js";
import type { RateLimitStore } from "./gateway/index.js";
import { formatDiagnosticLine, renderChangesMarkdown, renderChangesText, summarizeDiagnostics } from "./report/index.js";
import { OperatorError, registerOperatorCommands } from "./operator-cli.js";

/** Exit codes: 0 fine, 1 the config has errors, 2 the command could not run (usage, unreadable input). */
const EXIT_USAGE = 2;

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError("must be a positive whole number");
  return n;
}

function defaultMaxFileBytes(): number {
  const fromEnv = process.env.GITWAY_MAX_FILE_BYTES;
  return fromEnv && /^\d+$/.test(fromEnv) ? Number(fromEnv) : DEFAULT_LIMITS.maxFileBytes;
}

/** The installed package's version (package.json sits one folder above both src/ and dist/). */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

export function buildCli(): Command {
  const program = new Command("gitway")
    .description("GitOps for API gateways: validate, diff and serve gateway config kept in Git")
    .version(packageVersion(), "-v, --version", "print the version")
    .helpCommand("help [command]", "show help for a command")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command("validate")
    .description("Validate a repository's gateway config (a directory, or one OpenAPI file) and print every problem at file:line:column")
    .argument("[path]", "repository directory or OpenAPI file", ".")
    .option("--format <format>", "text or json", "text")
    .option("--max-file-bytes <n>", "files larger than this get one diagnostic and are not parsed", positiveInt, defaultMaxFileBytes())
    .option("--engine <engine>", "node, or nginx: also say which routes nginx hands to the Node gateway (GATEWAY_ENGINE=nginx)", "node")
    .action(async (path: string, opts: { format: string; maxFileBytes: number; engine: string }) => {
      if (opts.format !== "text" && opts.format !== "json") throw new CommanderError(EXIT_USAGE, "gitway.usage", `error: --format must be text or json, not "${opts.format}"`);
      if (opts.engine !== "node" && opts.engine !== "nginx") throw new CommanderError(EXIT_USAGE, "gitway.usage", `error: --engine must be node or nginx, not "${opts.engine}"`);
      const read = await readPathConfig(path, opts.maxFileBytes);
      const { openapi } = read;
      // diff.severity names change rules, which the diff stage knows: an unknown one is an error here too.
      const diagnostics = read.config ? sortDiagnostics([...read.diagnostics, ...checkDiffSettings(read.config)]) : read.diagnostics;
      // The renderer loads only when asked: plain validate stays as fast as before.
      const nginx = opts.engine === "nginx" && read.config && !hasErrors(diagnostics) ? (await import("./nginx/engine-plan.js")).planNginxEngine(read.config) : undefined;
      if (opts.format === "json") {
        process.stdout.write(JSON.stringify({ diagnostics, ...(nginx ? { nginx } : {}) }, null, 2) + "\n");
      } else {
        const prefix = openapi ? "" : path === "." ? "" : path.replace(/\/+$/, "") + "/";
        const dir = openapi ? path.slice(0, path.length - openapi.length) : prefix;
        for (const d of diagnostics) process.stdout.write(formatDiagnosticLine(d, dir) + "\n");
        if (nginx && !nginx.ok) process.stdout.write(`nginx: cannot serve this config: ${nginx.reason}\n`);
        if (nginx?.ok) {
          for (const h of nginx.hybridRoutes) process.stdout.write(`nginx: ${h.route} goes to the Node gateway behind nginx: ${h.reason}\n`);
        }
        process.stderr.write(`${summarizeDiagnostics(diagnostics)}\n`);
        if (nginx?.ok) process.stderr.write(nginx.hybridRoutes.length === 0 ? "nginx serves every route itself\n" : `nginx hands ${nginx.hybridRoutes.length} route${nginx.hybridRoutes.length === 1 ? "" : "s"} to the Node gateway\n`);
      }
      process.exitCode = hasErrors(diagnostics) || (nginx !== undefined && !nginx.ok) ? 1 : 0;
    });

  program
    .command("diff")
    .description("Report what changes from <base> to <head>: breaking and other contract changes, security, rate limits, CORS, upstreams")
    .argument("<base>", "a directory, an OpenAPI file, or a Git revision of the repository here (main, HEAD~1, a SHA)")
    .argument("<head>", "the same kinds as <base>")
    .option("--format <format>", "text, json or markdown", "text")
    .option("--fail-on <level>", "exit 1 when a change of this level or worse exists: breaking, warning or none", "breaking")
    .option("--max-file-bytes <n>", "files larger than this are not parsed", positiveInt, defaultMaxFileBytes())
    .action(async (basePath: string, headPath: string, opts: { format: string; failOn: string; maxFileBytes: number }) => {
      if (!["text", "json", "markdown"].includes(opts.format)) throw new CommanderError(EXIT_USAGE, "gitway.usage", `error: --format must be text, json or markdown, not "${opts.format}"`);
      if (!["breaking", "warning", "none"].includes(opts.failOn)) throw new CommanderError(EXIT_USAGE, "gitway.usage", `error: --fail-on must be breaking, warning or none, not "${opts.failOn}"`);
      const base = await readSide(basePath, opts.maxFileBytes);
      const head = await readSide(headPath, opts.maxFileBytes);
      const unreadable = [...fatal(base, "base"), ...fatal(head, "head")];
      if (unreadable.length > 0 || !base.config || !head.config) {
        for (const line of unreadable) process.stderr.write(line + "\n");
        process.stderr.write("gitway: cannot diff: fix the problems above (gitway validate shows all of them)\n");
        process.exitCode = EXIT_USAGE;
        return;
      }
      // The head's settings decide levels and accepted changes: a settings file that cannot be
      // read as written would silently change the verdict, so the diff stops instead.
      const settingsProblems = [...head.diagnostics.filter((d) => d.rule === "settings-invalid"), ...checkDiffSettings(head.config)];
      if (settingsProblems.length > 0) {
        for (const d of settingsProblems) process.stderr.write(formatDiagnosticLine(d, "head: ") + "\n");
        process.stderr.write("gitway: cannot diff: fix .github/gitway.yml (the problems above)\n");
        process.exitCode = EXIT_USAGE;
        return;
      }
      for (const [name, side] of [["base", base], ["head", head]] as const) {
        const errors = side.diagnostics.filter((d) => d.severity === "error").length;
        if (errors > 0) process.stderr.write(`note: ${name} has ${errors} validation error${errors === 1 ? "" : "s"}; run gitway validate to see them\n`);
      }
      const report = diffConfigs(base.config, head.config);
      if (opts.format === "json") process.stdout.write(JSON.stringify(report, null, 2) + "\n");
      else if (opts.format === "markdown") process.stdout.write(renderChangesMarkdown(report, { base: basePath, head: headPath }));
      else process.stdout.write(renderChangesText(report));
      const s = report.summary;
      process.exitCode = (opts.failOn === "breaking" && s.breaking > 0) || (opts.failOn === "warning" && s.breaking + s.warning > 0) ? 1 : 0;
    });

  program
    .command("serve")
    .description("Serve one config as the environment `local`, so you can curl it: $env(NAME) values come only from --env-file and --env")
    .argument("[path]", "repository directory or OpenAPI file", ".")
    .option("--port <port>", "port to listen on (0 picks a free one)", port, 8787)
    .option("--host <host>", "address to listen on (an IP address or a host name)", host, "127.0.0.1")
    .option("--consumers <file>", 'API consumers: [{"name": "...", "keys": ["..."]}]')
    .option("--env-file <file>", "values for $env(NAME): NAME=value lines (repeatable; later files win)", collect, [])
    .option("--env <name>", "pass this one variable of the shell's environment to $env(NAME) (repeatable)", envName, [])
    .option("--quiet", "no access log")
    .option("--max-file-bytes <n>", "files larger than this are not parsed", positiveInt, defaultMaxFileBytes())
    .action(async (path: string, opts: { port: number; host: string; consumers?: string; quiet?: boolean; maxFileBytes: number; envFile: string[]; env: string[] }) => {
      // Read before the config so a bad flag is a usage error whatever the config says.
      const vars = serveVars(opts.envFile, opts.env);
      const { config, diagnostics } = await readPathConfig(path, opts.maxFileBytes);
      if (!config || hasErrors(diagnostics)) {
        for (const d of diagnostics.filter((x) => x.severity === "error")) process.stderr.write(formatDiagnosticLine(d) + "\n");
        process.stderr.write("gitway: the config has errors; nothing is served\n");
        process.exitCode = 1;
        return;
      }
      // The gateway runtime (and its HTTP client) loads only for serve: validate and diff start faster without it.
      const { compileRelease, DEFAULT_BODY_LIMITS, GatewayServer, hashKey, ReleaseError, Upstreams } = await import("./gateway/index.js");
      const consumers = opts.consumers ? readConsumers(opts.consumers, hashKey) : [];
      const store = await rateLimitStore();
      const upstreams = new Upstreams();
      const log = (level: string, message: string) => process.stderr.write(`${level}: ${message}\n`);
      let release;
      try {
        release = compileRelease(config, { name: "local", vars, consumers }, { upstreams, rateLimitStore: store, log, ...DEFAULT_BODY_LIMITS });
      } catch (e) {
        if (e instanceof ReleaseError) {
          const hint = e.code === "ENV_VARIABLE_MISSING" ? "; give each with --env-file FILE (NAME=value lines) or --env NAME (from this shell)" : "";
          process.stderr.write(`gitway: cannot serve: ${e.message}${hint}\n`);
          process.exitCode = 1;
          await store.close();
          return;
        }
        throw e;
      }
      const gateway = new GatewayServer({
        baseDomain: process.env.GATEWAY_BASE_DOMAIN ?? "localhost:8787",
        fallbackEnvironment: "local",
        log,
        ...(opts.quiet ? {} : { accessLog: (entry) => process.stdout.write(JSON.stringify(entry) + "\n") }),
      });
      gateway.deploy("local", release);
      let port: number;
      try {
        port = await gateway.listen(opts.port, opts.host);
      } catch (e) {
        await Promise.all([upstreams.close(), store.close()]);
        const code = (e as NodeJS.ErrnoException).code;
        const why = code === "EADDRINUSE" ? "the port is in use" : code === "EACCES" ? "permission denied (ports below 1024 need privileges)" : code === "EADDRNOTAVAIL" ? "this machine has no such address" : code === "ENOTFOUND" || code === "EAI_AGAIN" ? "the host name does not resolve" : (code ?? (e as Error).message);
        throw new SnapshotReadError(`cannot listen on ${opts.host}:${opts.port}: ${why}`);
      }
      process.stderr.write(`gitway: serving ${release.routeCount} route(s) of ${path} (release ${release.hash}) on http://${opts.host}:${port}\n`);
      const stop = () => {
        void gateway.close().then(() => Promise.all([upstreams.close(), store.close()])).then(() => process.exit(0));
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      await new Promise(() => {});
    });

  program
    .command("migrate")
    .description("Apply database migrations: PostgreSQL at DATABASE_URL, or embedded PGlite in GITWAY_DATA_DIR (default ./data)")
    .action(async () => {
      const { openStore, migrateStore } = await import("./store/index.js");
      const url = process.env.DATABASE_URL;
      const store = await openStore(url ? { databaseUrl: url } : { dataDir: process.env.GITWAY_DATA_DIR ?? "./data" });
      try {
        const { applied, total } = await migrateStore(store);
        process.stderr.write(`gitway: applied ${applied} migration${applied === 1 ? "" : "s"} (${total} in total) on ${store.driver === "pg" ? "PostgreSQL" : "PGlite"}\n`);
      } catch (e) {
        process.stderr.write(`gitway: migration failed: ${(e as Error).message}\n`);
        process.exitCode = 1;
      } finally {
        await store.close();
      }
    });

  program
    .command("gateway-agent")
    .description("Keep an nginx in step with the releases in the store (DATABASE_URL): render, nginx -t, reload; report what it serves")
    .requiredOption("--engine <engine>", "the data plane to drive: nginx", engineName)
    .requiredOption("--config-dir <dir>", "the agent's folder: nginx's prefix, the rendered generations and `current`")
    .option("--listen <[address:]port>", "where nginx listens", listenAddress, { port: 8787 })
    .option("--node-gateway <url>", "the Node gateway that serves hybrid routes and the hosts nginx does not", nodeGatewayUrl, "http://127.0.0.1:8788")
    .option("--reload-command <command>", "drive an operator's nginx: run this after each tested generation (else nginx runs as the agent's child)")
    .option("--reopen-command <command>", "with --reload-command: run this to make the operator's nginx reopen its logs when the usage log is collected (default: <nginx-bin> -s reopen)")
    .option("--nginx-bin <path>", "the nginx binary that tests (and runs) the configuration", process.env.NGINX_BIN || "/usr/sbin/nginx")
    .option("--instance-id <id>", "this instance's name in sync status (default: host name and port)")
    .action(async (opts: { configDir: string; listen: { port: number; address?: string }; nodeGateway: string; reloadCommand?: string; reopenCommand?: string; nginxBin: string; instanceId?: string }) => {
      const { runGatewayAgent } = await import("./app/nginx-engine.js");
      const { createLogger } = await import("./app/log.js");
      const log = createLogger(((process.env.LOG_LEVEL as "info" | undefined) ?? "info"));
      let running: Awaited<ReturnType<typeof runGatewayAgent>>;
      try {
        running = await runGatewayAgent({ configDir: opts.configDir, listen: opts.listen, nodeGatewayUrl: opts.nodeGateway, nginxBin: opts.nginxBin, env: process.env, log, ...(opts.reloadCommand ? { reloadCommand: opts.reloadCommand } : {}), ...(opts.reopenCommand ? { reopenCommand: opts.reopenCommand } : {}), ...(opts.instanceId ? { instanceId: opts.instanceId } : {}) });
      } catch (e) {
        if ((e as { code?: unknown }).code === "SETTINGS_INVALID") throw new OperatorError((e as Error).message);
        throw new OperatorError(`the gateway agent could not start: ${(e as Error).message}`);
      }
      await new Promise<void>((resolve) => {
        const stop = () => void running.close().finally(resolve);
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
    });

  registerOperatorCommands(program);
  return program;
}

function engineName(value: string): string {
  if (value !== "nginx") throw new InvalidArgumentError(`must be nginx (the Node gateway needs no agent), not ${JSON.stringify(value.slice(0, 20))}`);
  return value;
}

function listenAddress(value: string): { port: number; address?: string } {
  const m = /^(?:(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):)?(\d{1,5})$/.exec(value);
  const n = Number(m?.[2]);
  if (!m || n < 1 || n > 65_535) throw new InvalidArgumentError("must be a port, or address:port (like 127.0.0.1:8787)");
  return { port: n, ...(m[1] ? { address: m[1] } : {}) };
}

function nodeGatewayUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError("must be a URL like http://127.0.0.1:8788");
  }
  if (url.protocol !== "http:" || url.pathname !== "/" || url.search) throw new InvalidArgumentError("must be an http:// URL with no path (like http://127.0.0.1:8788)");
  return url.origin;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function envName(value: string, previous: string[]): string[] {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) throw new InvalidArgumentError("must be a variable name (letters, digits, _), not NAME=value: values on a command line are visible to every user of the machine");
  return [...previous, value];
}

function host(value: string): string {
  if (isIP(value) === 0 && !/^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(value)) {
    throw new InvalidArgumentError("must be an IP address (127.0.0.1, ::1, 0.0.0.0) or a host name");
  }
  return value;
}

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError("must be a port number from 0 to 65535");
  return n;
}

/**
 * The only values `$env(NAME)` can read when serving: the files given, then the shell variables
 * named. The rest of this process's environment (DATABASE_URL, GITWAY_SECRET_KEY, ...) stays out
 * of reach of a config.
 */
function serveVars(files: string[], names: string[]): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      throw new SnapshotReadError(`Cannot read --env-file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const parsed = parseEnvFile(text);
    if (parsed.errors.length > 0) throw new SnapshotReadError(`--env-file ${file}: ${parsed.errors.map((x) => `line ${x.line}: ${x.message}`).join("; ")}`);
    Object.assign(vars, parsed.vars);
  }
  const unset = names.filter((n) => process.env[n] === undefined);
  if (unset.length > 0) throw new SnapshotReadError(`--env ${unset.join(", ")}: not set in this shell`);
  for (const n of names) vars[n] = process.env[n]!;
  return vars;
}

/** Consumers with plain keys from a local file; only their hashes go into the release. */
function readConsumers(file: string, hashKey: (key: string) => string): { name: string; keyHashes: string[] }[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new SnapshotReadError(`Cannot read consumers file ${file}: ${(e as Error).message}`);
  }
  if (!Array.isArray(raw) || raw.some((c) => typeof c?.name !== "string" || !Array.isArray(c?.keys) || c.keys.some((k: unknown) => typeof k !== "string" || k === ""))) {
    throw new SnapshotReadError(`Consumers file ${file} must be [{"name": "...", "keys": ["..."]}]`);
  }
  return (raw as { name: string; keys: string[] }[]).map((c) => ({ name: c.name, keyHashes: c.keys.map(hashKey) }));
}

/** Redis when REDIS_URL is set (limits shared by every gateway process), else this process's memory. */
async function rateLimitStore(): Promise<RateLimitStore> {
  const { MemoryRateLimitStore, RedisRateLimitStore } = await import("./gateway/index.js");
  const url = process.env.REDIS_URL;
  if (!url) return new MemoryRateLimitStore();
  const { Redis } = await import("ioredis");
  // Fail fast when Redis is away: the policy then fails open (or closed, with throwOnFailure).
  const redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: 500, lazyConnect: false });
  redis.on("error", () => {});
  return new RedisRateLimitStore(redis);
}

/** Problems that leave nothing to compare (unparseable files, no config); schema errors do not stop a diff. */
const UNREADABLE = new Set(["config-not-found", "file-too-large", "file-not-text", "file-empty", "json-syntax", "yaml-syntax", "nesting-too-deep", "yaml-alias-limit", "openapi-version"]);

function fatal(side: ConfigResult, name: string): string[] {
  return side.diagnostics.filter((d: Diagnostic) => d.severity === "error" && UNREADABLE.has(d.rule)).map((d) => formatDiagnosticLine(d, `${name}: `));
}

/** The commit-wide caps the app reads from its settings, here from the same variables when they are whole numbers. */
function readLimits(maxFileBytes: number): Partial<ConfigReadLimits> {
  const whole = (name: string) => (/^\d+$/.test(process.env[name] ?? "") && Number(process.env[name]) > 0 ? Number(process.env[name]) : undefined);
  const files = whole("GITWAY_MAX_CONFIG_FILES");
  const bytes = whole("GITWAY_MAX_CONFIG_BYTES");
  const seconds = whole("GITWAY_READ_TIMEOUT_SECONDS");
  return { maxFileBytes, ...(files ? { maxFiles: files } : {}), ...(bytes ? { maxTotalBytes: bytes } : {}), ...(seconds ? { timeoutMs: seconds * 1000 } : {}) };
}

/** The config of a directory, or of one OpenAPI file (`openapi` names it then). */
async function readPathConfig(path: string, maxFileBytes: number): Promise<ConfigResult & { openapi: string | undefined }> {
  const { snapshot, openapi } = await readPathSnapshot(path, readLimits(maxFileBytes));
  return { ...readConfig(snapshot, { limits: { maxFileBytes }, ...(openapi ? { openapi } : {}) }), openapi };
}

/**
 * A side of a diff: a path when one exists, else a Git revision of the repository around the
 * working directory (any subdirectory of it). A name that is both (a folder `main` and a branch
 * `main`) is refused rather than silently read one way: `./main` is the folder, `main^{commit}` the branch.
 */
async function readSide(spec: string, maxFileBytes: number): Promise<ConfigResult> {
  const explicitPath = spec.startsWith("./") || spec.startsWith("../") || spec.startsWith("/") || spec === "." || spec === "..";
  const path = existsSync(spec);
  const revision = !explicitPath && (await isRevision(process.cwd(), spec));
  if (path && revision) throw new SnapshotReadError(`${spec} is both a path here and a Git revision; write ./${spec} for the path or ${spec}^{commit} for the revision`);
  if (path) return readPathConfig(spec, maxFileBytes);
  if (revision) return readConfig(await readRevisionSnapshot(process.cwd(), spec, readLimits(maxFileBytes)), { limits: { maxFileBytes } });
  throw new SnapshotReadError(`${spec} is neither a file, a directory, nor a Git revision of the repository in ${process.cwd()}`);
}

export async function runCli(argv: string[]): Promise<number> {
  const program = buildCli();
  if (argv.length === 0) {
    program.outputHelp();
    return 0;
  }
  try {
    await program.parseAsync(argv, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || (e.code === "commander.help" && e.exitCode === 0)) return 0;
      if (e.code === "gitway.usage") process.stderr.write(e.message + "\n");
      return EXIT_USAGE;
    }
    if (e instanceof SnapshotReadError || e instanceof ConfigReadError || e instanceof OperatorError || (e as { code?: unknown }).code === "STORE_LOCKED") {
      process.stderr.write(`gitway: ${(e as Error).message}\n`);
      return EXIT_USAGE;
    }
    throw e;
  }
}

/** True when this file is the process entry, also through npm's bin symlink. */
function isEntry(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isEntry()) {
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`gitway: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 3;
    },
  );
}
