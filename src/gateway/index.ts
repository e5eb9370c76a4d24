/** The runtime: compile a config into a release; serve many environments' releases on one server. */
export { compileRelease, DEFAULT_BODY_LIMITS, type Release, type EnvironmentSettings, type GatewayServices, type CompiledRoute } from "./release.js";
export { GatewayServer, type GatewayServerOptions, type AccessLogEntry } from "./server.js";
export { ReleaseError, type ReleaseErrorCode } from "./errors.js";
export { environmentLabel, labelOfHost } from "./host-names.js";
export { Upstreams, DEFAULT_TIMEOUTS, type UpstreamTimeouts } from "./upstreams.js";
export { MemoryRateLimitStore, RedisRateLimitStore, type RateLimitStore } from "./policies/rate-limit-store.js";
export { hashKey } from "./policies/api-key.js";
export { normalizePath } from "./path-match.js";
export { GatewayDeployer } from "./deployer.js";
export { startCluster, type ClusterOptions, type ClusterHandle } from "./cluster.js";
export { AllowListError, classifyAddress, EgressPolicy, EGRESS_SETTING, hostPortOf, parseAllowList, type HostRule } from "./egress.js";
export { UsageCounter, ANONYMOUS, DEFAULT_MAX_USAGE_ROWS, HOUR_MS, statusClassOf, type UsageRow, type StatusClass, type CountedRoute } from "./usage.js";
