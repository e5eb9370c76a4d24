/** The operator's surface: one set of operations behind the JSON admin API, the CLI and the dashboard. */
export * from "./types.js";
export { Operations, type AdminDeps, type GitView } from "./operations.js";
export { createAdminApi, hasAdminToken, type AdminApiOptions } from "./api.js";
export { adminToken } from "./token.js";
