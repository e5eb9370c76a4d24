import { sql } from "drizzle-orm";
import { createPrivateKey, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { openPolicy, parseAllowList, type HostRule } from "../gateway/egress.js";
import { GatewayDeployer, GatewayServer, MemoryRateLimitStore, RedisRateLimitStore, ReleaseError, Upstreams, UsageCounter, environmentLabel, type GatewayServices, type RateLimitStore } from "../gateway/index.js";
import { boundRequests, GitHubWriters, gitwayApp, webUrlOf, WEBHOOK_PATH, JOB_KIND, runGitHubWork, safeReason, waitsOutRateLimit, withJobSignal, WritePacing, WRITE_INTERVAL_MS, type GitHubWork, type Octokit, type QueuedWork } from "../github/index.js";
import { fairShare, JobQueue, Worker, type Job, type QueueOptions } from "../jobs/index.js";
import { DeployError, type Deployer, type EnvironmentValues } from "../pipeline/index.js";
import { addUsage, usageReader, loadGitHubApp, migrateStore, openStore, pruneOlderThan, pruneRevokedKeysOfRetiredEnvironments, pruneUsageOlderThan, revokedKeyHashes, secretKeyFrom, setVariable, StorePublisher, StoreRecords, SweepMemory, type Store, type StoredGitHubApp } from "../store/index.js";
import { adminToken, createAdminApi, Operations, type GitView } from "../admin/index.js";
import { answerClientError, createDashboard } from "../web/index.js";
import { GIT_JOB_KIND, GitReconciler, runGitWork, sourcesFromList, sourcesFromYaml, SourcesError, type GitSource, type GitWork } from "../git/index.js";
import { ensureExampleRepository, startExampleUpstream } from "./example.js";
import { restoreReleases } from "./restore.js";
import { environmentUrl, SettingsError, type AppSettings } from "./settings.js";
import { createLogger, type Log } from "./log.js";
import { MAX_WEBHOOK_BYTES, readWebhookBody } from "../github/webhook-body.js";
import { createGitHubConnect, type GitHubConnection } from "./github-connect.js";
import { readiness } from "./health.js";
import { createSmokeTester } from "./smoke-tester.js";
import { nginxConfigDir, nginxKinds, startNginxEngine, withNginxPreflight } from "./nginx-engine.js";
import { CLIENT_ADDRESS_HEADER, type NginxAgent } from "../nginx/index.js";
import { listenToStore } from "./store-notifications.js";
import { UsageFlusher } from "./usage-flusher.js";

export interface StartOptions {
  /** Tests give an Octokit with fast retries; production uses Probot's own. */
  Octokit?: unknown;
  log?: Log;
  /** Tests drive the worker themselves when false. */
  runWorker?: boolean;
  workerIdleMs?: number;
  queue?: QueueOptions;
  /** False when gateway worker processes serve the port (GATEWAY_WORKERS): this process only compiles. */
  listenGateway?: boolean;
  /** How long `close` lets running jobs finish before handing their leases back. */
  stopGraceMs?: number;
  /** How often the app connected from the Connect GitHub page is read again, should a notification be lost. */
  githubRecheckMs?: number;
}

/** The re-check behind gitway_github_app's notifications: a lost one delays a replica by at most this. */
export const GITHUB_RECHECK_MS = 60_000;
/** One read of the connected app: a store that does not answer within this is tried again at the next re-check. */
const GITHUB_READ_TIMEOUT_MS = 10_000;

function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${message} within ${ms / 1000} s`)), ms)));
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

export interface Running {
  appUrl: string;
  gatewayUrl: string;
  store: Store;
  queue: JobQueue;
  worker: Worker;
  gateway: GatewayServer;
  /** With GATEWAY_ENGINE=nginx: the agent keeping this process's nginx in step. */
  engine: NginxAgent | undefined;
  /** Where the Node gateway listens (the gateway URL itself, unless nginx is in front). */
  nodeGatewayUrl: string;
  records: StoreRecords;
  operations: Operations;
  reconciler: GitReconciler | undefined;
  adminToken: string;
  settings: AppSettings;
  /** Writes the gateway's usage counts now rather than at the next 10 s tick (tests, operators' tools). */
  flushUsage(): Promise<void>;
  /** Resolves when nothing is queued or running (tests, and a graceful stop). */
  idle(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** PEM text from PRIVATE_KEY (also base64 or with literal \n) or the file PRIVATE_KEY_PATH; checked before use. */
function loadPrivateKey(env: Record<string, string | undefined>): string {
  let key: string;
  if (env.PRIVATE_KEY) key = env.PRIVATE_KEY;
  else {
    try {
      key = readFileSync(env.PRIVATE_KEY_PATH!, "utf8");
    } catch (e) {
      throw new SettingsError("PRIVATE_KEY_PATH", `cannot read ${env.PRIVATE_KEY_PATH}: ${(e as NodeJS.ErrnoException).code ?? "unreadable"}`);
    }
  }
  key = key.replace(/\\n/g, "\n");
  if (!key.includes("-----BEGIN")) key = Buffer.from(key, "base64").toString("utf8");
  try {
    createPrivateKey(key);
  } catch {
    throw new SettingsError(env.PRIVATE_KEY ? "PRIVATE_KEY" : "PRIVATE_KEY_PATH", "is not a PEM private key (download it from the GitHub App's settings page)");
  }
  return key;
}

async function rateLimitStore(url: string | undefined): Promise<RateLimitStore> {
  if (!url) return new MemoryRateLimitStore();
  const { Redis } = await import("ioredis");
  const redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: 500 });
  redis.on("error", () => {});
  return new RedisRateLimitStore(redis);
}

/** Secret values never reach a log line or a report, even inside an unexpected error's message. */
function redact(text: string, values: EnvironmentValues): string {
  let out = text;
  for (const v of Object.values(values.vars)) if (v.length >= 4) out = out.split(v).join("***");
  return out;
}

/** The gateway as the pipeline's deployer: release errors become DeployErrors a reviewer may read. */
function pipelineDeployer(inner: GatewayDeployer, log: Log): Deployer {
  return {
    async build(label, config, values) {
      try {
        const { releaseHash, install } = await inner.build(label, config, values);
        return { releaseHash, install };
      } catch (e) {
        if (e instanceof ReleaseError) {
          const at = e.code === "UPSTREAM_NOT_ALLOWED" ? /^(.*):(\d+)$/.exec(e.where ?? "") : null;
          throw new DeployError(e.code === "ENV_VARIABLE_MISSING" ? "ENV_VARIABLE_MISSING" : e.code === "UPSTREAM_NOT_ALLOWED" ? "UPSTREAM_NOT_ALLOWED" : "UNSUPPORTED", e.message, at ? { file: at[1]!, line: Number(at[2]) } : undefined);
        }
        log("error", `building release for ${label} failed: ${redact(e instanceof Error ? (e.stack ?? e.message) : String(e), values)}`);
        throw new DeployError("INTERNAL", "the release could not be built; the server log has the details");
      }
    },
    remove: (label) => inner.remove(label),
  };
}

/**
 * The gateway of a process: upstream pools, rate-limit counters (Redis when set) and the server.
 * `ownPorts` starts with the configured ports; a process that binds port 0 adds what it bound.
 */
export async function buildGateway(settings: AppSettings, log: Log): Promise<{ gateway: GatewayServer; services: GatewayServices; revokedKeys: Set<string>; ownPorts: Set<number>; allow: HostRule[]; usage: UsageCounter; close: () => Promise<void> }> {
  const ownPorts = new Set([settings.port, settings.gatewayPort].filter((p) => p !== 0));
  // A copy the process may add to (the embedded example's upstream), read by every release built after.
  const allow = [...settings.upstreamAllow];
  const upstreams = new Upstreams(undefined, openPolicy(allow, ownPorts));
  const limits = await rateLimitStore(settings.redisUrl);
  const revokedKeys = new Set<string>();
  const services: GatewayServices = { upstreams, rateLimitStore: limits, log, maxBodyBytes: settings.maxBodyBytes, bodyTimeoutMs: 30_000, revokedKeys, egress: { allow, ownPorts } };
  // Behind nginx the Node gateway listens on loopback only and takes the caller's address from nginx.
  const usage = new UsageCounter();
  const gateway = new GatewayServer({ baseDomain: settings.baseDomain, log, usage, ...(settings.gatewayEngine === "nginx" ? { trustedProxy: { header: CLIENT_ADDRESS_HEADER, addresses: ["127.0.0.1", "::1"] } } : {}) });
  // Pools of upstreams no request used for 5 minutes are closed.
  const idle = setInterval(() => upstreams.closeIdle(5 * 60_000), 60_000);
  idle.unref();
  return { gateway, services, revokedKeys, ownPorts, allow, usage, close: async () => void (clearInterval(idle), await Promise.all([upstreams.close(), limits.close()])) };
}

export { pipelineDeployer, secretKeyFromSetting };

export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

/**
 * Starts everything one process runs: migrations, the gateway with every deployed release
 * restored, the app server (webhooks, admin API), the worker and the catch-up sweep.
 */
export async function startGitway(settings: AppSettings, env: Record<string, string | undefined>, options: StartOptions = {}): Promise<Running> {
  const log = options.log ?? createLogger(settings.logLevel);
  const secretKey = settings.secretKey ? secretKeyFromSetting(settings.secretKey) : undefined;
  const privateKey = settings.github ? loadPrivateKey(env) : undefined;

  // Each step of the start is told as it happens: a first start (PGlite, migrations) takes a while.
  const began = performance.now();
  const since = () => `${((performance.now() - began) / 1000).toFixed(1)} s`;
  log("info", `starting: opening the store (${settings.databaseUrl ? "PostgreSQL" : `PGlite in ${settings.dataDir}`})`);
  const store = await openStore(settings.databaseUrl ? { databaseUrl: settings.databaseUrl } : { dataDir: settings.dataDir });
  log("info", `store ready after ${since()}; migrating`);
  const closers: (() => Promise<unknown>)[] = [() => store.close()];
  try {
    const migrated = await migrateStore(store);
    log("info", migrated.applied > 0 ? `applied ${migrated.applied} migration(s) on ${store.driver === "pg" ? "PostgreSQL" : "PGlite"} (${since()})` : `migrations up to date (${since()})`);

    // The gateway, with every environment's release rebuilt from the store.
    const { gateway, services, revokedKeys, ownPorts, allow, usage, close: closeGateway } = await buildGateway(settings, log);
    closers.unshift(closeGateway);
    // Counts reach the store every 10 s, and at stop once the gateway has answered its last request.
    const flusher = new UsageFlusher({ counter: usage, write: (rows) => addUsage(store.db, rows), log });
    flusher.start();
    closers.unshift(() => flusher.stop());
    // URLs follow the port the gateway really bound (GATEWAY_PORT=0 picks one) unless the domain is set.
    let urls: Pick<AppSettings, "publicUrl" | "baseDomain"> = settings;
    const naming = { label: environmentLabel, url: (label: string) => environmentUrl(urls, label) };
    // Swaps of one environment take turns across app processes sharing a PostgreSQL too.
    const records = new StoreRecords(store.db, naming, secretKey, store.driver === "pg" ? (key, fn) => store.withLock(key, () => fn()) : undefined);
    let deployer = pipelineDeployer(new GatewayDeployer(gateway, services), log);
    for (const h of await revokedKeyHashes(store.db)) revokedKeys.add(h);
    for (const f of (await restoreReleases(records, deployer)).failed) log("warn", `environment ${f.label} could not be restored: ${f.reason}`);
    log("info", `gateway: ${gateway.environmentCount} environment(s) restored (${since()})`);
    // With nginx in front, the Node gateway listens on loopback only, for nginx's hybrid routes and the hosts it leaves to Node.
    const nginxFront = settings.gatewayEngine === "nginx" && options.listenGateway !== false;
    const nodePort = options.listenGateway === false ? settings.gatewayPort : nginxFront ? await listen(gateway.server, settings.nginx.nodeGatewayPort, "127.0.0.1") : await listen(gateway.server, settings.gatewayPort, settings.gatewayHost);
    const gatewayPort = nginxFront ? settings.gatewayPort : nodePort;
    ownPorts.add(nodePort);
    ownPorts.add(gatewayPort);
    let engine: NginxAgent | undefined;
    if (nginxFront) {
      const layout = { listen: { port: gatewayPort, address: settings.gatewayHost }, nodeGatewayUrl: `http://127.0.0.1:${nodePort}`, baseDomain: settings.baseDomain, maxBodyBytes: settings.maxBodyBytes };
      const preflight = withNginxPreflight(deployer, { layout, nginxBin: settings.nginx.bin });
      deployer = preflight;
      closers.unshift(async () => preflight.close());
      const configDir = nginxConfigDir(settings);
      if (configDir.temporary) closers.push(async () => rmSync(configDir.path, { recursive: true, force: true }));
      engine = await startNginxEngine({ store, databaseUrl: settings.databaseUrl, records, layout, kinds: nginxKinds(), configDir: configDir.path, nginxBin: settings.nginx.bin, log, usage });
      const agent = engine;
      closers.unshift(() => agent.close());
      log("info", `nginx serves ${[...nginxKinds()].join(", ")} on http://${settings.gatewayHost}:${gatewayPort} from ${configDir.path}; the Node gateway on http://127.0.0.1:${nodePort} (${since()})`);
    }
    if (settings.baseDomainFollowsPort && settings.gatewayPort === 0) urls = { baseDomain: `localhost:${gatewayPort}`, publicUrl: new URL(`http://localhost:${gatewayPort}`) };
    if (options.listenGateway !== false) closers.unshift(() => gateway.close());

    // A revoked key is refused at once here, and by gateway worker processes through NOTIFY.
    const revokeKeys = async (hashes: string[]) => {
      for (const h of hashes) revokedKeys.add(h);
      // A notification carries at most 8000 bytes: 100 hashes.
      if (store.driver === "pg") for (let i = 0; i < hashes.length; i += 100) await store.db.execute(sql`SELECT pg_notify('gitway_key_revoked', ${hashes.slice(i, i + 100).join(",")})`);
    };
    // Previews are smoke-tested through this process's gateway, which holds each release the moment it
    // is deployed. With gateway workers serving the port (they learn of a release a moment later),
    // it listens for the smoke tests alone, on a loopback port of its own that no upstream may reach.
    // With nginx in front (reloaded a moment after a deploy), they go to the Node gateway behind it, which holds the same release at once.
    let smokeAddress = nginxFront ? { host: "127.0.0.1", port: nodePort } : { host: settings.gatewayHost, port: gatewayPort };
    if (options.listenGateway === false) {
      smokeAddress = { host: "127.0.0.1", port: await listen(gateway.server, 0, "127.0.0.1") };
      ownPorts.add(smokeAddress.port);
      closers.unshift(() => gateway.close());
    }
    const smoke = createSmokeTester({ db: store.db, gateway: () => smokeAddress, baseDomain: () => urls.baseDomain, revokeKeys });
    closers.push(() => smoke.close());

    // Files of this process: Git mirrors, the example repository, the generated admin token.
    const memory = settings.dataDir.startsWith("memory://");
    const workDir = memory ? mkdtempSync(join(tmpdir(), "gitway-")) : settings.dataDir;
    if (memory) closers.push(async () => rmSync(workDir, { recursive: true, force: true }));
    // A generated token goes to a file only this user can read (with memory://, one removed at stop), never to the log.
    const token = adminToken(settings.adminToken, workDir);
    if (token.generated) log("info", `admin token generated into ${token.file} (readable by this user only; the CLI reads it from there, or set GITWAY_ADMIN_TOKEN)`);

    // The queue and its worker.
    const queue = new JobQueue(store, options.queue);
    const enqueue = (work: QueuedWork) => queue.enqueue({ ...work });
    const workerId = `worker-${process.pid}-${randomUUID().slice(0, 8)}`;
    // Jobs hand their GitHub writes to these (one per installation) and give their slot back at once.
    const pacing = new WritePacing({ burst: settings.githubWriteBurst, intervalMs: WRITE_INTERVAL_MS });
    const writers = new GitHubWriters(log, pacing);
    let probot: import("probot").Probot | undefined;
    let webhooks: ((req: IncomingMessage, res: ServerResponse) => Promise<boolean>) | undefined;
    let github: GitHubConnection = { from: "none" };
    let githubKey: string | undefined;
    let stopSweep = () => {};
    const handlers: Record<string, (job: Job, signal: AbortSignal) => Promise<void>> = {};
    /** Runs as the GitHub App from here on: from the environment at start, or once connected from its manifest (no restart). */
    const connectGitHub = async (credentials: { appId: number; privateKey: string; webhookSecret: string; baseUrl: string }) => {
      const { Probot, ProbotOctokit } = await import("probot");
      probot = new Probot({
        appId: credentials.appId,
        privateKey: credentials.privateKey,
        secret: credentials.webhookSecret,
        baseUrl: credentials.baseUrl,
        logLevel: settings.logLevel === "silent" ? "fatal" : settings.logLevel,
        Octokit: (options.Octokit as typeof ProbotOctokit | undefined) ?? retryingOctokit(ProbotOctokit, pacing),
      });
      const app = probot;
      const githubTimeoutMs = settings.githubTimeoutSeconds * 1000;
      const memory = new SweepMemory(store.db);
      const run = (job: Job) =>
        runGitHubWork(
          {
            auth: async (id?: number) => boundRequests((await app.auth(id)) as Octokit, githubTimeoutMs),
            records,
            deployer,
            writers,
            enqueue,
            memory,
            maxFileBytes: settings.maxFileBytes,
            readLimits: settings.readLimits,
            previewTtlHours: settings.previewTtlHours,
            smoke,
            log,
            usage: usageReader(store.db, settings.usageDays),
          },
          job.payload as GitHubWork,
          { fence: async () => (await queue.holdsLease(job, workerId)) && !(await queue.superseded(job)), order: job.commitOrder, finalAttempt: job.attempts >= job.maxAttempts },
        );
      // Every GitHub request of a job ends with the job (its deadline, a lost lease, a stop). One
      // installation with many jobs leaves a slot to the others' waiting jobs.
      const installationOf = (job: Job) => {
        const id = (job.payload as { installationId?: unknown }).installationId;
        return id === undefined ? undefined : String(id);
      };
      const fair = fairShare(queue, Math.max(1, settings.workerConcurrency - 1), installationOf, (job, signal) => withJobSignal(signal, () => run(job)));
      for (const kind of Object.values(JOB_KIND)) handlers[kind] = fair;
      webhooks = await createWebhookMiddleware(probot, enqueue, settings.github?.webhookPath ?? WEBHOOK_PATH);
      githubKey = credentials.privateKey;
      // The catch-up sweep: at once, then every few minutes.
      if (settings.reconcileSeconds > 0 && options.runWorker !== false) {
        const sweep = () => enqueue({ kind: JOB_KIND.sweep, environmentKey: "gh:sweep", commitOrder: Date.now(), payload: { type: "sweep" } }).catch((e: unknown) => log("warn", `sweep not queued: ${safeReason(e)}`));
        void sweep();
        const timer = setInterval(sweep, settings.reconcileSeconds * 1000);
        timer.unref();
        stopSweep = () => clearInterval(timer);
        closers.unshift(async () => clearInterval(timer));
      }
    };
    /** Stops running as the GitHub App: no webhook endpoint, no GitHub jobs, no sweep from this process. */
    const stopGitHub = () => {
      stopSweep();
      stopSweep = () => {};
      for (const kind of Object.values(JOB_KIND)) delete handlers[kind];
      webhooks = undefined;
      probot = undefined;
      githubKey = undefined;
      github = { from: "none" };
    };
    // The app connected through the Connect GitHub page is one row every process reads: the process
    // that took GitHub's callback, and every other one on the same PostgreSQL when the row's trigger
    // announces it (gitway_github_app) or, should that be lost, at the next re-check.
    const identity = (app: StoredGitHubApp) => `${app.appId} ${app.apiUrl} ${app.connectedAt.getTime()}`;
    let followed: string | undefined;
    /** Why the app the store holds does not run here (unreadable, or it failed to start); undefined when all is well. */
    let notRunning: string | undefined;
    /** One read of the stored app and the switch it calls for; never rejects (a failure is logged, the next read tries again). */
    const followOnce = async (): Promise<void> => {
      // Said once per reason, not at every re-check; /readyz says not ready meanwhile.
      const cannotRun = (reason: string) => {
        if (reason !== notRunning) log("error", (notRunning = reason));
      };
      let stored: StoredGitHubApp | undefined;
      try {
        stored = await withTimeout(loadGitHubApp(store.db, secretKey!), GITHUB_READ_TIMEOUT_MS, "the store did not answer");
      } catch (e) {
        return cannotRun(`the connected GitHub App cannot be read: ${safeReason(e)}`);
      }
      const now = stored ? identity(stored) : undefined;
      if (now === followed) return void (notRunning = undefined);
      if (github.from === "store") {
        log("info", `no longer running as GitHub App ${github.app.appId}: ${stored ? "another app was connected" : "it was disconnected"}`);
        stopGitHub();
      }
      followed = undefined;
      if (!stored) return void (notRunning = undefined);
      try {
        await connectGitHub({ appId: stored.appId, privateKey: stored.privateKey, webhookSecret: stored.webhookSecret, baseUrl: stored.apiUrl });
      } catch (e) {
        stopGitHub();
        return cannotRun(`GitHub App ${stored.appId} could not be started: ${safeReason(e)}`);
      }
      github = { from: "store", app: stored };
      followed = now;
      notRunning = undefined;
      log("info", `running as GitHub App ${stored.appId} (${stored.slug}) at ${stored.apiUrl}, connected from the Connect GitHub page`);
    };
    // One read at a time and at most one waiting behind it: however many notifications and
    // re-checks arrive while the store is slow, they share the next read, which starts after the
    // current one ends and so sees every change made before it was asked for.
    let reading: Promise<void> | undefined;
    let waiting: Promise<void> | undefined;
    const followStoredApp = (): Promise<void> => {
      if (waiting) return waiting;
      if (!reading) {
        reading = followOnce().finally(() => (reading = undefined));
        return reading;
      }
      waiting = reading.then(() => {
        waiting = undefined;
        return followStoredApp();
      });
      return waiting;
    };
    if (settings.github) {
      await connectGitHub({ appId: settings.github.appId, privateKey: privateKey!, webhookSecret: settings.github.webhookSecret, baseUrl: settings.github.baseUrl });
      github = { from: "environment", appId: settings.github.appId, apiUrl: settings.github.baseUrl };
    } else if (secretKey) {
      // PGlite is one process's database: only PostgreSQL has other processes to hear from. Listen
      // before the first read, so no change between the two is missed.
      if (settings.databaseUrl) {
        const listening = await listenToStore({ databaseUrl: settings.databaseUrl, channels: ["gitway_github_app"], applicationName: "gitway-app-listener", onNotify: () => void followStoredApp(), resync: followStoredApp, log });
        closers.unshift(() => listening.close());
        const recheck = setInterval(() => void followStoredApp(), options.githubRecheckMs ?? GITHUB_RECHECK_MS);
        recheck.unref();
        closers.unshift(async () => clearInterval(recheck));
      }
      await followStoredApp();
    }
    // Git mode: the sources' branches are environments, kept in sync by polling.
    const sources = await gitSources(settings, workDir);
    if (settings.example) log("info", `example repository ready: ${sources[0]?.remote ?? "none"} (${since()})`);
    let reconciler: GitReconciler | undefined;
    if (sources.length > 0) {
      if (settings.example) {
        const upstream = await startExampleUpstream();
        closers.unshift(() => new Promise<void>((r) => upstream.server.close(() => r())));
        // Production forwards there; its previews may too, even those deployed before production is.
        allow.push(...parseAllowList(new URL(upstream.url).host));
        // The example forwards to $env(SHOPKART_UPSTREAM): production holds it, previews inherit it.
        const repositoryId = await records.repository(sources[0]!.owner, sources[0]!.name);
        const production = await records.environment(repositoryId, { name: "production", kind: "production" });
        await setVariable(store.db, secretKey, { environmentId: production.id, name: "SHOPKART_UPSTREAM", value: upstream.url, secret: false });
      }
      const git = new GitReconciler(sources, workDir, { records, enqueue: (job) => queue.enqueue(job), isServing: (label) => gateway.releaseOf(label) !== undefined, log, maxFileBytes: settings.maxFileBytes, readLimits: settings.readLimits });
      reconciler = git;
      handlers[GIT_JOB_KIND] = (job, signal) =>
        runGitWork({ reconciler: git, records, deployer, smoke, usage: usageReader(store.db, settings.usageDays), publisherFor: (id) => new StorePublisher(store.db, id), fence: async () => (await queue.holdsLease(job, workerId)) && !(await queue.superseded(job)), order: job.commitOrder, signal }, job.payload as GitWork);
    }
    const worker = new Worker(queue, handlers, { id: workerId, idleMs: options.workerIdleMs ?? 200, concurrency: settings.workerConcurrency, jobTimeoutMs: settings.jobTimeoutSeconds * 1000, onError: (job, e) => log("warn", `job ${job.id} (${job.kind}) attempt ${job.attempts} of ${job.maxAttempts} failed: ${safeReason(e)}`) });
    if (options.runWorker !== false) worker.start();
    // After the jobs, the GitHub writes they handed over get what is left of the 9 s a stop may take.
    let stopBegan = 0;
    closers.unshift(() => writers.close(Math.max(1_000, 9_000 - (performance.now() - stopBegan))));
    closers.unshift(() => ((stopBegan = performance.now()), worker.stop(options.stopGraceMs ?? 8_000)));

    // Retention: at start, then every hour (every process may do it; a second run finds nothing).
    if (options.runWorker !== false) {
      const prune = async () => {
        if (settings.retentionDays > 0) {
          await pruneOlderThan(store.db, settings.retentionDays).then(
            (n) => n.jobs + n.deliveries + n.checkResults > 0 && log("info", `pruned what is older than ${settings.retentionDays} days: ${n.jobs} jobs, ${n.deliveries} webhook deliveries, ${n.checkResults} check results`),
            (e: unknown) => log("warn", `pruning old rows failed: ${safeReason(e)}`),
          );
        }
        await pruneUsageOlderThan(store.db, settings.usageDays).then(
          (n) => n > 0 && log("info", `pruned ${n} hourly usage row(s) older than ${settings.usageDays} days`),
          (e: unknown) => log("warn", `pruning old usage failed: ${safeReason(e)}`),
        );
        await pruneRevokedKeysOfRetiredEnvironments(store.db).then(
          (n) => n > 0 && log("info", `forgot ${n} revoked key(s) of torn-down environments`),
          (e: unknown) => log("warn", `pruning revoked keys failed: ${safeReason(e)}`),
        );
      };
      void prune();
      const timer = setInterval(() => void prune(), 3_600_000);
      timer.unref();
      closers.unshift(async () => clearInterval(timer));
    }

    // The operator's surface: the admin API (and the CLI through it).
    const operations = new Operations({
      db: store.db,
      records,
      deployer,
      running: (label) => gateway.releaseOf(label)?.hash,
      engineOf: (kind) => (kind === "preview" ? settings.previewEngine : settings.gatewayEngine),
      revokeKeys,
      secretKey,
      ...(reconciler ? { git: gitView(reconciler) } : {}),
      // Whichever app runs now: from the environment, or connected from the page (in any process).
      githubSync: async () => {
        if (github.from !== "none") await enqueue({ kind: JOB_KIND.sweep, environmentKey: "gh:sweep", commitOrder: Date.now(), payload: { type: "sweep" } });
      },
      githubRedeploy: async (owner, repo, actor) => {
        if (github.from !== "none") await enqueue({ kind: JOB_KIND.push, environmentKey: `gh:${owner}/${repo}:redeploy`, coalesce: false, commitOrder: Date.now(), payload: { type: "redeploy", owner, repo, actor } });
      },
      commitUrl: (owner, name, sha) => {
        const apiUrl = github.from === "environment" ? github.apiUrl : github.from === "store" ? github.app.apiUrl : undefined;
        return reconciler?.stateFor(owner, name) || !apiUrl ? undefined : `${webUrlOf(apiUrl)}/${owner}/${name}/commit/${sha}`;
      },
    });
    const api = createAdminApi({ operations, token: token.token, publicRead: settings.dashboardPublic, version: VERSION, log });
    const dashboard = createDashboard({ operations, adminToken: token.token, publicRead: settings.dashboardPublic, log });

    // The app server: GitHub's webhooks, then the admin API, then the dashboard.
    const connect = createGitHubConnect({
      db: store.db,
      adminToken: token.token,
      secretKey,
      appYml: readFileSync(new URL("../../app.yml", import.meta.url), "utf8"),
      publicUrl: settings.appPublicUrl,
      connection: () => github,
      // Read back from the store, as the other processes read it.
      followStored: followStoredApp,
      log,
    });
    const server = createServer((req, res) => {
      void route(req, res).catch((e: unknown) => {
        log("error", `request ${req.method} ${req.url} failed: ${safeReason(e)}`);
        if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: "internal error" }));
      });
    });
    const route = async (req: IncomingMessage, res: ServerResponse) => {
      if (webhooks && (await webhooks(req, res))) return;
      if (await connect(req, res)) return;
      if (await api(req, res)) return;
      if (await dashboard(req, res)) return;
      if (req.url === "/healthz") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ ok: true, environments: gateway.environmentCount }));
        return;
      }
      if (req.url === "/readyz") {
        // A connected app this process cannot read (another GITWAY_SECRET_KEY) is credentials not loaded:
        // GitHub's deliveries must not be sent to a replica that would answer them 404.
        const ready = await readiness(store, github.from === "none" && notRunning === undefined ? undefined : (githubKey ?? null));
        res.writeHead(ready.ok ? 200 : 503, { "content-type": "application/json", "cache-control": "no-store" });
        res.end(JSON.stringify(ready));
        return;
      }
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "not found" }));
    };
    // A request Node refuses before routing (headers over 16 KiB: a huge query string) gets a page saying why.
    server.on("clientError", answerClientError);
    const appPort = await listen(server, settings.port, settings.host);
    ownPorts.add(appPort);
    closers.unshift(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );

    // Git polling: at start, then every GITWAY_POLL_SECONDS.
    if (reconciler && options.runWorker !== false) {
      const git = reconciler;
      // The first sync is told when it is done, so a user knows when the README's curl lines answer.
      void git
        .tick()
        .then(() => waitIdle(queue, 120_000))
        .then(
          () => log("info", `first sync done after ${since()}: ${gateway.environmentCount} environment(s) served`),
          (e: unknown) => log("warn", `first sync not finished: ${safeReason(e)}`),
        );
      const timer = setInterval(() => void git.tick(), settings.pollSeconds * 1000);
      timer.unref();
      closers.unshift(async () => clearInterval(timer));
    }

    log("info", `app on http://${settings.host}:${appPort}${settings.github ? ` (GitHub App ${settings.github.appId} at ${settings.github.baseUrl}, webhooks at ${settings.github.webhookPath})` : ""}; ${settings.role === "app" ? `environments at *.${urls.baseDomain}, served by GITWAY_ROLE=gateway processes` : `gateway on http://${settings.gatewayHost}:${gatewayPort} for *.${urls.baseDomain}`} (listening after ${since()})`);
    return {
      appUrl: `http://${settings.host}:${appPort}`,
      gatewayUrl: `http://${settings.gatewayHost}:${gatewayPort}`,
      store,
      queue,
      worker,
      gateway,
      engine,
      nodeGatewayUrl: nginxFront ? `http://127.0.0.1:${nodePort}` : `http://${settings.gatewayHost}:${gatewayPort}`,
      records,
      operations,
      reconciler,
      adminToken: token.token,
      settings,
      // nginx's calls are in its buffered log until the agent collects them: collected first, then written.
      flushUsage: async () => (await engine?.collectUsage(), await flusher.flush()),
      idle: (timeoutMs = 15_000) => waitIdle(queue, timeoutMs, writers),
      close: async () => {
        for (const close of closers) await close().catch(() => {});
      },
    };
  } catch (e) {
    for (const close of closers) await close().catch(() => {});
    throw e;
  }
}

