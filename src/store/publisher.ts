import type { Db } from "./db.js";
import { checkResults } from "./schema.js";

interface Outcome {
  name: string;
  conclusion: string;
  title: string;
  summary: string;
  details?: Record<string, unknown>;
  annotations?: unknown[];
}

/**
 * The Git mode's publisher: what GitHub would show as check runs is kept in the store, where the
 * admin API and the dashboard read it. Deployments are already recorded by the pipeline.
 */
export class StorePublisher {
  constructor(
    private readonly db: Db,
    private readonly repositoryId: number,
  ) {}

  async started(): Promise<void> {}

  async finished(sha: string, outcome: Outcome): Promise<void> {
    await this.db.insert(checkResults).values({
      repositoryId: this.repositoryId,
      commitSha: sha,
      name: outcome.name,
      conclusion: outcome.conclusion,
      title: outcome.title,
      summary: outcome.summary,
      details: { ...(outcome.details ?? {}), ...(outcome.annotations ? { annotations: outcome.annotations } : {}) },
    });
  }

  async deploying(): Promise<void> {}
  async deployed(): Promise<void> {}
  async retired(): Promise<void> {}
  async comment(): Promise<void> {}
}
