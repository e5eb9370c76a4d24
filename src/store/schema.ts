import { sql } from "drizzle-orm";
import { bigint, bigserial, boolean, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";

const created = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();

export const installations = pgTable("installations", {
  id: bigint("id", { mode: "number" }).primaryKey(),
  account: text("account").notNull(),
  createdAt: created(),
});

export const repositories = pgTable(
  "repositories",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    installationId: bigint("installation_id", { mode: "number" }).references(() => installations.id),
    owner: text("owner").notNull(),
    name: text("name").notNull(),
    /** A GitHub repository, or a plain Git remote polled by the embedded mode. */
    source: text("source").notNull().default("github"),
    remoteUrl: text("remote_url"),
    defaultBranch: text("default_branch").notNull().default("main"),
    createdAt: created(),
  },
  (t) => [uniqueIndex("repositories_owner_name").on(t.owner, t.name)],
);

/** Immutable compiled bundles: never updated, found by content hash. */
export const releases = pgTable(
  "releases",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    repositoryId: bigint("repository_id", { mode: "number" }).notNull().references(() => repositories.id),
    contentHash: text("content_hash").notNull(),
    commitSha: text("commit_sha").notNull(),
    bundle: jsonb("bundle").notNull(),
    createdAt: created(),
  },
  (t) => [uniqueIndex("releases_repository_hash").on(t.repositoryId, t.contentHash)],
);

export const environments = pgTable(
  "environments",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    repositoryId: bigint("repository_id", { mode: "number" }).notNull().references(() => repositories.id),
    name: text("name").notNull(),
    kind: text("kind", { enum: ["preview", "stage", "production"] }).notNull(),
    branch: text("branch"),
    pullRequest: integer("pull_request"),
    hostName: text("host_name").notNull(),
    desiredReleaseId: bigint("desired_release_id", { mode: "number" }).references(() => releases.id),
    deployedReleaseId: bigint("deployed_release_id", { mode: "number" }).references(() => releases.id),
    /** Order of the commit deployed; a deployment of an older commit may not replace a newer one. */
    deployedCommitOrder: bigint("deployed_commit_order", { mode: "number" }),
    status: text("status", { enum: ["pending", "deploying", "ready", "failed", "torn-down"] }).notNull().default("pending"),
    lastError: text("last_error"),
    /** The commit of the deployed release (what the gateway serves). */
    deployedCommitSha: text("deployed_commit_sha"),
    /** A rollback pins the environment to a release; newer commits wait until it is unpinned. */
    pinnedReleaseId: bigint("pinned_release_id", { mode: "number" }).references(() => releases.id),
    /** Report drift and new commits, but never deploy by itself. */
    reportOnly: boolean("report_only").notNull().default(false),
    /** A pull request from a fork: its preview never receives secret values, also when restored at start. */
    fork: boolean("fork").notNull().default(false),
    /** The last push or pull-request update; previews without one for long expire. */
    lastActivityAt: timestamp("last_activity_at", { withTimezone: true }).notNull().defaultNow(),
    createdAt: created(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("environments_repository_name").on(t.repositoryId, t.name), uniqueIndex("environments_host_name").on(t.hostName)],
);

export const deployments = pgTable(
  "deployments",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    environmentId: bigint("environment_id", { mode: "number" }).notNull().references(() => environments.id),
    releaseId: bigint("release_id", { mode: "number" }).notNull().references(() => releases.id),
    trigger: text("trigger").notNull(),
    actor: text("actor").notNull(),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    outcome: text("outcome", { enum: ["running", "succeeded", "failed", "superseded"] }).notNull().default("running"),
    error: text("error"),
    commitSha: text("commit_sha"),
    /** The change report against the release before it, and the diagnostics: what the dashboard shows. */
    report: jsonb("report"),
  },
  (t) => [index("deployments_environment").on(t.environmentId, t.startedAt)],
);

/** One row per X-GitHub-Delivery: a redelivered webhook finds its row and enqueues nothing. */
export const webhookDeliveries = pgTable("webhook_deliveries", {
  deliveryId: text("delivery_id").primaryKey(),
  event: text("event").notNull(),
  receivedAt: timestamp("received_at", { withTimezone: true }).notNull().defaultNow(),
});

/** Append-only: rows are inserted, never updated or deleted (a trigger enforces it). */
export const auditLog = pgTable(
  "audit_log",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    actor: text("actor").notNull(),
    action: text("action").notNull(),
    environmentId: bigint("environment_id", { mode: "number" }).references(() => environments.id),
    commitSha: text("commit_sha"),
    approval: text("approval"),
    details: jsonb("details").notNull().default(sql`'{}'::jsonb`),
  },
  (t) => [index("audit_log_environment").on(t.environmentId, t.at)],
);

/** `$env` values per environment; secrets are stored only encrypted (AES-256-GCM). */
export const environmentVariables = pgTable(
  "environment_variables",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    environmentId: bigint("environment_id", { mode: "number" }).notNull().references(() => environments.id),
    name: text("name").notNull(),
    secret: boolean("secret").notNull().default(false),
    /** Plain value for non-secrets, "v1:<base64 iv|tag|ciphertext>" for secrets. */
    value: text("value").notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("environment_variables_name").on(t.environmentId, t.name)],
);

export const apiConsumers = pgTable(
  "api_consumers",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    environmentId: bigint("environment_id", { mode: "number" }).notNull().references(() => environments.id),
    name: text("name").notNull(),
    createdAt: created(),
  },
  (t) => [uniqueIndex("api_consumers_name").on(t.environmentId, t.name)],
);

