/** The GitHub App: webhooks become jobs; jobs run the pipeline with Octokit adapters for its ports. */
export { gitwayApp, JOB_KIND, prKey, branchKey, type GitHubWork, type Enqueue, type QueuedWork } from "./events.js";
export { runGitHubWork, matchesBranch, safeReason, type GitHubWorkDeps, type JobContext } from "./work.js";
export { GitHubPublisher, CHECK_PREFIX } from "./publisher.js";
export { GitHubWriters, InstallationWriter } from "./writer.js";
export { WritePacing, WRITE_INTERVAL_MS } from "./write-pacing.js";
export { GitHubSource, SourceError } from "./source.js";
export type { Octokit } from "./octokit.js";
export { boundRequests, outsideJobSignal, rateLimitReset, RateLimitedError, RATE_LIMIT_WAIT_IN_PLACE_SECONDS, waitsOutRateLimit, withJobSignal } from "./request-limits.js";
export { appManifest, apiUrlFor, convertManifestCode, webUrlOf, ManifestError, GITHUB_API, MANIFEST_CALLBACK_PATH, WEBHOOK_PATH, type ConvertedApp } from "./manifest.js";
