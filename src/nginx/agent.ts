import pg from "pg";
import { sql } from "drizzle-orm";
import { readConfig, type GatewayConfig } from "../config/index.js";
import { withoutSecrets, type EnvironmentValues } from "../pipeline/index.js";
import { forgetEngine, reportEngine, rowsOf, type Store, type StoreRecords } from "../store/index.js";
import type { ConfigDir } from "./config-dir.js";
import type { NginxControl } from "./process.js";
import type { CountedRoute, UsageCounter } from "../gateway/usage.js";
import { join } from "node:path";
import { UsageLogFile } from "./usage-log.js";

type Kind = "preview" | "stage" | "production";
type Log = (level: "debug" | "info" | "warn" | "error", message: string) => void;

/** One environment as the store says it should be served: what the renderer turns into nginx's files. */
export interface AgentEnvironment {
  label: string;
  kind: Kind;
  /** The deployed release's content hash (what the engine reports it serves). */
  releaseHash: string;
  config: GatewayConfig;
  values: EnvironmentValues;
}

/** The renderer as the agent calls it: every environment in, nginx's whole set of files out (with `nginx.conf`). */
export type RenderAll = (environments: AgentEnvironment[], usageLog?: string) => { files: Record<string, string>; hybridRoutes: { environment: string; route: string; reason: string }[] };

export interface NginxAgentOptions {
  store: Store;
  /** The PostgreSQL URL for the LISTEN connection; without it (PGlite) the agent polls. */
  databaseUrl: string | undefined;
  records: StoreRecords;
  dir: ConfigDir;
  control: NginxControl;
  render: RenderAll;
  /** Which kinds of environment this engine serves (stages and production; previews when asked). */
  kinds: ReadonlySet<Kind>;
  /** Names this agent's row in engine_instances. */
  instanceId: string;
  log: Log;
  /** PGlite (or a lost LISTEN connection): how often the store is compared with what nginx serves. */
  pollMs?: number;
  /** Counts the calls nginx serves itself (from its buffered access log); without it nginx logs nothing. */
  usage?: UsageCounter;
  /** How often the usage log is collected (rotated, reopened and read). Default 10 s, as the Node gateway flushes. */
  usageCollectMs?: number;
}

/** The application_name of an agent's LISTEN connection. */
export const AGENT_APPLICATION_NAME = "gitway-nginx-agent";

/**
 * Keeps one nginx in step with the store: every deployed release of the kinds it serves is rendered
 * into one configuration, written as a new generation, tested with `nginx -t` and only then made
 * current and reloaded. A configuration nginx refuses is never applied: the environments whose new
 * release caused it keep their last good release, and the refusal (nginx's own message) is
 * recorded for them in engine_instances, which sync status reads. Changes arrive by LISTEN (the
 * gateway's own gitway_release and gitway_key_revoked) or, on PGlite, by polling; after a lost
 * connection everything is re-read.
 */
export class NginxAgent {
  /** What nginx serves now, per label. */
  private good = new Map<string, AgentEnvironment>();
  private refused = new Map<string, { releaseHash: string; error: string }>();
  private lastFiles: string | undefined;
  private hybrid: ReturnType<RenderAll>["hybridRoutes"] = [];
  private closed = false;
  private listener: pg.Client | undefined;
  private poller: NodeJS.Timeout | undefined;
  /** What the store says should be served (kept between syncs: a notification re-reads its label alone). */
  private wanted = new Map<string, AgentEnvironment>();
  private unreadable = new Map<string, { releaseHash: string; error: string }>();
  /** A release's files never change: each hash is parsed once. */
  private configs = new Map<string, GatewayConfig | undefined>();
  /** Per label, its deployed release and status, and the keys table's count and last id, as last read (polling compares them). */
  private prints = new Map<string, string>();
  private keysPrint = "";
  /** Syncs run one at a time; labels asked for meanwhile collect into the next one ("all": everything). */
  private running: Promise<void> | undefined;
  private pending: Set<string> | "all" = new Set();

  private usageLog: UsageLogFile | undefined;
  private usagePath: string | undefined;
  private collector: NodeJS.Timeout | undefined;

  constructor(private readonly o: NginxAgentOptions) {}

