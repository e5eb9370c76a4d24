import type { GatewayConfig } from "../config/index.js";
import { compileRelease, type EnvironmentSettings, type GatewayServices, type Release } from "./release.js";
import type { GatewayServer } from "./server.js";

/** Compiles a config for an environment and swaps it into this process's gateway. */
export class GatewayDeployer {
  constructor(
    private readonly gateway: GatewayServer,
    private readonly services: GatewayServices,
  ) {}

  /** Throws ReleaseError when the environment cannot run this config; the old release keeps serving. */
  async deploy(label: string, config: GatewayConfig, values: EnvironmentSettings): Promise<{ releaseHash: string; release: Release }> {
    // The label, unique across repositories, names the environment inside the release: shared
    // rate-limit counters (Redis) are keyed by it, so two repositories' "production" never meet.
    const release = compileRelease(config, { ...values, name: label }, this.services);
    this.gateway.deploy(label, release);
    return { releaseHash: release.hash, release };
  }

  async remove(label: string): Promise<void> {
    this.gateway.remove(label);
  }
}
