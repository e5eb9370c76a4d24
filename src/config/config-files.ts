/**
 * Which files of a commit are config, and how much of one Gitway reads: one rule for the GitHub
 * App (the API's tree), the Git mode (a mirror's commit) and the CLI (a revision or a directory),
 * so the three never read one commit differently.
 */

/** Only JSON and YAML can be config or be reached by a $ref. */
const CONFIG_EXTENSION = /\.(json|ya?ml)$/i;
/** Dependencies, Git's own files and CI workflows are never config, whatever their extension. */
const SKIPPED = /(^|\/)(node_modules|\.git)\/|^\.github\/workflows\//;

export function isConfigPath(path: string): boolean {
  return CONFIG_EXTENSION.test(path) && !SKIPPED.test(path);
}

export interface ConfigReadLimits {
  /** GITWAY_MAX_CONFIG_FILES: more config files than this in a commit and it is not read. */
  maxFiles: number;
  /** GITWAY_MAX_CONFIG_BYTES: the config files to load, added up. */
  maxTotalBytes: number;
  /** GITWAY_MAX_FILE_BYTES: a file over it is listed by size, not loaded (a file-too-large diagnostic). */
  maxFileBytes: number;
  /** GITWAY_READ_TIMEOUT_SECONDS, in ms: one commit's read, whole. */
  timeoutMs: number;
}

export const DEFAULT_CONFIG_READ_LIMITS: ConfigReadLimits = { maxFiles: 500, maxTotalBytes: 64 * 1024 * 1024, maxFileBytes: 32 * 1024 * 1024, timeoutMs: 60_000 };

/** A bare number is the per-file cap (GITWAY_MAX_FILE_BYTES / --max-file-bytes), the rest the defaults. */
export function configReadLimits(limits: number | Partial<ConfigReadLimits> = {}): ConfigReadLimits {
  return { ...DEFAULT_CONFIG_READ_LIMITS, ...(typeof limits === "number" ? { maxFileBytes: limits } : limits) };
}

/** A commit whose config is over a limit, or whose read took too long: the check says which. */
export class ConfigReadError extends Error {
  constructor(
    readonly code: "CONFIG_TOO_MANY_FILES" | "CONFIG_TOO_LARGE" | "CONFIG_READ_TIMEOUT",
    message: string,
    /** The setting that raises the limit. */
    readonly setting: string,
  ) {
    super(message);
    this.name = "ConfigReadError";
  }
}

/**
 * The config files among a commit's entries, split into those to load and those listed by size
 * only; throws ConfigReadError when there are too many or the ones to load are too large together.
 */
export function selectConfigFiles<E extends { path: string; size: number }>(entries: readonly E[], limits: ConfigReadLimits, what: string): { load: E[]; oversized: E[] } {
  const config = entries.filter((e) => isConfigPath(e.path));
  if (config.length > limits.maxFiles) throw new ConfigReadError("CONFIG_TOO_MANY_FILES", `${what} holds ${config.length} JSON/YAML files, more than the ${limits.maxFiles} Gitway reads (GITWAY_MAX_CONFIG_FILES); keep the gateway config in a smaller repository or raise the limit`, "GITWAY_MAX_CONFIG_FILES");
  const load = config.filter((e) => e.size <= limits.maxFileBytes);
  const total = load.reduce((n, e) => n + e.size, 0);
  if (total > limits.maxTotalBytes) throw new ConfigReadError("CONFIG_TOO_LARGE", `the JSON/YAML files of ${what} add up to ${formatBytesShort(total)}, over the ${formatBytesShort(limits.maxTotalBytes)} Gitway reads (GITWAY_MAX_CONFIG_BYTES)`, "GITWAY_MAX_CONFIG_BYTES");
  return { load, oversized: config.filter((e) => e.size > limits.maxFileBytes) };
}

function formatBytesShort(n: number): string {
  return n >= 1024 * 1024 ? `${(n / (1024 * 1024)).toFixed(1)} MiB` : `${n} bytes`;
}

/** `read`, given up (ConfigReadError) after the limits' timeout; `abort` is told so it can stop its work. */
export async function withReadTimeout<T>(read: Promise<T>, limits: ConfigReadLimits, what: string, abort?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abort?.();
      reject(new ConfigReadError("CONFIG_READ_TIMEOUT", `reading the config of ${what} took over ${limits.timeoutMs / 1000} s (GITWAY_READ_TIMEOUT_SECONDS)`, "GITWAY_READ_TIMEOUT_SECONDS"));
    }, limits.timeoutMs);
  });
  try {
    return await Promise.race([read, late]);
  } finally {
    clearTimeout(timer);
  }
}
