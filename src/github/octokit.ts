import type { Probot } from "probot";

/** An installation's authenticated client, as Probot builds it (retry and throttling plugins on). */
export type Octokit = Awaited<ReturnType<Probot["auth"]>>;

export interface RepoId {
  owner: string;
  repo: string;
}