  /** Serves what the store holds now, then follows it. */
  async start(): Promise<void> {
    if (this.o.usage) {
      // Not under logs/ (nginx's error log, the agent's alone): nginx's workers reopen this file by its path.
      this.usagePath = join(this.o.dir.root, "usage", "usage.log");
      this.usageLog = new UsageLogFile({ counter: this.o.usage, path: this.usagePath, reopen: () => this.o.control.reopen() });
      await this.usageLog.resume();
    }
    if (this.o.databaseUrl) await this.connect();
    await this.sync();
    // Polling stays on beside LISTEN (slower): a notification lost in a reconnect race is caught up.
    const every = this.o.pollMs ?? (this.o.databaseUrl ? 5_000 : 500);
    this.poller = setInterval(() => void this.poll(), every);
    this.poller.unref();
    if (this.usageLog) {
      this.collector = setInterval(() => void this.collectUsage().catch(() => {}), this.o.usageCollectMs ?? 10_000);
      this.collector.unref();
    }
  }

  /**
   * Counts what nginx has logged since the last collection (the flusher then writes it): every 10 s,
   * and before a flush that must see the latest calls. A failure is logged; the lines wait for the next one.
   */
  async collectUsage(): Promise<void> {
    try {
      await this.usageLog?.collect();
    } catch (e) {
      this.o.log("warn", `nginx agent: collecting the usage log failed (${(e as Error).message}); its lines wait for the next collection`);
    }
  }

  /** Labels served now, with their release hashes. */
  served(): Map<string, string> {
    return new Map([...this.good].map(([label, e]) => [label, e.releaseHash]));
  }

  /** Routes nginx hands to the Node gateway, per the last render. */
  hybridRoutes(): ReturnType<RenderAll>["hybridRoutes"] {
    return this.hybrid;
  }

