/** State that survives: PostgreSQL or embedded PGlite, migrations, queries, encrypted secrets. */
export { openStore, rowsOf, StoreError, LOCK_FILE, type Store, type StoreOptions, type Db } from "./db.js";
export { migrateStore, MIGRATIONS_FOLDER } from "./migrate.js";
export { SecretKeyError, secretKeyFrom, encryptSecret, decryptSecret, maskSecret, type SecretErrorCode } from "./secrets.js";
export * from "./queries.js";
export * as tables from "./schema.js";
export { StoreRecords, type Naming, type EnvironmentRow } from "./records.js";
export { StorePublisher } from "./publisher.js";
export { pruneOlderThan, pruneRevokedKeysOfRetiredEnvironments, pruneUsageOlderThan, type Pruned } from "./retention.js";
export { addUsage, usageReader, usageTotals, type UsageBucket, type UsageTotal, type UsageQuery } from "./usage.js";
export { saveGitHubApp, loadGitHubApp, forgetGitHubApp, createManifestState, takeManifestState, MANIFEST_STATE_TTL_MINUTES, type StoredGitHubApp } from "./github-app.js";
export { SweepMemory, type RememberedRow } from "./sweep-memory.js";
export { reportEngine, forgetEngine, engineReports, type EngineReport } from "./engine-instances.js";
