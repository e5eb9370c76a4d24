/** Why a config cannot become a release for an environment. Callers match on `code`. */
export type ReleaseErrorCode = "ENV_VARIABLE_MISSING" | "UNSUPPORTED" | "INVALID_CONFIG" | "UPSTREAM_NOT_ALLOWED";

export class ReleaseError extends Error {
  constructor(
    readonly code: ReleaseErrorCode,
    message: string,
    /** Where in the config, when known: "config/routes.oas.json /paths/..". */
    readonly where?: string,
  ) {
    super(message);
    this.name = "ReleaseError";
  }
}