/**
 * Probot's Octokit with retry (5xx) and throttling on. The plugin's fixed gaps between writes (1 s,
 * 3 s for a notifying one) give way to `pacing`, a token bucket per installation. A rate limit,
 * primary or secondary, that resets within a few seconds is waited out and retried twice; a longer
 * one is not waited for in a worker slot: the job is queued again for the reset time. A secondary
 * limit met by a write also empties that installation's bucket: no burst until it has refilled.
 */
export function retryingOctokit(base: typeof import("probot").ProbotOctokit, pacing: WritePacing) {
  const groups = pacing.throttleGroups();
  return base.defaults((o: Record<string, unknown>) => {
    const throttle = (o.throttle ?? {}) as { id?: string };
    const waitOrRequeue = (after: number, _options: unknown, _octokit: unknown, retryCount: number) => waitsOutRateLimit(after, retryCount);
    const slowDown = (after: number, options: { method?: string }, octokit: unknown, retryCount: number) => {
      if (throttle.id !== undefined && options.method !== "GET" && options.method !== "HEAD") pacing.empty(throttle.id, new Date(Date.now() + after * 1000));
      return waitOrRequeue(after, options, octokit, retryCount);
    };
    return { ...o, throttle: { ...throttle, ...groups, onRateLimit: waitOrRequeue, onSecondaryRateLimit: slowDown } };
  });
}

