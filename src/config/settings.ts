import type { ValidateFunction } from "ajv";
import type { Diagnostic } from "./diagnostics.js";
import type { DocumentSet } from "./documents.js";
import { explainAjvError, pickAjvErrors } from "./ajv-errors.js";
import { isObject } from "./model.js";
import { schemaValidator } from "./options-schema.js";
import { closest } from "./builtins.js";
import { joinPointer } from "./pointer.js";

export const SETTINGS_PATH = ".github/gitway.yml";

export type ChangeLevelOverride = "breaking" | "warning" | "info" | "off";

/** A repository's `.github/gitway.yml`, with defaults filled in. */
export interface RepoSettings {
  /** The plain OpenAPI document (second format); found at the root when not set. */
  openapi: string | undefined;
  /** Folder holding `*.oas.json` route files and `policies.json`. */
  configDir: string;
  diff: {
    /** rule id -> level, or "off". */
    severity: Record<string, ChangeLevelOverride>;
    /** Known changes accepted by fingerprint, each with the reason a reviewer gave. */
    ignore: { fingerprint: string; reason: string }[];
    /** Breaking changes are accepted when info.version's major number went up. */
    allowBreakingOnMajorVersion: boolean;
    /** Days of production traffic a breaking change's impact is counted over. */
    impactDays: number;
    /** Whether the impact names the consumers (false: counts only). */
    impactNames: boolean;
  };
  /** Where the config is promoted: stages in order, then production. */
  production: {
    /** The branch production follows; undefined: the repository's default branch. */
    branch: string | undefined;
    /** Production is updated only when every breaking change was approved on a pull request. */
    requireApproval: boolean;
  };
  /** Environments promoted before production, in order (`staging`). */
  stages: string[];
  checks: {
    /** What unapproved breaking changes make the changes check: `failure` (blocks a protected branch) or `neutral`. */
    breaking: "failure" | "neutral";
  };
  /** The least repository permission that may approve breaking changes. */
  approvals: { permission: ApprovalPermission };
  /** Whether the one pull-request comment is posted. */
  comment: boolean;
  previews: {
    /** Branch patterns (`*` within a segment, `**` across) that get a `branch-<slug>` preview; default none. */
    branches: string[];
    /** A preview takes `$env` values and API consumers from this environment (overlaid by its own). */
    inherit: string | undefined;
    /** Pull requests from forks: previewed once a maintainer presses Deploy preview, always, or never. */
    forks: ForkPolicy;
    /** After a preview is deployed, its description's examples are replayed through it (Gitway / smoke). */
    smoke: SmokeSettings;
  };
}

/** `previews.smoke`: on by default; `off` turns it off; the limits are capped at the defaults. */
export interface SmokeSettings {
  enabled: boolean;
  /** Requests sent to one preview at most (1 to 50). */
  maxRequests: number;
  /** The whole smoke test of one preview ends after this many seconds (1 to 30). */
  timeoutSeconds: number;
  /** Operations whose method is not safe (anything but GET, HEAD, OPTIONS) are replayed too. */
  unsafe: boolean;
}

export const SMOKE_LIMITS = { maxRequests: 50, timeoutSeconds: 30 } as const;

/**
 * The consumer whose key a smoke test mints and revokes: reserved (no operator may create it), and
 * left out of a release's content hash, so a preview's release id does not change with each test.
 */
export const SMOKE_CONSUMER = "gitway-smoke";

export const FORK_POLICIES = ["off", "approve", "auto"] as const;
/** In order from closed to open: a change to a later one loosens the gate. */
export type ForkPolicy = (typeof FORK_POLICIES)[number];

export const APPROVAL_PERMISSIONS = ["read", "triage", "write", "maintain", "admin"] as const;
export type ApprovalPermission = (typeof APPROVAL_PERMISSIONS)[number];

export const DEFAULT_SETTINGS: RepoSettings = {
  openapi: undefined,
  configDir: "config",
  diff: { severity: {}, ignore: [], allowBreakingOnMajorVersion: false, impactDays: 30, impactNames: true },
  production: { branch: undefined, requireApproval: false },
  stages: [],
  checks: { breaking: "failure" },
  approvals: { permission: "write" },
  comment: true,
  previews: { branches: [], inherit: undefined, forks: "approve", smoke: { enabled: true, ...SMOKE_LIMITS, unsafe: false } },
};

