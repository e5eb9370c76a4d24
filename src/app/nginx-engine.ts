import { mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import type { GatewayConfig } from "../config/index.js";
import { ChildNginx, ConfigDir, NginxAgent, OperatorNginx, renderAllWith, testGeneration, type EngineLayout } from "../nginx/index.js";
import { DeployError, type Deployer, type EnvironmentValues, type HybridRoute } from "../pipeline/index.js";
import type { Store, StoreRecords } from "../store/index.js";
import type { Log } from "./log.js";
import type { UsageCounter } from "../gateway/index.js";
import type { AppSettings } from "./settings.js";

type Kind = "preview" | "stage" | "production";

/** The kinds of environment nginx serves: stages and production. Previews stay on the Node gateway, which holds their upstreams to the egress rules. */
export function nginxKinds(): Set<Kind> {
  return new Set<Kind>(["stage", "production"]);
}

export interface EngineOptions {
  store: Store;
  databaseUrl: string | undefined;
  records: StoreRecords;
  layout: EngineLayout;
  kinds: Set<Kind>;
  configDir: string;
  nginxBin: string;
  /** An operator's nginx: run this after each tested generation instead of running nginx as a child. */
  reloadCommand?: string;
  instanceId?: string;
  log: Log;
  /** The process's usage counter: calls nginx serves itself are counted in it, beside the Node gateway's. */
  usage?: UsageCounter;
}

/** Starts a gateway agent (and its nginx, unless the operator reloads their own): `npm start` and `gitway gateway-agent`. */
export async function startNginxEngine(o: EngineOptions): Promise<NginxAgent> {
  const dir = new ConfigDir(o.configDir);
  const control = o.reloadCommand ? new OperatorNginx(o.nginxBin, dir, o.reloadCommand) : new ChildNginx(o.nginxBin, dir, o.log);
  const agent = new NginxAgent({
    store: o.store,
    databaseUrl: o.databaseUrl,
    records: o.records,
    dir,
    control,
    render: renderAllWith(o.layout),
    kinds: o.kinds,
    instanceId: o.instanceId ?? `${hostname()}:${o.layout.listen.port}`,
    log: o.log,
    ...(o.usage ? { usage: o.usage } : {}),
  });
  try {
    await agent.start();
  } catch (e) {
    await agent.close().catch(() => {});
    throw e;
  }
  return agent;
}

/**
 * Before a release of an nginx-served environment is accepted, nginx itself tests it (rendered
 * alone, in a scratch folder): a configuration nginx refuses fails the deployment with nginx's own
 * message, and the last good release keeps serving everywhere. Previews on the Node gateway skip it.
 */
export function withNginxPreflight(inner: Deployer, o: { layout: EngineLayout; nginxBin: string }): Deployer & { close(): void } {
  const root = mkdtempSync(join(tmpdir(), "gitway-nginx-check-"));
  const dir = new ConfigDir(root);
  const render = renderAllWith(o.layout);
  const check = async (label: string, config: GatewayConfig, values: EnvironmentValues): Promise<HybridRoute[]> => {
    let files: Record<string, string>;
    let hybridRoutes: HybridRoute[];
    try {
      const rendered = render([{ label, kind: "production", releaseHash: "check", config, values }]);
      files = rendered.files;
      // The same render the agent makes decides which routes nginx hands to the Node gateway: the deploy output says so.
      hybridRoutes = rendered.hybridRoutes.map(({ route, reason }) => ({ route, reason }));
    } catch (e) {
      throw new DeployError("UNSUPPORTED", `nginx cannot serve this release: ${(e as Error).message}`);
    }
    const generation = dir.write(files);
    try {
      const refused = await testGeneration(o.nginxBin, dir, generation);
      if (refused) throw new DeployError("UNSUPPORTED", `nginx refused the release: ${refused}`);
    } finally {
      dir.discard(generation);
    }
    return hybridRoutes;
  };
  return {
    async build(label, config, values) {
      // A preview is fenced and stays on the Node gateway; only stages and production are nginx's.
      if (values.egress?.fenced) return inner.build(label, config, values);
      const hybridRoutes = await check(label, config, values);
      return { ...(await inner.build(label, config, values)), hybridRoutes };
    },
    remove: (label) => inner.remove(label),
    close: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** NGINX_CONFIG_DIR, else `nginx/` in the data folder (a temporary folder with an in-memory store). */
export function nginxConfigDir(settings: Pick<AppSettings, "nginx" | "dataDir">): { path: string; temporary: boolean } {
  if (settings.nginx.configDir) return { path: settings.nginx.configDir, temporary: false };
  if (settings.dataDir.startsWith("memory://")) return { path: mkdtempSync(join(tmpdir(), "gitway-nginx-")), temporary: true };
  return { path: join(settings.dataDir, "nginx"), temporary: false };
}

export interface AgentCommandOptions {
  configDir: string;
  /** Where nginx listens: `port` or `address:port`. */
  listen: { port: number; address?: string };
  nodeGatewayUrl: string;
  reloadCommand?: string;
  nginxBin: string;
  instanceId?: string;
  env: Record<string, string | undefined>;
  log: Log;
}

/**
 * `gitway gateway-agent`: one agent beside one nginx of a fleet, following the PostgreSQL every
 * Gitway process shares. It decrypts `$env` secrets with GITWAY_SECRET_KEY (upstream URLs may use
 * them); previews stay on the Node gateway (GATEWAY_PREVIEW_ENGINE=nginx is refused).
 */
export async function runGatewayAgent(o: AgentCommandOptions): Promise<{ agent: NginxAgent; close: () => Promise<void> }> {
  const { environmentLabel, UsageCounter } = await import("../gateway/index.js");
  const { openStore, migrateStore, secretKeyFrom, StoreRecords, addUsage } = await import("../store/index.js");
  const { UsageFlusher } = await import("./usage-flusher.js");
  const { SettingsError } = await import("./settings.js");
  const databaseUrl = o.env.DATABASE_URL;
  if (!databaseUrl || !/^postgres(ql)?:\/\//.test(databaseUrl)) throw new SettingsError("DATABASE_URL", "a gateway agent follows the PostgreSQL the Gitway app uses: set DATABASE_URL to its postgres:// URL (PGlite is one process's database)");
  const previews = o.env.GATEWAY_PREVIEW_ENGINE || "node";
  if (previews !== "node" && previews !== "nginx") throw new SettingsError("GATEWAY_PREVIEW_ENGINE", `must be node or nginx, not "${previews}"`);
  if (previews === "nginx") throw new SettingsError("GATEWAY_PREVIEW_ENGINE", "previews stay on the Node gateway: nginx cannot hold a preview to the egress rules (GITWAY_UPSTREAM_ALLOW) for the upstreams a pull request names");
  let secretKey: Buffer | undefined;
  try {
    secretKey = o.env.GITWAY_SECRET_KEY ? secretKeyFrom(o.env.GITWAY_SECRET_KEY) : undefined;
  } catch (e) {
    throw new SettingsError("GITWAY_SECRET_KEY", (e as Error).message.replace(/^GITWAY_SECRET_KEY /, ""));
  }
  const baseDomain = (o.env.GATEWAY_BASE_DOMAIN || `localhost:${o.listen.port}`).toLowerCase();
  const store = await openStore({ databaseUrl, poolSize: 2 });
  try {
    await migrateStore(store);
    const records = new StoreRecords(store.db, { label: environmentLabel, url: (label) => `http://${label}.${baseDomain}/` }, secretKey);
    // The calls nginx serves itself are this process's to count and flush (the Node gateway behind it counts its own).
    const usage = new UsageCounter();
    const flusher = new UsageFlusher({ counter: usage, write: (rows) => addUsage(store.db, rows), log: o.log });
    const agent = await startNginxEngine({
      usage,
      store,
      databaseUrl,
      records,
      layout: { listen: o.listen, nodeGatewayUrl: o.nodeGatewayUrl, baseDomain },
      kinds: nginxKinds(),
      configDir: o.configDir,
      nginxBin: o.nginxBin,
      ...(o.reloadCommand ? { reloadCommand: o.reloadCommand } : {}),
      ...(o.instanceId ? { instanceId: o.instanceId } : {}),
      log: o.log,
    });
    o.log("info", `gateway agent: nginx ${o.reloadCommand ? "(the operator's)" : "(its child)"} serves ${[...nginxKinds()].join(", ")} on ${o.listen.address ?? "*"}:${o.listen.port} from ${o.configDir}; hybrid routes go to ${o.nodeGatewayUrl}`);
    flusher.start();
    return { agent, close: async () => (await agent.close(), await flusher.stop(), await store.close()) };
  } catch (e) {
    await store.close();
    throw e;
  }
}