function secretKeyFromSetting(value: string): Buffer {
  try {
    return secretKeyFrom(value);
  } catch (e) {
    throw new SettingsError("GITWAY_SECRET_KEY", (e as Error).message.replace(/^GITWAY_SECRET_KEY /, ""));
  }
}

async function createWebhookMiddleware(probot: import("probot").Probot, enqueue: (w: QueuedWork) => Promise<unknown>, path: string) {
  const { createNodeMiddleware } = await import("probot");
  const middleware = await createNodeMiddleware(gitwayApp(enqueue), { probot, webhooksPath: path });
  return (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const pathname = (req.url ?? "").split("?")[0]!.replace(/\/+$/, "");
    if (pathname !== path) return Promise.resolve(false);
    return readWebhookBody(req).then(async (body) => {
      if (body === "too-large") {
        res.writeHead(413, { "content-type": "application/json", connection: "close" });
        res.end(JSON.stringify({ error: `the webhook body is over ${MAX_WEBHOOK_BYTES} bytes (GitHub sends at most 25 MB)` }));
        return true;
      }
      // The webhooks middleware takes a string body as the payload, as read, and checks its signature.
      (req as IncomingMessage & { body?: string }).body = body;
      await middleware(req, res);
      return true;
    });
  };
}

const VERSION = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