/** An environment name that fits a DNS label once slugged: stages must not collide with previews. */
const ENV_NAME = "^(?!pr-|branch-)[a-z][a-z0-9-]{0,30}$";

const schema = {
  type: "object",
  additionalProperties: false,
  properties: {
    openapi: { type: "string", minLength: 1 },
    configDir: { type: "string", minLength: 1 },
    production: {
      type: "object",
      additionalProperties: false,
      properties: { branch: { type: "string", minLength: 1 }, requireApproval: { type: "boolean" } },
    },
    stages: { type: "array", uniqueItems: true, maxItems: 10, items: { type: "string", pattern: ENV_NAME, not: { const: "production" } } },
    checks: { type: "object", additionalProperties: false, properties: { breaking: { enum: ["failure", "neutral"] } } },
    approvals: { type: "object", additionalProperties: false, properties: { permission: { enum: [...APPROVAL_PERMISSIONS] } } },
    comment: { type: "boolean" },
    previews: {
      type: "object",
      additionalProperties: false,
      properties: {
        branches: { type: "array", maxItems: 50, items: { type: "string", minLength: 1 } },
        inherit: { type: "string", pattern: "^[a-z][a-z0-9-]{0,30}$" },
        forks: { enum: [...FORK_POLICIES] },
        // `off`, or the limits: if/then/else so that a mistake is told for the form it was meant as.
        smoke: {
          if: { type: "string" },
          then: { enum: ["off"] },
          else: {
            type: "object",
            additionalProperties: false,
            properties: {
              maxRequests: { type: "integer", minimum: 1, maximum: SMOKE_LIMITS.maxRequests },
              timeoutSeconds: { type: "integer", minimum: 1, maximum: SMOKE_LIMITS.timeoutSeconds },
              unsafe: { type: "boolean" },
            },
          },
        },
      },
    },
    diff: {
      type: "object",
      additionalProperties: false,
      properties: {
        severity: { type: "object", additionalProperties: { enum: ["breaking", "warning", "info", "off"] } },
        ignore: {
          type: "array",
          items: { type: "object", additionalProperties: false, required: ["fingerprint", "reason"], properties: { fingerprint: { type: "string", minLength: 1 }, reason: { type: "string", minLength: 1 } } },
        },
        allowBreakingOnMajorVersion: { type: "boolean" },
        // Usage is kept GITWAY_USAGE_DAYS (90 by default); a longer window could only show less than it says.
        impactDays: { type: "integer", minimum: 1, maximum: 90 },
        impactNames: { type: "boolean" },
      },
    },
  },
};
/** Compiled when a settings file is first read, not when the module loads. */
let compiledSettings: ValidateFunction | undefined;

