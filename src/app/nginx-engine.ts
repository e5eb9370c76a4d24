import { mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import type { GatewayConfig } from "../config/index.js";
import { ChildNginx, ConfigDir, NginxAgent, OperatorNginx, renderAllWith, testGeneration, type EngineLayout } from "../nginx/index.js";
import { DeployError, type Deployer, type EnvironmentValues } from "../pipeline/index.js";
import type { Store, StoreRecords } from "../store/index.js";
import type { Log } from "./log.js";
import type { AppSettings } from "./settings.js";

type Kind = "preview" | "stage" | "production";

/** The kinds of environment nginx serves: stages and production, and previews with GATEWAY_PREVIEW_ENGINE=nginx. */
export function nginxKinds(settings: Pick<AppSettings, "previewEngine">): Set<Kind> {
  return new Set<Kind>(settings.previewEngine === "nginx" ? ["stage", "production", "preview"] : ["stage", "production"]);
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
export function withNginxPreflight(inner: Deployer, o: { layout: EngineLayout; nginxBin: string; previews: boolean }): Deployer & { close(): void } {
  const root = mkdtempSync(join(tmpdir(), "gitway-nginx-check-"));
  const dir = new ConfigDir(root);
  const render = renderAllWith(o.layout);
  const check = async (label: string, config: GatewayConfig, values: EnvironmentValues) => {
    let files: Record<string, string>;
    try {
      files = render([{ label, kind: "production", releaseHash: "check", config, values }]).files;
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
  };
  return {
    async deploy(label, config, values) {
      // A preview is fenced; only stages and production are (unless previews are too) nginx's.
      if (!values.egress?.fenced || o.previews) await check(label, config, values);
      return inner.deploy(label, config, values);
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
