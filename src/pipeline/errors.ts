/** Why a release was not deployed to an environment. Callers match on `code`; the message is safe to show. */
export type DeployErrorCode = "ENV_VARIABLE_MISSING" | "FORK_SECRETS" | "UNSUPPORTED" | "UPSTREAM_NOT_ALLOWED" | "INTERNAL";

export class DeployError extends Error {
  constructor(
    readonly code: DeployErrorCode,
    message: string,
    /** The config line the refusal is about, when known (an upstream a preview may not reach). */
    readonly where?: { file: string; line: number },
  ) {
    super(message);
    this.name = "DeployError";
  }
}