export function readSettings(docs: DocumentSet): { settings: RepoSettings; diagnostics: Diagnostic[] } {
  if (!docs.has(SETTINGS_PATH)) return { settings: DEFAULT_SETTINGS, diagnostics: [] };
  const file = docs.get(SETTINGS_PATH);
  if (!file) return { settings: DEFAULT_SETTINGS, diagnostics: [] };
  const value = file.value ?? {};
  readFingerprintsAsText(docs, value);
  const validate = (compiledSettings ??= schemaValidator(schema));
  if (!validate(value)) {
    const diagnostics = pickAjvErrors(validate.errors ?? []).map((e) => {
      const { pointer, part, message } = explainAjvError(e, "");
      return docs.at("settings-invalid", message.replace(/^The document/, "gitway.yml"), { file: SETTINGS_PATH, pointer }, part);
    });
    return { settings: DEFAULT_SETTINGS, diagnostics };
  }
  const v = value as Record<string, unknown>;
  const diff = isObject(v.diff) ? v.diff : {};
  return {
    settings: {
      openapi: typeof v.openapi === "string" ? v.openapi.replace(/^\.\//, "") : undefined,
      configDir: typeof v.configDir === "string" ? v.configDir.replace(/^\.\//, "").replace(/\/$/, "") : "config",
      diff: {
        severity: (diff.severity as Record<string, ChangeLevelOverride> | undefined) ?? {},
        ignore: (diff.ignore as { fingerprint: string; reason: string }[] | undefined) ?? [],
        allowBreakingOnMajorVersion: diff.allowBreakingOnMajorVersion === true,
        impactDays: typeof diff.impactDays === "number" ? diff.impactDays : DEFAULT_SETTINGS.diff.impactDays,
        impactNames: diff.impactNames !== false,
      },
      ...promotionSettings(v),
    },
    diagnostics: [],
  };
}

type PromotionSettings = Pick<RepoSettings, "production" | "stages" | "checks" | "approvals" | "comment" | "previews">;

/** The keys the GitHub App and the Git poller act on; the schema above has checked their types. */
function promotionSettings(v: Record<string, unknown>): PromotionSettings {
  const d = DEFAULT_SETTINGS;
  const production = isObject(v.production) ? v.production : {};
  const checks = isObject(v.checks) ? v.checks : {};
  const approvals = isObject(v.approvals) ? v.approvals : {};
  const previews = isObject(v.previews) ? v.previews : {};
  return {
    production: { branch: (production.branch as string | undefined) ?? d.production.branch, requireApproval: production.requireApproval === true },
    stages: (v.stages as string[] | undefined) ?? d.stages,
    checks: { breaking: (checks.breaking as "failure" | "neutral" | undefined) ?? d.checks.breaking },
    approvals: { permission: (approvals.permission as ApprovalPermission | undefined) ?? d.approvals.permission },
    comment: v.comment !== false,
    previews: {
      branches: (previews.branches as string[] | undefined) ?? d.previews.branches,
      inherit: previews.inherit as string | undefined,
      forks: (previews.forks as ForkPolicy | undefined) ?? d.previews.forks,
      smoke: smokeSettings(previews.smoke),
    },
  };
}

function smokeSettings(v: unknown): SmokeSettings {
  const d = DEFAULT_SETTINGS.previews.smoke;
  if (v === "off") return { ...d, enabled: false };
  const o = isObject(v) ? v : {};
  return { enabled: true, maxRequests: (o.maxRequests as number | undefined) ?? d.maxRequests, timeoutSeconds: (o.timeoutSeconds as number | undefined) ?? d.timeoutSeconds, unsafe: o.unsafe === true };
}

/**
 * A fingerprint is 12 hex digits, and some are all digits (or digits with one "e"): YAML reads
 * those unquoted as numbers, losing leading zeros or turning 123e45678901 into 1.23e+47. The
 * written text is what the user meant, so it is taken from the file, not from the parsed number.
 */
function readFingerprintsAsText(docs: DocumentSet, value: unknown): void {
  if (!isObject(value) || !isObject(value.diff) || !Array.isArray(value.diff.ignore)) return;
  const raw = docs.snapshot.get(SETTINGS_PATH);
  const text = typeof raw === "string" ? raw : raw instanceof Uint8Array ? new TextDecoder().decode(raw) : "";
  const lines = text.split(/\r?\n/);
  value.diff.ignore.forEach((entry: unknown, i: number) => {
    if (!isObject(entry) || typeof entry.fingerprint !== "number") return;
    const at = docs.locate({ file: SETTINGS_PATH, pointer: `/diff/ignore/${i}/fingerprint` });
    const token = /^[^\s#,}\]]+/.exec(lines[at.line - 1]?.slice(at.column - 1) ?? "")?.[0];
    entry.fingerprint = token ?? String(entry.fingerprint);
  });
}

/**
 * `diff.severity` keys that are not change rules, each with the nearest rule id: an unknown id
 * would silently do nothing. The rule ids belong to the diff stage, which passes them in.
 */
export function unknownSeverityRules(docs: DocumentSet, settings: RepoSettings, ruleIds: readonly string[]): Diagnostic[] {
  const known = new Set(ruleIds);
  return Object.keys(settings.diff.severity)
    .filter((id) => !known.has(id))
    .map((id) => {
      const hint = closest(id, ruleIds);
      const message = `diff.severity names "${id}", which is not a change rule${hint ? `; did you mean "${hint}"?` : " (the README lists them under Change rules)"}`;
      return docs.at("settings-invalid", message, { file: SETTINGS_PATH, pointer: joinPointer("/diff/severity", id) }, "key");
    });
}