/** GITWAY_SOURCES_FILE, GITWAY_REPOS, or (with no GitHub App either) the bundled example. */
async function gitSources(settings: AppSettings, workDir: string): Promise<GitSource[]> {
  if (settings.sourcesFile) {
    let text: string;
    try {
      text = readFileSync(settings.sourcesFile, "utf8");
    } catch (e) {
      throw new SettingsError("GITWAY_SOURCES_FILE", `cannot read ${settings.sourcesFile}: ${(e as NodeJS.ErrnoException).code ?? "unreadable"}`);
    }
    try {
      return sourcesFromYaml(text, settings.sourcesFile);
    } catch (e) {
      if (e instanceof SourcesError) throw new SettingsError("GITWAY_SOURCES_FILE", e.message);
      throw e;
    }
  }
  if (settings.gitRepos) return sourcesFromList(settings.gitRepos);
  if (settings.example) return sourcesFromList(ensureExampleRepository(workDir));
  return [];
}

/** What the operations read of the Git mode: branch heads and commit details. */
function gitView(reconciler: GitReconciler): GitView {
  return {
    desiredCommit(owner, name, env) {
      const state = reconciler.stateFor(owner, name);
      if (!state) return undefined;
      const branch = env.kind === "production" ? state.production : env.kind === "stage" ? state.source.stages[env.name] : env.branch;
      return branch ? state.heads.get(branch) : undefined;
    },
    async commit(owner, name, sha) {
      const state = reconciler.stateFor(owner, name);
      return state ? state.mirror.commit(sha) : undefined;
    },
    forget: (owner, name, env) => reconciler.forget(owner, name, env),
    polls: (owner, name) => reconciler.stateFor(owner, name) !== undefined,
    sync: () => reconciler.tick(true),
  };
}

async function waitIdle(queue: JobQueue, timeoutMs: number, writers?: GitHubWriters): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    // Idle means the GitHub writes the jobs handed over are sent too.
    if ((await queue.pendingCount()) === 0 && (writers?.pending ?? 0) === 0 && !writers?.sending) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`jobs still queued or running after ${timeoutMs} ms`);
}
