import { readConfig } from "../config/index.js";
import { withoutSecrets, type Deployer } from "../pipeline/index.js";
import type { StoreRecords } from "../store/index.js";

/**
 * Rebuilds the releases the store says are deployed (all, or one label) into a gateway: at start,
 * and in gateway worker processes when a release changes. A preview gets the values and keys of
 * the environment production's settings name under previews.inherit, as when it was deployed. Returns the labels that could not be rebuilt, with why.
 */
export async function restoreReleases(records: StoreRecords, deployer: Deployer, label?: string): Promise<{ restored: string[]; failed: { label: string; reason: string }[] }> {
  const restored: string[] = [];
  const failed: { label: string; reason: string }[] = [];
  // A preview's own settings never choose whose values it gets: production's (the trusted side) do.
  const inheritOf = new Map<number, Promise<string | undefined>>();
  const trustedInherit = (repositoryId: number) => {
    let found = inheritOf.get(repositoryId);
    if (!found) {
      found = (async () => {
        const production = await records.findEnvironment(repositoryId, "production");
        const [release] = production ? await records.servingReleases(production.label) : [];
        return release ? readConfig(new Map(Object.entries(release.files))).config?.settings.previews.inherit : undefined;
      })();
      inheritOf.set(repositoryId, found);
    }
    return found;
  };
  for (const r of await records.servingReleases(label)) {
    const { config } = readConfig(new Map(Object.entries(r.files)));
    if (!config) {
      failed.push({ label: r.label, reason: "its stored config no longer reads" });
      continue;
    }
    const inherits = r.kind === "preview" ? await trustedInherit(r.repositoryId) : undefined;
    const inherit = inherits ? { repositoryId: r.repositoryId, name: inherits } : undefined;
    try {
      const values = await records.values(r.environmentId, inherit);
      // A fork's preview was deployed without secrets; restored, it stays without them.
      // What the store says runs is served as it is: a restore decides nothing, so it is no swap.
      (await deployer.build(r.label, config, r.fork ? withoutSecrets(values) : values)).install();
      restored.push(r.label);
    } catch (e) {
      failed.push({ label: r.label, reason: e instanceof Error ? e.message : String(e) });
    }
  }
  return { restored, failed };
}
