/** Why a release was not deployed to an environment. Callers match on `code`; the message is safe to show. */
export type DeployErrorCode = "ENV_VARIABLE_MISSING" | "FORK_SECRETS" | "UNSUPPORTED" | "UPSTREAM_NOT_ALLOWED" | "INTERNAL";

export class DeployError extends Error {
  constructor(
    readonly code: DeployErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "DeployError";
  }
}