  /** Re-reads the store (every environment, or these labels) and brings nginx in step: what a notification or a poll does. */
  sync(labels?: Iterable<string>): Promise<void> {
    if (labels === undefined) this.pending = "all";
    else if (this.pending !== "all") for (const l of labels) this.pending.add(l);
    if (this.running) return this.running.then(() => (this.pendingWork() ? this.sync([]) : undefined));
    this.running = (async () => {
      try {
        while (this.pendingWork() && !this.closed) {
          const todo = this.pending;
          this.pending = new Set();
          await this.refresh(todo);
          await this.syncOnce();
        }
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  private pendingWork(): boolean {
    return this.pending === "all" || this.pending.size > 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.poller) clearInterval(this.poller);
    if (this.collector) clearInterval(this.collector);
    await this.listener?.end().catch(() => {});
    await this.running?.catch(() => {});
    // An nginx the agent stops flushes its buffered lines as its workers exit: the files are then read to their end.
    if (this.usageLog && !this.o.control.ownsNginx) await this.usageLog.leave().catch((e: unknown) => this.o.log("warn", `nginx agent: collecting the usage log at stop failed: ${(e as Error).message}`));
    await this.o.control.stop();
    if (this.usageLog && this.o.control.ownsNginx) await this.usageLog.collect(true).catch((e: unknown) => this.o.log("warn", `nginx agent: collecting the usage log at stop failed: ${(e as Error).message}`));
    await forgetEngine(this.o.store.db, this.o.instanceId).catch(() => {});
  }

  /** Each label's deployed release and status, and the keys' count and last id: what polling compares. */
  private async readPrints(): Promise<{ prints: Map<string, string>; keys: string }> {
    const rows = rowsOf<{ host_name: string; p: string }>(await this.o.store.db.execute(sql`SELECT host_name, coalesce(deployed_release_id::text, '-') || ':' || status AS p FROM environments`));
    const [keys] = rowsOf<{ k: string }>(await this.o.store.db.execute(sql`SELECT count(*) || ':' || coalesce(max(id), 0) AS k FROM api_keys`));
    return { prints: new Map(rows.map((r) => [r.host_name, r.p])), keys: keys?.k ?? "" };
  }

  private async poll(): Promise<void> {
    if (this.closed) return;
    try {
      const { prints, keys } = await this.readPrints();
      // A key created or revoked may touch any environment (previews inherit keys): everything is re-read.
      if (keys !== this.keysPrint) return await this.sync();
      const changed = [...new Set([...prints.keys(), ...this.prints.keys()])].filter((label) => prints.get(label) !== this.prints.get(label));
      if (changed.length > 0) await this.sync(changed);
    } catch (e) {
      this.o.log("warn", `nginx agent: polling the store failed: ${(e as Error).message}`);
    }
  }

  /** Re-reads from the store what should be served: every environment, or the labels given. */
  private async refresh(todo: Set<string> | "all"): Promise<void> {
    const { records } = this.o;
    const { prints, keys } = await this.readPrints();
    let rows: Awaited<ReturnType<StoreRecords["servingReleases"]>>;
    if (todo === "all") {
      this.prints = prints;
      this.keysPrint = keys;
      this.wanted.clear();
      this.unreadable.clear();
      rows = await records.servingReleases();
    } else {
      rows = [];
      for (const label of todo) {
        const p = prints.get(label);
        if (p === undefined) this.prints.delete(label);
        else this.prints.set(label, p);
        this.wanted.delete(label);
        this.unreadable.delete(label);
        rows.push(...(await records.servingReleases(label)));
      }
    }
    const inherits = new Map<number, string | undefined>();
    for (const r of rows) {
      if (!this.o.kinds.has(r.kind)) continue;
      if (!this.configs.has(r.hash)) this.configs.set(r.hash, readConfig(new Map(Object.entries(r.files))).config);
      const config = this.configs.get(r.hash);
      if (!config) {
        this.unreadable.set(r.label, { releaseHash: r.hash, error: "its stored config no longer reads" });
        continue;
      }
      // A preview gets the values of the environment production's settings name, as the Node gateway does.
      let inherit: { repositoryId: number; name: string } | undefined;
      if (r.kind === "preview") {
        if (!inherits.has(r.repositoryId)) {
          const production = await records.findEnvironment(r.repositoryId, "production");
          const [release] = production ? await records.servingReleases(production.label) : [];
          inherits.set(r.repositoryId, release ? readConfig(new Map(Object.entries(release.files))).config?.settings.previews.inherit : undefined);
        }
        const name = inherits.get(r.repositoryId);
        if (name) inherit = { repositoryId: r.repositoryId, name };
      }
      const values = await records.values(r.environmentId, inherit);
      this.wanted.set(r.label, { label: r.label, kind: r.kind, releaseHash: r.hash, config, values: r.fork ? withoutSecrets(values) : values });
    }
    const live = new Set([...this.wanted.values()].map((e) => e.releaseHash));
    for (const hash of this.configs.keys()) if (!live.has(hash)) this.configs.delete(hash);
  }

  private async syncOnce(): Promise<void> {
    const wanted = new Map(this.wanted);
    const unreadable = this.unreadable;
    // Environments whose release (or values and keys) differ from what nginx serves.
    const changed = [...wanted.values()].filter((e) => {
      const g = this.good.get(e.label);
      return !g || g.releaseHash !== e.releaseHash || JSON.stringify(g.values) !== JSON.stringify(e.values);
    });
    // First the whole wanted set; when nginx refuses it, the changed environments one by one on top
    // of what serves, so one bad release does not hold back the others.
    const refused = new Map<string, { releaseHash: string; error: string }>(unreadable);
    let accepted: Map<string, AgentEnvironment> | undefined;
    let error = await this.tryApply(wanted);
    if (error === undefined) accepted = wanted;
    else if (changed.length > 0) {
      // Start from what serves now, minus what the store no longer lists.
      let base = new Map([...this.good].filter(([label]) => wanted.has(label)));
      const baseError = await this.tryApply(base, true);
      if (baseError === undefined) {
        for (const e of changed) {
          const next = new Map(base).set(e.label, e);
          const why = await this.tryApply(next, true);
          if (why === undefined) base = next;
          else refused.set(e.label, { releaseHash: e.releaseHash, error: why });
        }
        error = await this.tryApply(base);
        if (error === undefined) accepted = base;
      }
    }
    if (!accepted) {
      // Even what served before is refused now (nginx itself changed): keep the running config as it is.
      for (const e of changed) if (!refused.has(e.label)) refused.set(e.label, { releaseHash: e.releaseHash, error: error ?? "refused" });
      this.o.log("error", `nginx agent: nginx refused the configuration; the running one stays: ${error}`);
    } else {
      this.good = accepted;
    }
    for (const [label, r] of refused) this.o.log("warn", `nginx agent: ${label}: release ${r.releaseHash.slice(0, 12)} not applied, the last good one keeps serving: ${r.error}`);
    this.refused = refused;
    await this.report();
  }

  /**
   * Renders a set of environments; unless it is the one already applied, writes it as a generation
   * and tests it. With `dryRun` a generation that passes is discarded again; otherwise it is made
   * current and nginx reloads. Returns nginx's message when it refuses.
   */
  private async tryApply(envs: Map<string, AgentEnvironment>, dryRun = false): Promise<string | undefined> {
    let rendered: ReturnType<RenderAll>;
    try {
      rendered = this.o.render([...envs.values()], this.usagePath);
    } catch (e) {
      return `the nginx configuration could not be rendered: ${(e as Error).message}`;
    }
    const text = JSON.stringify(rendered.files);
    if (text === this.lastFiles && this.o.dir.current()) return undefined;
    const generation = this.o.dir.write(rendered.files);
    const error = await this.o.control.test(generation);
    if (error !== undefined || dryRun) {
      this.o.dir.discard(generation);
      return error;
    }
    this.o.dir.activate(generation);
    await this.o.control.apply();
    this.lastFiles = text;
    this.usageLog?.serve(servedRoutes(envs, rendered.hybridRoutes));
    const hybrid = rendered.hybridRoutes.map((h) => `${h.environment} ${h.route} (${h.reason})`);
    if (JSON.stringify(hybrid) !== JSON.stringify(this.hybrid.map((h) => `${h.environment} ${h.route} (${h.reason})`)) && hybrid.length > 0) this.o.log("info", `nginx agent: ${hybrid.length} route(s) go to the Node gateway behind nginx: ${hybrid.slice(0, 20).join("; ")}${hybrid.length > 20 ? "; ..." : ""}`);
    this.hybrid = rendered.hybridRoutes;
    this.o.log("info", `nginx agent: serving ${envs.size} environment(s) from ${generation}`);
    return undefined;
  }

  /** engine_instances: one row per label this nginx serves or refused. */
  private async report(): Promise<void> {
    const rows = new Map<string, { releaseHash: string | null; lastError: string | null }>();
    for (const [label, e] of this.good) rows.set(label, { releaseHash: e.releaseHash, lastError: null });
    for (const [label, r] of this.refused) rows.set(label, { releaseHash: this.good.get(label)?.releaseHash ?? null, lastError: `nginx refused release ${r.releaseHash.slice(0, 12)}: ${r.error}` });
    try {
      await reportEngine(this.o.store.db, this.o.instanceId, "nginx", rows);
    } catch (e) {
      this.o.log("warn", `nginx agent: reporting what runs failed: ${(e as Error).message}`);
    }
  }

  // Listen before each full read, so no change between the two is missed.
  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.o.databaseUrl, application_name: AGENT_APPLICATION_NAME, connectionTimeoutMillis: 5_000 });
    let lost = false;
    const onLost = (why: string) => {
      if (lost || this.closed) return;
      lost = true;
      this.o.log("warn", `nginx agent: release notifications lost (${why}); reconnecting`);
      client.end().catch(() => {});
      void this.reconnect();
    };
    client.on("error", (e) => onLost(e.message));
    client.on("end", () => onLost("connection ended"));
    // A release changed: its label alone is re-read; a key revoked: everything (previews inherit keys).
    client.on("notification", (n) => void this.sync(n.channel === "gitway_release" && n.payload ? [n.payload] : undefined).catch((e: unknown) => this.o.log("warn", `nginx agent: sync failed: ${(e as Error).message}`)));
    try {
      await client.connect();
      await client.query("LISTEN gitway_release");
      await client.query("LISTEN gitway_key_revoked");
    } catch (e) {
      client.end().catch(() => {});
      throw e;
    }
    this.listener = client;
  }