export const apiKeys = pgTable("api_keys", {
  id: bigserial("id", { mode: "number" }).primaryKey(),
  consumerId: bigint("consumer_id", { mode: "number" }).notNull().references(() => apiConsumers.id, { onDelete: "cascade" }),
  /** SHA-256 of the key; the key itself is shown once and never stored. */
  keyHash: text("key_hash").notNull().unique(),
  createdAt: created(),
});

/** Hashes of revoked keys: every gateway process refuses them, also one that missed the announcement. */
export const revokedKeys = pgTable("revoked_keys", {
  keyHash: text("key_hash").primaryKey(),
  revokedAt: timestamp("revoked_at", { withTimezone: true }).notNull().defaultNow(),
  /** The environment the key opened: once it is torn down no release of it is served, and the row can go. */
  environmentId: bigint("environment_id", { mode: "number" }),
});

export const jobs = pgTable(
  "jobs",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    kind: text("kind").notNull(),
    /** Jobs of one environment never run at the same time; a newer queued one supersedes an older. */
    environmentKey: text("environment_key").notNull(),
    commitOrder: bigint("commit_order", { mode: "number" }).notNull().default(0),
    payload: jsonb("payload").notNull(),
    status: text("status", { enum: ["queued", "running", "done", "failed", "superseded"] }).notNull().default("queued"),
    attempts: integer("attempts").notNull().default(0),
    maxAttempts: integer("max_attempts").notNull().default(5),
    runAfter: timestamp("run_after", { withTimezone: true }).notNull().defaultNow(),
    leaseOwner: text("lease_owner"),
    leaseExpiresAt: timestamp("lease_expires_at", { withTimezone: true }),
    lastError: text("last_error"),
    deliveryId: text("delivery_id"),
    /** The commit the job is for: a head already queued or running is not queued twice. */
    headSha: text("head_sha"),
    createdAt: created(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("jobs_claimable").on(t.status, t.runAfter, t.id),
    index("jobs_environment").on(t.environmentKey, t.status),
    // The guarantee behind "never two jobs of one environment at once", whatever the race.
    uniqueIndex("jobs_one_running_per_environment").on(t.environmentKey).where(sql`status = 'running'`),
    index("jobs_environment_head").on(t.environmentKey, t.headSha),
  ],
);

/**
 * A breaking change approved on a pull request, keyed by its fingerprint: a later push keeps the
 * approval while the change stays the same; a new breaking change needs its own.
 */
export const approvals = pgTable(
  "approvals",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    repositoryId: bigint("repository_id", { mode: "number" }).notNull().references(() => repositories.id),
    pullRequest: integer("pull_request").notNull(),
    fingerprint: text("fingerprint").notNull(),
    approvedBy: text("approved_by").notNull(),
    headSha: text("head_sha").notNull(),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("approvals_change").on(t.repositoryId, t.pullRequest, t.fingerprint), index("approvals_fingerprint").on(t.repositoryId, t.fingerprint)],
);

/** What a check said about a commit (validate, changes, preview): the Git mode's publisher, the dashboard's source. */
export const checkResults = pgTable(
  "check_results",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    repositoryId: bigint("repository_id", { mode: "number" }).notNull().references(() => repositories.id),
    environmentId: bigint("environment_id", { mode: "number" }).references(() => environments.id),
    commitSha: text("commit_sha").notNull(),
    name: text("name").notNull(),
    conclusion: text("conclusion").notNull(),
    title: text("title").notNull(),
    summary: text("summary").notNull(),
    details: jsonb("details").notNull().default(sql`'{}'::jsonb`),
    createdAt: created(),
  },
  (t) => [index("check_results_commit").on(t.repositoryId, t.commitSha, t.name, t.createdAt)],
);

/**
 * What the catch-up sweep last decided for one environment and head: an answer given (served,
 * invalid config, no config, not deployable) is never asked again; a failed production deploy is
 * retried a few times with backoff; a preview removed for idling stays removed until a new head.
 */
export const sweepDecisions = pgTable(
  "sweep_decisions",
  {
    environmentKey: text("environment_key").notNull(),
    headSha: text("head_sha").notNull(),
    decision: text("decision").notNull(),
    retries: integer("retries").notNull().default(0),
    retryAfter: timestamp("retry_after", { withTimezone: true }),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ name: "sweep_decisions_pkey", columns: [t.environmentKey, t.headSha] })],
);

/**
 * Calls the gateway answered, per hour, environment label, route ("METHOD /template"), consumer
 * and status class; `operation` is the operationId (or the route). Gateway processes add to a row.
 */
export const usage = pgTable(
  "usage",
  {
    environment: text("environment").notNull(),
    hour: timestamp("hour", { withTimezone: true }).notNull(),
    route: text("route").notNull(),
    operation: text("operation").notNull(),
    consumer: text("consumer").notNull(),
    statusClass: text("status_class").notNull(),
    calls: bigint("calls", { mode: "number" }).notNull(),
  },
  (t) => [primaryKey({ name: "usage_pkey", columns: [t.environment, t.hour, t.route, t.consumer, t.statusClass] }), index("usage_hour").on(t.hour)],
);

/**
 * What one data-plane engine instance (an nginx beside its gateway agent) serves per environment
 * label: the release hash it loaded, or the engine's own message when it refused a configuration.
 */
export const engineInstances = pgTable(
  "engine_instances",
  {
    instanceId: text("instance_id").notNull(),
    engine: text("engine").notNull(),
    environment: text("environment").notNull(),
    releaseHash: text("release_hash"),
    lastError: text("last_error"),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ name: "engine_instances_pkey", columns: [t.instanceId, t.environment] }), index("engine_instances_environment").on(t.environment)],
);
