import type { GatewayConfig } from "../config/index.js";
import type { Deployer, DeploymentRecord, EnvironmentValues, Fence, HybridRoute, Records } from "./ports.js";

/**
 * The one way a release comes to run in an environment, for jobs and operators alike: inside the
 * environment's turn (no other swap of it runs, in any process on the store), 1. the fence (a job
 * still holds its lease and nothing newer waits); 2. what to build, read afresh (the release that
 * runs now, today's values and keys); 3. compile; 4. record it through the compare-and-set of its
 * guard; 5. only then serve it. The gateway and the store so always agree, and an older release
 * never replaces one given after it.
 */
export interface SwapPorts {
  deployer: Deployer;
  records: Pick<Records, "recordDeployment" | "exclusive">;
  /** How long a swap waits for the environment's turn (default 30 s): another swap stuck holds it. */
  turnWaitMs?: number;
}

/** The environment's turn did not come in time: nothing was built or swapped. */
export class EnvironmentBusyError extends Error {
  readonly code = "ENVIRONMENT_BUSY";
}

export interface SwapPlan {
  config: GatewayConfig;
  values: EnvironmentValues;
  record: Omit<DeploymentRecord, "environmentId" | "releaseHash" | "outcome" | "error">;
}

export type SwapResult = { swapped: true; releaseHash: string; hybridRoutes?: HybridRoute[] } | { swapped: false; reason: "superseded" | "pinned" | "nothing-to-build" };

/** `plan` runs inside the turn and may throw (a DeployError says why nothing was built); so may the build. */
export async function swapRelease(ports: SwapPorts, environment: { id: number; label: string }, plan: () => Promise<SwapPlan | undefined>, fence?: Fence): Promise<SwapResult> {
  let started = false;
  let gaveUp = false;
  const turn = ports.records.exclusive(environment.id, async (): Promise<SwapResult> => {
    if (gaveUp) return { swapped: false, reason: "superseded" };
    started = true;
    if (fence && !(await fence())) return { swapped: false, reason: "superseded" };
    const what = await plan();
    if (!what) return { swapped: false, reason: "nothing-to-build" };
    const built = await ports.deployer.build(environment.label, what.config, what.values);
    const hybrid = built.hybridRoutes?.length ? { hybridRoutes: built.hybridRoutes } : {};
    const recorded = await ports.records.recordDeployment({ ...what.record, ...hybrid, environmentId: environment.id, releaseHash: built.releaseHash, outcome: "succeeded" });
    if (recorded !== "recorded") return { swapped: false, reason: recorded };
    built.install();
    return { swapped: true, releaseHash: built.releaseHash, ...hybrid };
  });
  const waitMs = ports.turnWaitMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  // Once its turn has come, a swap is waited for to its end: giving up then could leave it half told.
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      if (started) return;
      gaveUp = true;
      turn.catch(() => {});
      reject(new EnvironmentBusyError(`${environment.label} is being changed by another deployment that did not end within ${waitMs / 1000} s; nothing was deployed`));
    }, waitMs);
  });
  try {
    return await Promise.race([turn, late]);
  } finally {
    clearTimeout(timer);
  }
}
