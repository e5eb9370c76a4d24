import { readConfig, upstreamHostPorts, type GatewayConfig } from "../config/index.js";
import { compileRelease, type EnvironmentSettings, type GatewayServices, type Release } from "./release.js";
import type { GatewayServer } from "./server.js";

/** The `host:port` pairs production's release forwards to with production's values. */
function productionUpstreams(production: { files: Record<string, string>; vars: Record<string, string> }): string[] {
  const { config } = readConfig(new Map(Object.entries(production.files)));
  return config ? upstreamHostPorts(config, production.vars) : [];
}

/** An environment's values as the pipeline hands them over: a preview's fence names production's release. */
export type DeployValues = Omit<EnvironmentSettings, "egress"> & { egress?: { fenced: boolean; production?: { files: Record<string, string>; vars: Record<string, string> } } };

/** Compiles a config for an environment and swaps it into this process's gateway. */
export class GatewayDeployer {
  constructor(
    private readonly gateway: GatewayServer,
    private readonly services: GatewayServices,
  ) {}

  /** Compiles; throws ReleaseError when the environment cannot run this config. Nothing served changes until `install`. */
  async build(label: string, config: GatewayConfig, values: DeployValues): Promise<{ releaseHash: string; release: Release; install: () => void }> {
    // The label, unique across repositories, names the environment inside the release: shared
    // rate-limit counters (Redis) are keyed by it, so two repositories' "production" never meet.
    const { egress, ...rest } = values;
    const release = compileRelease(config, { ...rest, name: label, ...(egress ? { egress: { fenced: egress.fenced, trusted: egress.production ? productionUpstreams(egress.production) : [] } } : {}) }, this.services);
    return { releaseHash: release.hash, release, install: () => this.gateway.deploy(label, release) };
  }

  async remove(label: string): Promise<void> {
    this.gateway.remove(label);
  }
}