  private reconnecting = false;
  private async reconnect(): Promise<void> {
    if (this.reconnecting) return;
    this.reconnecting = true;
    for (let delay = 100; !this.closed; delay = Math.min(5_000, delay * 2)) {
      await new Promise((r) => setTimeout(r, delay));
      if (this.closed) break;
      try {
        await this.connect();
        await this.sync();
        this.o.log("info", "nginx agent: listening for releases again; every release re-read");
        break;
      } catch (e) {
        const half = this.listener;
        this.listener = undefined;
        await half?.end().catch(() => {});
        this.o.log("warn", `nginx agent: reconnecting failed (${(e as Error).message}); trying again`);
      }
    }
    this.reconnecting = false;
  }
}

/** Per environment, the routes nginx serves itself (hybrid ones are the Node gateway's to count), as the usage counter names them. */
function servedRoutes(envs: Map<string, AgentEnvironment>, hybrid: ReturnType<RenderAll>["hybridRoutes"]): Map<string, Map<string, CountedRoute>> {
  const handed = new Set(hybrid.map((h) => `${h.environment}\u0000${h.route}`));
  const out = new Map<string, Map<string, CountedRoute>>();
  for (const [label, e] of envs) {
    const routes = new Map<string, CountedRoute>();
    for (const r of e.config.routes) if (!handed.has(`${label}\u0000${r.id}`)) routes.set(r.id, { id: r.id, operation: r.operation.operationId ?? r.id });
    out.set(label, routes);
  }
  return out;
}
